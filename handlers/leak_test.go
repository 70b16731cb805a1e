package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers/sandbox"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secrets are the values that must never leave the provider calls: every token the
// sandbox handed the app or the app sent back, the app secrets and the appsecret_proofs.
type secrets struct {
	mu     sync.Mutex
	values map[string]string // value → what it is
}

func (s *secrets) add(value, what string) {
	value = strings.TrimSpace(value)
	if len(value) < 8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]string{}
	}
	if _, ok := s.values[value]; !ok {
		s.values[value] = what
	}
}

func (s *secrets) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.values))
	for k, v := range s.values {
		out[k] = v
	}
	return out
}

// secretParams are the request parameters of the provider calls that carry a token, a
// proof or the app secret.
var secretParams = []string{"access_token", "input_token", "fb_exchange_token", "refresh_token", "token",
	"appsecret_proof", "client_secret"}

// providerWire is the providers' transport: it reads every token off the wire, in both
// directions, into secrets.
type providerWire struct {
	base    http.RoundTripper
	secrets *secrets
}

func (w *providerWire) RoundTrip(req *http.Request) (*http.Response, error) {
	what := req.Method + " " + req.URL.Path
	for _, k := range secretParams {
		for _, v := range req.URL.Query()[k] {
			w.secrets.add(v, "request parameter "+k+" of "+what)
		}
	}
	if req.Body != nil && req.Body != http.NoBody {
		raw, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
		if form, err := url.ParseQuery(string(raw)); err == nil {
			for _, k := range secretParams {
				for _, v := range form[k] {
					w.secrets.add(v, "form field "+k+" of "+what)
				}
			}
		}
	}
	if h := req.Header.Get("Authorization"); h != "" {
		if _, tok, ok := strings.Cut(h, " "); ok {
			if strings.HasPrefix(h, "Basic ") {
				if dec, err := base64.StdEncoding.DecodeString(tok); err == nil {
					_, pass, _ := strings.Cut(string(dec), ":")
					w.secrets.add(pass, "basic auth password of "+what)
				}
			} else {
				w.secrets.add(tok, "Authorization header of "+what)
			}
		}
	}
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	var doc any
	if json.Unmarshal(raw, &doc) == nil {
		collectTokens(doc, "response of "+what, w.secrets)
	}
	return resp, nil
}

// collectTokens adds every string under a token key anywhere in a JSON document.
func collectTokens(v any, what string, s *secrets) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if str, ok := x.(string); ok && (k == "access_token" || k == "refresh_token" || k == "token") {
				s.add(str, k+" in the "+what)
				continue
			}
			collectTokens(x, what, s)
		}
	case []any:
		for _, x := range v {
			collectTokens(x, what, s)
		}
	}
}

// record is one thing the app said, somewhere someone could read it.
type record struct {
	where string
	text  string
}

// haystack is everything the app said: responses, log lines, database rows.
type haystack struct {
	mu      sync.Mutex
	records []record
}

func (h *haystack) add(where, text string) {
	if text == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, record{where, text})
}

func (h *haystack) all() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// appRecorder is a browser's transport: every answer of the app (not of the sandbox's
// dialog) goes into the haystack, body and every header, with the session cookie decoded.
type appRecorder struct {
	base http.RoundTripper
	host string
	hay  *haystack
}

func (a *appRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(req)
	if err != nil || req.URL.Host != a.host || strings.HasPrefix(req.URL.Path, "/sandbox") {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	what := fmt.Sprintf("%s %s (%d)", req.Method, req.URL.Path, resp.StatusCode)
	a.hay.add("body of "+what, string(raw))
	for name, values := range resp.Header {
		for _, v := range values {
			a.hay.add("header "+name+" of "+what, v)
		}
	}
	for _, c := range resp.Cookies() {
		a.hay.add("cookie "+c.Name+" of "+what+", decoded", decodeCookie(c.Value))
	}
	return resp, nil
}

// decodeCookie undoes gorilla's securecookie encoding of a signed (not encrypted) cookie,
// base64 of "date|base64 value|mac", so that a flash message's text can be searched.
func decodeCookie(v string) string {
	outer, err := base64.URLEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	parts := bytes.SplitN(outer, []byte("|"), 3)
	if len(parts) < 2 {
		return string(outer)
	}
	inner, err := base64.URLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return string(outer)
	}
	return string(inner)
}

