package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models/storetest"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRequestLogsNameTheUserButNeverQueriesOrPasswords(t *testing.T) {
	t.Parallel()
	store := storetest.Open(t)
	if _, err := store.SeedDemo(context.Background(), demoPassword); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cfg := testConfig(store)
	cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	app, err := handlers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Routes())
	defer srv.Close()
	s := &site{t: t, store: store, server: srv}
	b := s.browser()
	b.login("owner@northwind.test")
	b.get("/agency?code=SECRET-OAUTH-CODE&state=SECRET-STATE")
	b.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {"wrong-password-123"}})

	out := logs.String()
	for _, secret := range []string{"SECRET-OAUTH-CODE", "SECRET-STATE", demoPassword, "wrong-password-123"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %q:\n%s", secret, out)
		}
	}
	var agencyLine string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "path=/agency") {
			agencyLine = line
		}
	}
	if !strings.Contains(agencyLine, "user_id=") || !strings.Contains(agencyLine, "request_id=") || !strings.Contains(agencyLine, "status=200") {
		t.Errorf("the request line does not name the user, request and status: %q", agencyLine)
	}
}
