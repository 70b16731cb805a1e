package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

// Benchmarks go through a real httptest server, client included, so ns/op and allocs/op
// are a whole request as a browser on loopback sees it, not the handler alone.

// benchSite is the demo agency grown to a number of sub-accounts, served by httptest, with
// no sign-in rate limit.
type benchSite struct {
	url      string
	bluebird int64
}

func newBenchSite(b *testing.B, subAccounts int) *benchSite {
	b.Helper()
	ctx := context.Background()
	store := storetest.Open(b)
	if _, err := store.SeedDemo(ctx, demoPassword); err != nil {
		b.Fatal(err)
	}
	growAgency(b, store, subAccounts, 30)
	cfg := testConfig(store)
	cfg.LoginLimits = handlers.LoginLimits{PerIP: 1 << 30, PerEmail: 1 << 30}
	app, err := handlers.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(app.Routes())
	b.Cleanup(srv.Close)
	agency, err := store.AgencyByName(ctx, models.DemoAgencyName)
	if err != nil {
		b.Fatal(err)
	}
	owner, err := store.UserByEmail(ctx, "owner@northwind.test")
	if err != nil {
		b.Fatal(err)
	}
	p, err := store.LoadPrincipal(ctx, owner.ID)
	if err != nil {
		b.Fatal(err)
	}
	found, err := store.SearchSubAccounts(ctx, p, "Bluebird Bakery", 1)
	if err != nil || len(found.Results) != 1 || found.Results[0].AgencyID != agency.ID {
		b.Fatalf("Bluebird Bakery: %+v, %v", found, err)
	}
	return &benchSite{url: srv.URL, bluebird: found.Results[0].ID}
}

// client returns an HTTP client that does not follow redirects, signed in as email unless
// email is empty.
func (s *benchSite) client(b *testing.B, email string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if email != "" {
		if got := s.post(b, c, "/login", url.Values{"email": {email}, "password": {demoPassword}}); got != http.StatusSeeOther {
			b.Fatalf("sign in as %s: %d", email, got)
		}
	}
	return c
}

func (s *benchSite) get(b *testing.B, c *http.Client, path string, htmx bool) int {
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return s.do(b, c, req)
}

func (s *benchSite) post(b *testing.B, c *http.Client, path string, form url.Values) int {
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(b, c, req)
}

func (s *benchSite) do(b *testing.B, c *http.Client, req *http.Request) int {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// benchmarkGet measures GET path, signed in as the agency owner, on 1,000 sub-accounts.
func benchmarkGet(b *testing.B, path string, htmx bool) {
	s := newBenchSite(b, 1000)
	c := s.client(b, "owner@northwind.test")
	path = strings.ReplaceAll(path, "{bluebird}", fmt.Sprint(s.bluebird))
	if got := s.get(b, c, path, htmx); got != http.StatusOK {
		b.Fatalf("GET %s: %d", path, got)
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := s.get(b, c, path, htmx); got != http.StatusOK {
			b.Fatalf("GET %s: %d", path, got)
		}
	}
}

func BenchmarkOverviewPage(b *testing.B) { benchmarkGet(b, "/agency", false) }

func BenchmarkConnectionsPage(b *testing.B) {
	benchmarkGet(b, "/accounts/{bluebird}/connections", false)
}

func BenchmarkSwitcherSearch(b *testing.B) { benchmarkGet(b, "/switch?q=client%2001", true) }

func BenchmarkLoginPage(b *testing.B) {
	s := newBenchSite(b, 3)
	c := s.client(b, "")
	b.ReportAllocs()
	for b.Loop() {
		if got := s.get(b, c, "/login", false); got != http.StatusOK {
			b.Fatalf("GET /login: %d", got)
		}
	}
}

// BenchmarkLogin is a successful sign-in: one argon2id check, one write, a new session.
func BenchmarkLogin(b *testing.B) {
	s := newBenchSite(b, 3)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}}
	b.ReportAllocs()
	for b.Loop() {
		if got := s.post(b, c, "/login", form); got != http.StatusSeeOther {
			b.Fatalf("POST /login: %d", got)
		}
	}
}

// benchmarkConnectionsPage measures the connections page of a sub-account with assets
// assets over 4 connections, as its account admin sees it (every control shown), on
// SQLite or, with dsn, PostgreSQL; it reports the statements each page runs.
func benchmarkConnectionsPage(b *testing.B, dsn string, assets int) {
	s, counter := newCountingSite(b, dsn)
	bakery := s.subs["Bluebird Bakery"]
	addConnections(b, s.store, bakery.ID, 4, assets/4)
	bs := &benchSite{url: s.server.URL, bluebird: bakery.ID}
	c := bs.client(b, "admin@bluebird.test")
	path := accountPath(bakery, "/connections")
	if got := bs.get(b, c, path, false); got != http.StatusOK {
		b.Fatalf("GET %s: %d", path, got)
	}
	b.ReportAllocs()
	n := counter.count(func() {
		for b.Loop() {
			if got := bs.get(b, c, path, false); got != http.StatusOK {
				b.Fatalf("GET %s: %d", path, got)
			}
		}
	})
	b.ReportMetric(float64(n)/float64(b.N), "stmts/op")
}

// BenchmarkConnectionsPageAssets is the connections page with 40 and 400 assets, on SQLite
// and, when TEST_POSTGRES_DSN is set, PostgreSQL.
func BenchmarkConnectionsPageAssets(b *testing.B) {
	dbs := []struct{ name, dsn string }{{"sqlite", ""}}
	if dsn := os.Getenv(storetest.EnvPostgres); dsn != "" {
		dbs = append(dbs, struct{ name, dsn string }{"postgres", dsn})
	}
	for _, db := range dbs {
		for _, n := range []int{40, 400} {
			b.Run(fmt.Sprintf("%s/assets=%d", db.name, n), func(b *testing.B) { benchmarkConnectionsPage(b, db.dsn, n) })
		}
	}
}