// dumpTables adds every row of every table of the store, each column as text (blobs as
// their raw bytes), to the haystack, labelled with step.
func dumpTables(t *testing.T, store *models.Store, hay *haystack, step string) {
	t.Helper()
	ctx := context.Background()
	err := store.Tx(ctx, func(tx *models.Store) error {
		db := tx.SQLTx()
		if db == nil {
			return fmt.Errorf("no SQL transaction")
		}
		list := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
		if store.Dialect() == models.DialectPostgres {
			list = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
		}
		names, err := queryStrings(ctx, db, list)
		if err != nil {
			return err
		}
		for _, want := range []string{"connections", "assets", "connection_events", "oauth_flows"} {
			if !slices.Contains(names, want) {
				return fmt.Errorf("no table %s among %v", want, names)
			}
		}
		for _, name := range names {
			if err := dumpTable(ctx, db, name, hay, step); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("dump the database: %v", err)
	}
}

func queryStrings(ctx context.Context, db *sql.Tx, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func dumpTable(ctx context.Context, db *sql.Tx, table string, hay *haystack, step string) error {
	rows, err := db.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return fmt.Errorf("dump %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			var text string
			switch v := v.(type) {
			case nil:
				continue
			case []byte:
				text = string(v)
			default:
				text = fmt.Sprint(v)
			}
			where := fmt.Sprintf("database %s.%s, row %d, %s", table, cols[i], n, step)
			hay.add(where, text)
			hay.add(where+", gothic's values unzipped", gothicValues(text))
		}
	}
	return rows.Err()
}

// gothicValues reads a flow's goth_session as oauth keeps it, JSON of gzip bytes per key,
// and returns the values unzipped: a token in them would not show in the column's text.
func gothicValues(text string) string {
	var values map[string][]byte
	if json.Unmarshal([]byte(text), &values) != nil {
		return ""
	}
	var out strings.Builder
	for k, v := range values {
		out.WriteString(k + "=")
		if zr, err := gzip.NewReader(bytes.NewReader(v)); err == nil {
			raw, _ := io.ReadAll(zr)
			out.Write(raw)
		} else {
			out.Write(v)
		}
		out.WriteString("\n")
	}
	return out.String()
}

// leakSite is a sandbox site whose every output is recorded, with the secrets to look for.
type leakSite struct {
	*site
	log     *syncBuffer
	secrets *secrets
	hay     *haystack
}

func newLeakSite(t *testing.T) *leakSite {
	t.Helper()
	l := &leakSite{log: &syncBuffer{}, secrets: &secrets{}, hay: &haystack{}}
	l.site = buildSite(t, siteOptions{sandbox: true, limits: handlers.LoginLimits{PerIP: 1 << 30, PerEmail: 1 << 30}, log: l.log,
		providerTransport: &providerWire{base: http.DefaultTransport, secrets: l.secrets}})
	return l
}

// browser is a browser whose answers from the app are recorded.
func (l *leakSite) browser(email string) *browser {
	b := l.site.browser()
	u, _ := url.Parse(l.server.URL)
	b.c.Transport = &appRecorder{base: http.DefaultTransport, host: u.Host, hay: l.hay}
	b.login(email)
	return b
}

// snapshot records the database as it is after step.
func (l *leakSite) snapshot(step string) { dumpTables(l.t, l.store, l.hay, "after "+step) }

// leaks lists where any secret appears in the haystack, naming the secret by what it is.
func leaks(hay []record, secrets map[string]string) []string {
	var out []string
	for value, what := range secrets {
		forms := []string{value, url.QueryEscape(value), url.PathEscape(value)}
		for _, r := range hay {
			for _, f := range forms {
				if strings.Contains(r.text, f) {
					out = append(out, fmt.Sprintf("%s (%s…) appears in %s", what, value[:6], r.where))
					break
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestLeakDetectorFindsATokenAnywhere(t *testing.T) {
	t.Parallel()
	s := map[string]string{"EAALsecretsecretsecret": "a token", "app|secret": "an app token"}
	hay := []record{{"a page", "<p>token EAALsecretsecretsecret</p>"}, {"a URL", "/x?t=app%7Csecret"}, {"clean", "nothing"}}
	got := leaks(hay, s)
	if len(got) != 2 || !strings.Contains(got[0], "a page") || !strings.Contains(got[1], "a URL") {
		t.Fatalf("leaks found %q", got)
	}
	var sc secrets
	collectTokens(map[string]any{"data": []any{map[string]any{"id": "1", "access_token": "EAAPpagetoken"}}}, "x", &sc)
	if _, ok := sc.snapshot()["EAAPpagetoken"]; !ok {
		t.Fatal("a Page token nested in a list was not collected")
	}
}

// TestNoTokenLeaks drives every connection flow, including failures, and searches every
// page, fragment, redirect, header, cookie, log line and database row for the tokens the
// sandbox issued, the app secrets and the appsecret_proofs: none may appear.
func TestNoTokenLeaks(t *testing.T) {
	t.Parallel()
	l := newLeakSite(t)
	bakery := l.subs["Bluebird Bakery"]
	b := l.browser("admin@bluebird.test")
	inject := func(provider, user, fault string, extra ...string) {
		t.Helper()
		req := sandbox.FaultRequest{Provider: provider, User: user, Fault: fault}
		if len(extra) > 0 {
			req.Mode = extra[0]
		}
		if err := l.sandbox.Inject(req); err != nil {
			t.Fatal(err)
		}
	}
	clear := func(provider, user string) { inject(provider, user, sandbox.FaultClear) }
	// follow reads the page a plain POST redirects to, where its flash shows.
	follow := func(p page) page {
		t.Helper()
		if p.status == http.StatusSeeOther && strings.HasPrefix(p.location(), "/") {
			return b.get(p.location())
		}
		return p
	}
	submitChecked := func(picker page) page {
		t.Helper()
		form := url.Values{}
		picker.doc.Find(`input[name="asset"][checked]`).Each(func(_ int, sel *goquery.Selection) { form.Add("asset", sel.AttrOr("value", "")) })
		done := b.post(picker.path, form)
		if done.status != http.StatusSeeOther {
			t.Fatalf("picker submit: %d %s", done.status, done.body)
		}
		return follow(done)
	}
	// reauth runs Reauthenticate through the dialog and saves the picker's choice; it
	// reports whether the callback led to the picker (TestReauthenticateMissingPermission
	// checks that it does: here only what is said on the way matters).
	reauth := func(sub models.SubAccountRef, connID, user string) bool {
		t.Helper()
		start := b.post(accountPath(sub, "/connections/"+connID+"/reauthenticate"), nil)
		back := b.get(b.dialog(start, user))
		if back.status != http.StatusSeeOther || !strings.Contains(back.location(), "/connections/flows/") {
			follow(back)
			return false
		}
		picker := b.get(back.location())
		picker.path = back.location()
		l.snapshot("reauthenticate callback of " + connID)
		submitChecked(picker)
		return true
	}
	mustReauth := func(sub models.SubAccountRef, connID, user string) {
		t.Helper()
		if !reauth(sub, connID, user) {
			t.Fatalf("reauthenticating connection %s did not reach the picker", connID)
		}
	}
	ids := func(p page, kind string) (connID, assetID string) {
		t.Helper()
		card := p.doc.Find(`[data-testid="connection"]`).First()
		connID = card.AttrOr("data-connection-id", "")
		assetID = p.doc.Find(`[data-testid="asset-row"][data-kind="`+kind+`"]`).First().AttrOr("data-asset-id", "")
		if connID == "" || assetID == "" {
			t.Fatalf("no connection or %s on the page:\n%s", kind, p.body)
		}
		return connID, assetID
	}
	refreshEveryWay := func(sub models.SubAccountRef, connID, assetID string) {
		t.Helper()
		b.post(accountPath(sub, "/assets/"+assetID+"/refresh"), nil, "HX-Request", "true")
		follow(b.post(accountPath(sub, "/assets/"+assetID+"/refresh"), nil))
		b.post(accountPath(sub, "/connections/"+connID+"/refresh"), nil, "HX-Request", "true")
		follow(b.post(accountPath(sub, "/connections/"+connID+"/refresh"), nil))
		b.post(accountPath(sub, "/connections/"+connID+"/check"), nil, "HX-Request", "true")
		follow(b.post(accountPath(sub, "/connections/"+connID+"/check"), nil))
	}

	// Meta: connect, with the picker waiting, then saved.
	picker := b.connect(bakery, "meta", avery)
	l.snapshot("Meta callback, picker waiting")
	submitChecked(picker)
	l.snapshot("Meta connected")
	conns := b.get(accountPath(bakery, "/connections"))
	metaConn, adAccount := ids(conns, "ad_account")
	_, pageAsset := ids(conns, "page")
	b.post(accountPath(bakery, "/assets/"+pageAsset+"/refresh"), nil, "HX-Request", "true")
	refreshEveryWay(bakery, metaConn, adAccount)
	l.snapshot("Meta refreshes")

	// An outage, answered with 503 and with reset connections.
	for _, mode := range []string{sandbox.ModeUnavailable, sandbox.ModeReset} {
		inject("meta", avery, "provider_unavailable", mode)
		refreshEveryWay(bakery, metaConn, adAccount)
		b.get(accountPath(bakery, "/connections"))
		clear("meta", avery)
		l.snapshot("Meta outage " + mode)
	}
	refreshEveryWay(bakery, metaConn, adAccount) // degraded back to healthy

	// A missing permission, repaired by reauthenticating (Meta's rerequest).
	inject("meta", avery, "missing_permission")
	refreshEveryWay(bakery, metaConn, adAccount)
	b.get(accountPath(bakery, "/connections"))
	l.snapshot("Meta missing permission")
	reauth(bakery, metaConn, avery) // with auth_type=rerequest
	clear("meta", avery)
	refreshEveryWay(bakery, metaConn, adAccount)
	mustReauth(bakery, metaConn, avery)

	// A changed password kills the token: refresh says so, reauthenticate repairs it.
	inject("meta", avery, "password_changed")
	refreshEveryWay(bakery, metaConn, adAccount)
	b.get(accountPath(bakery, "/connections"))
	l.snapshot("Meta password changed")
	mustReauth(bakery, metaConn, avery)
	refreshEveryWay(bakery, metaConn, adAccount)

	// Every other fault the sandbox knows, each cleared and recovered from after.
	everyFault := func(provider, user string, sub models.SubAccountRef, connID, assetID string) {
		t.Helper()
		ext := b.get(accountPath(sub, "/connections")).doc.Find(`[data-asset-id="` + assetID + `"] code.ext-id`).Text()
		for _, name := range sandbox.FaultNames() {
			req := sandbox.FaultRequest{Provider: provider, User: user, Fault: name}
			switch name {
			case "lost_asset_role", sandbox.FaultAccountDisabled, sandbox.FaultTermsRevoked:
				req.Asset = ext
			}
			if err := l.sandbox.Inject(req); err != nil {
				continue // a fault this provider does not have
			}
			refreshEveryWay(sub, connID, assetID)
			clear(provider, user)
			b.post(accountPath(sub, "/connections/"+connID+"/refresh"), nil)
			st := b.get(accountPath(sub, "/connections")).doc.Find(`[data-connection-id="`+connID+`"]`).AttrOr("data-status", "")
			if st != string(models.StatusHealthy) {
				mustReauth(sub, connID, user)
			}
		}
		l.snapshot("every " + provider + " fault")
	}
	everyFault("meta", avery, bakery, metaConn, adAccount)

	// Choose assets: the form, a smaller choice, an empty one.
	choices := b.get(accountPath(bakery, "/connections/"+metaConn+"/assets"))
	form := url.Values{}
	choices.doc.Find(`input[name="asset"]`).EachWithBreak(func(i int, sel *goquery.Selection) bool {
		form.Add("asset", sel.AttrOr("value", ""))
		return i < 2
	})
	follow(b.post(accountPath(bakery, "/connections/"+metaConn+"/assets"), form))
	b.post(accountPath(bakery, "/connections/"+metaConn+"/assets"), nil)
	l.snapshot("Meta choose assets")

	// Connecting fails in every way: the provider down at the callback (503 and reset),
	// the dialog cancelled, the callback replayed.
	for _, mode := range []string{sandbox.ModeUnavailable, sandbox.ModeReset} {
		cb := b.dialog(b.post(accountPath(bakery, "/connect/meta"), nil), casey)
		inject("meta", casey, "provider_unavailable", mode)
		follow(b.get(cb))
		clear("meta", casey)
		follow(b.get(cb))
	}
	{
		start := b.post(accountPath(bakery, "/connect/linkedin"), nil)
		u, _ := url.Parse(start.location())
		q := u.Query()
		q.Set("error", "user_cancelled_login")
		q.Set("error_description", "The user cancelled LinkedIn login")
		follow(b.get("/oauth/linkedin/callback?" + q.Encode()))
	}
	l.snapshot("failed connects")

	// A disconnect whose revoke cannot reach Meta, then Meta's own history pages.
	inject("meta", avery, "provider_unavailable", sandbox.ModeReset)
	b.get(accountPath(bakery, "/connections/"+metaConn+"/disconnect"))
	follow(b.post(accountPath(bakery, "/connections/"+metaConn+"/disconnect"), nil))
	clear("meta", avery)
	l.snapshot("Meta disconnected")

	// LinkedIn: connect, refresh, an expired token and an outage, reauthenticate, disconnect.
	liPage := b.connectAll(bakery, "linkedin", dana)
	var liConn, liAsset string
	liPage.doc.Find(`[data-testid="connection"][data-provider="linkedin"]`).Each(func(_ int, card *goquery.Selection) {
		liConn = card.AttrOr("data-connection-id", "")
		liAsset = card.Find(`[data-testid="asset-row"]`).First().AttrOr("data-asset-id", "")
	})
	if liConn == "" || liAsset == "" {
		t.Fatalf("no LinkedIn connection on the page:\n%s", liPage.body)
	}
	l.snapshot("LinkedIn connected")
	refreshEveryWay(bakery, liConn, liAsset)
	for _, fault := range []string{"token_expired", "provider_unavailable", "missing_permission"} {
		inject("linkedin", dana, fault)
		refreshEveryWay(bakery, liConn, liAsset)
		clear("linkedin", dana)
	}
	everyFault("linkedin", dana, bakery, liConn, liAsset)
	l.snapshot("LinkedIn faults")
	mustReauth(bakery, liConn, dana)
	refreshEveryWay(bakery, liConn, liAsset)
	b.get(accountPath(bakery, "/connections/"+liConn+"/disconnect"))
	follow(b.post(accountPath(bakery, "/connections/"+liConn+"/disconnect"), nil))
	l.snapshot("LinkedIn disconnected")

	// Every page of history, every filter, as the admin and as the account user.
	reader := l.browser("user@bluebird.test")
	for _, br := range []*browser{b, reader} {
		paths := []string{accountPath(bakery, "/history"), accountPath(bakery, "/connections/"+metaConn+"/history"),
			accountPath(bakery, "/connections/"+liConn+"/history"), accountPath(bakery, "/connections")}
		for _, k := range models.EventKinds {
			paths = append(paths, accountPath(bakery, "/history?kind="+k))
		}
		for _, p := range paths {
			for i := 0; p != "" && i < 20; i++ {
				got := br.get(p)
				if got.status != http.StatusOK {
					t.Fatalf("%s: status %d", p, got.status)
				}
				p = got.doc.Find(`[data-testid="history-next"]`).AttrOr("href", "")
			}
		}
	}
	// The health engine's own outputs: a sweep, the emails it and the faults above wrote
	// (each one's page and HTML), the landing page of their links, and the metrics.
	if _, err := l.conns.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	outbox := b.get("/dev/mail")
	outbox.doc.Find(`[data-testid="devmail-row"] a`).Each(func(_ int, a *goquery.Selection) {
		href := a.AttrOr("href", "")
		b.get(href)
		b.get(href + "/html")
	})
	if n := outbox.doc.Find(`[data-testid="devmail-row"]`).Length(); n == 0 {
		t.Error("the faults above wrote no email: the outbox was not searched")
	}
	b.get(accountPath(bakery, "/connections/"+metaConn+"/reauthenticate"))
	b.get("/metrics")
	l.snapshot("the end")
	l.hay.add("the app's log", l.log.String())

	found := l.secrets.snapshot()
	// The app secrets, and the appsecret_proof of every Meta token, whether or not seen.
	found[sandbox.DefaultMetaAppSecret] = "the Meta app secret"
	found[sandbox.DefaultLinkedInClientSecret] = "the LinkedIn client secret"
	kinds := map[string]int{}
	for v, what := range found {
		for _, prefix := range []string{"EAAS", "EAAL", "EAAP", "AQV", "AQX"} {
			if strings.HasPrefix(v, prefix) {
				kinds[prefix]++
				found[sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, v)] = "the appsecret_proof of " + what
			}
		}
	}
	t.Logf("searching %d records for %d secrets: %v", len(l.hay.all()), len(found), kinds)
	// The search means something only if the app really handled every kind of token.
	for prefix, what := range map[string]string{"EAAS": "Meta short-lived user token", "EAAL": "Meta long-lived user token",
		"AQV": "LinkedIn access token", "AQX": "LinkedIn refresh token"} {
		if kinds[prefix] == 0 {
			t.Errorf("no %s was seen on the wire: the flows above did not run", what)
		}
	}
	if !strings.Contains(l.log.String(), "connect callback failed") {
		t.Errorf("the log has no failed callback: the failures above did not run\n%s", l.log.String())
	}
	for _, leak := range leaks(l.hay.all(), found) {
		t.Error(leak)
	}
	// The flows above ran as meant: their history is there.
	events, err := l.store.EventsOf(context.Background(), bakery.ID, 10000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Kind] = true
	}
	for _, k := range []string{models.EventConnected, models.EventReauthenticated, models.EventRefreshOK, models.EventRefreshFailed,
		models.EventStatusChanged, models.EventAssetAdded, models.EventAssetRemoved, models.EventDisconnected} {
		if !seen[k] {
			t.Errorf("no %s event: the flows above did not run as meant", k)
		}
	}
	// The token columns hold ciphertext: of every connection ever made, none equals or
	// contains a token.
	for _, name := range []string{"Bluebird Bakery"} {
		rows, err := l.store.ConnectionsOf(context.Background(), l.subs[name].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			c, err := l.store.Connection(context.Background(), l.subs[name].ID, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for v, what := range found {
				if bytes.Contains(c.AccessToken, []byte(v)) || bytes.Contains(c.RefreshToken, []byte(v)) {
					t.Errorf("connection %d stores %s in clear", c.ID, what)
				}
			}
		}
	}
}

// TestReauthenticateMissingPermission reauthenticates a connection missing a permission:
// Meta is asked to show the declined permission again (auth_type=rerequest), and the
// callback must lead to the picker like any other.
func TestReauthenticateMissingPermission(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	page := b.connectAll(bakery, "meta", avery)
	connID := page.doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "missing_permission"}); err != nil {
		t.Fatal(err)
	}
	b.post(accountPath(bakery, "/connections/"+connID+"/refresh"), nil)
	missing := b.get(accountPath(bakery, "/connections"))
	if st := missing.doc.Find(`[data-testid="connection"]`).AttrOr("data-status", ""); st != string(models.StatusPermissionsMissing) {
		t.Fatalf("after refresh all: status %q, want permissions_missing", st)
	}
	start := b.post(accountPath(bakery, "/connections/"+connID+"/reauthenticate"), nil)
	if !strings.Contains(start.location(), "auth_type=rerequest") {
		t.Errorf("the dialog is not asked to show the declined permission again: %s", start.location())
	}
	back := b.get(b.dialog(start, avery))
	if back.status != http.StatusSeeOther || !strings.Contains(back.location(), "/connections/flows/") {
		text := ""
		if strings.HasPrefix(back.location(), "/") {
			text = b.get(back.location()).doc.Find(".flash").Text()
		}
		t.Fatalf("the callback of a rerequest went to %d %q, not the picker: %s", back.status, back.location(), strings.TrimSpace(text))
	}
	picker := b.get(back.location())
	form := url.Values{}
	picker.doc.Find(`input[name="asset"][checked]`).Each(func(_ int, sel *goquery.Selection) { form.Add("asset", sel.AttrOr("value", "")) })
	if done := b.post(back.location(), form); done.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", done.status, done.body)
	}
	after := b.get(accountPath(bakery, "/connections"))
	if st := after.doc.Find(`[data-testid="connection"]`).AttrOr("data-status", ""); st != string(models.StatusHealthy) {
		t.Errorf("after reauthenticating: status %q, want healthy", st)
	}
}
