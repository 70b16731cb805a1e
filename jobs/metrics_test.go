package jobs_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relink/relink/jobs"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

func TestMetricsCountWithoutNames(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t)
	ag, err := store.CreateAgency(ctx, "Secret Agency Name")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := store.CreateSubAccount(ctx, ag.ID, "Bluebird Bakery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateConnection(ctx, sub.ID, models.Connection{Provider: "meta", ExternalUserID: "10000000000001",
		ExternalUserName: "Avery Person", AccessToken: []byte("EAAB-not-a-real-token")}); err != nil {
		t.Fatal(err)
	}
	m := jobs.NewMetrics(store)
	m.Checked("meta", "ok")
	m.Renewal("linkedin", true)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{`relink_connections{provider="meta",status="healthy"} 1`, `relink_health_checks_total{outcome="ok",provider="meta"} 1`,
		`relink_token_renewals_total{provider="linkedin",result="ok"} 1`, `relink_jobs{state="available"} 0`, `relink_metrics_scrape_error 0`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{"EAAB", "Avery", "Bluebird", "Secret Agency", "@"} {
		if strings.Contains(text, secret) {
			t.Errorf("metrics show %q", secret)
		}
	}
}
