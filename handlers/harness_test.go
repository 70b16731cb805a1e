package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/handlers"
	"github.com/relink/relink/jobs"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/notify"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
	"github.com/relink/relink/static"
)

const demoPassword = "relink-demo-password"

// site is Relink served by httptest on a fresh database with the demo agency, plus a rival
// agency whose names must never leak to Northwind's users.
type site struct {
	t      *testing.T
	store  *models.Store
	server *httptest.Server
	subs   map[string]models.SubAccountRef
	// sandbox is the provider sandbox of a site built with siteOptions.sandbox, and conns
	// the connection service over it.
	sandbox *sandbox.Sandbox
	conns   *connection.Service
}

// rivalSubAccount belongs to another agency than the demo one.
const rivalSubAccount = "Secret Rival Client"

// testConfig is the web layer's configuration in tests: a fixed session key, no log output.
func testConfig(store *models.Store) handlers.Config {
	return handlers.Config{
		Store:       store,
		SessionKeys: [][]byte{[]byte(strings.Repeat("k", 64))},
		Log:         testLogger(),
		Static:      static.Files,
	}
}

// testLogger discards the app's log unless RELINK_TEST_LOG is set, to debug a failing test.
func testLogger() *slog.Logger {
	if os.Getenv("RELINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newSite(t *testing.T, limits ...handlers.LoginLimits) *site {
	t.Helper()
	var o siteOptions
	if len(limits) > 0 {
		o.limits = limits[0]
	}
	return buildSite(t, o)
}

// siteOptions vary the test site.
type siteOptions struct {
	limits handlers.LoginLimits
	// sandbox mounts the provider sandbox and wires the connection service to it.
	sandbox bool
	// openStore opens the store on the sandbox's clock; storetest.Open when nil.
	openStore func(tb testing.TB, clock *sandbox.Clock) *models.Store
	// log receives the app's and the connection service's log (text lines, debug level
	// and up); testLogger's when nil.
	log io.Writer
	// providerTransport carries the providers' calls to the sandbox; the default when nil.
	providerTransport http.RoundTripper
}

// buildSite serves Relink on a fresh database with the demo agency and a rival agency; tb
// may be a benchmark, whose site has no t and so no browser.
func buildSite(tb testing.TB, o siteOptions) *site {
	tb.Helper()
	ctx := context.Background()
	clock := sandbox.NewFrozenClock(sandboxtest.Epoch)
	var storeOpts storetest.Options
	if o.sandbox {
		storeOpts.Clock = clock
	}
	var store *models.Store
	if o.openStore != nil {
		store = o.openStore(tb, clock)
	} else {
		store = storetest.Open(tb, storeOpts)
	}
	if _, err := store.SeedDemo(ctx, demoPassword); err != nil {
		tb.Fatal(err)
	}
	rival, err := store.CreateAgency(ctx, "Rival Agency")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.CreateSubAccount(ctx, rival.ID, rivalSubAccount); err != nil {
		tb.Fatal(err)
	}
	cfg := testConfig(store)
	cfg.LoginLimits = o.limits
	if o.log != nil {
		w := o.log
		if os.Getenv("RELINK_TEST_LOG") != "" {
			w = io.MultiWriter(w, os.Stderr)
		}
		cfg.Log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// The server starts before the app exists: the providers need its URL.
	var app http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	tb.Cleanup(srv.Close)
	var sb *sandbox.Sandbox
	if o.sandbox {
		sb = sandbox.New(sandbox.Options{Clock: clock, AppBaseURL: srv.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			DeauthorizeURL: srv.URL + handlers.MetaDeauthorizePath})
		cfg.Extra = map[string]http.Handler{sb.Prefix(): sb}
		_, cfg.MetaAppSecret = sb.MetaApp()
		// Emails stay in the outbox, readable at /dev/mail, as in `go run ./cmd/web`.
		base, err := url.Parse(srv.URL)
		if err != nil {
			tb.Fatal(err)
		}
		outbox, err := notify.New(notify.Config{Store: store, BaseURL: base, Log: cfg.Log})
		if err != nil {
			tb.Fatal(err)
		}
		cfg.DevMail = true
		cfg.Metrics = jobs.NewMetrics(store).Handler()
		cfg.Connections, cfg.Flows = testConnections(tb, store, sb, srv.URL, cfg.Log, o.providerTransport, outbox)
	}
	a, err := handlers.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	app = a.Routes()
	t, _ := tb.(*testing.T)
	s := &site{t: t, store: store, server: srv, subs: map[string]models.SubAccountRef{}, sandbox: sb, conns: cfg.Connections}
	support, err := store.UserByEmail(ctx, "support@relink.test")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := store.LoadPrincipal(ctx, support.ID)
	if err != nil {
		tb.Fatal(err)
	}
	all, err := store.SearchSubAccounts(ctx, p, "", 100)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range all.Results {
		s.subs[r.Name] = r
	}
	return s
}

// browser is one visitor with a cookie jar; it does not follow redirects, so tests see them.
type browser struct {
	t    *testing.T
	site *site
	c    *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, site: s, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its parsed HTML.
type page struct {
	// path is the URL path the page was read from, when a helper needs it later.
	path   string
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

// location is the redirect target of the response, as a path.
func (p page) location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(raw), doc: doc}
}

func (b *browser) get(path string, headers ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.site.server.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.site.server.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// login signs in and fails the test unless it worked.
func (b *browser) login(email string) {
	b.t.Helper()
	p := b.post("/login", url.Values{"email": {email}, "password": {demoPassword}})
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d, want 303; body: %s", email, p.status, p.body)
	}
}

// signedIn returns a browser signed in as email.
func (s *site) signedIn(email string) *browser {
	b := s.browser()
	b.login(email)
	return b
}
