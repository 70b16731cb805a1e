// Package sandboxtest starts a sandbox for tests and logs fake users in over the wire.
package sandboxtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers/sandbox"
)

// Epoch is the frozen start time of sandboxes started by Start.
var Epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// RedirectURI is the callback the helpers use: a loopback one, the only kind a
// sandbox without Options.AppBaseURL accepts. Nothing listens on it; the helpers
// read the code from the dialog's redirect without following it.
const RedirectURI = "http://127.0.0.1/auth/callback"

// MetaScopes are the scopes Relink asks Meta for.
var MetaScopes = []string{"public_profile", "email", "pages_show_list", "pages_read_engagement", "instagram_basic", "ads_read", "ads_management", "business_management"}

// LinkedInScopes are the scopes Relink asks LinkedIn for.
var LinkedInScopes = []string{"openid", "profile", "email", "r_organization_admin", "r_ads"}

// Start returns a sandbox on a frozen clock, served by an httptest server that the
// test closes on cleanup.
func Start(t testing.TB) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	return StartWith(t, sandbox.Options{})
}

// StartWith is Start with options; the clock is frozen at Epoch unless opts has one.
func StartWith(t testing.TB, opts sandbox.Options) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = sandbox.NewFrozenClock(Epoch)
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv
}

// NoRedirect is an HTTP client that does not follow redirects.
func NoRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Code approves the dialog at once for user and returns the authorization code.
func Code(t testing.TB, srv *httptest.Server, provider, user string, scopes []string) string {
	t.Helper()
	appID := sandbox.DefaultMetaAppID
	dialog := srv.URL + "/sandbox/meta/www/v24.0/dialog/oauth"
	if provider == "linkedin" {
		appID = sandbox.DefaultLinkedInClientID
		dialog = srv.URL + "/sandbox/linkedin/www/oauth/v2/authorization"
	}
	q := url.Values{"client_id": {appID}, "redirect_uri": {RedirectURI}, "state": {"st"},
		"scope": {strings.Join(scopes, " ")}, "response_type": {"code"}, "sandbox_user": {user}}
	resp, err := NoRedirect().Get(dialog + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("dialog: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("dialog redirect lacks code or state: %s", loc)
	}
	return code
}

// MetaLogin runs the dialog and the code exchange and returns a short-lived user token.
func MetaLogin(t testing.TB, srv *httptest.Server, user string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = slices.Clone(MetaScopes)
	}
	code := Code(t, srv, "meta", user, scopes)
	q := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "client_secret": {sandbox.DefaultMetaAppSecret},
		"redirect_uri": {RedirectURI}, "code": {code}}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, srv.URL+"/sandbox/meta/graph/v24.0/oauth/access_token?"+q.Encode(), &body)
	return body.AccessToken
}

// LinkedInLogin runs the dialog and the code exchange and returns both tokens.
func LinkedInLogin(t testing.TB, srv *httptest.Server, user string, scopes ...string) (access, refresh string) {
	t.Helper()
	if len(scopes) == 0 {
		scopes = slices.Clone(LinkedInScopes)
	}
	code := Code(t, srv, "linkedin", user, scopes)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {RedirectURI},
		"client_id": {sandbox.DefaultLinkedInClientID}, "client_secret": {sandbox.DefaultLinkedInClientSecret}}
	resp, err := http.PostForm(srv.URL+"/sandbox/linkedin/www/oauth/v2/accessToken", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	decode(t, resp, &body)
	return body.AccessToken, body.RefreshToken
}

// Inject applies a fault through the JSON API and fails the test if it is refused.
func Inject(t testing.TB, srv *httptest.Server, req sandbox.FaultRequest) {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, err := http.Post(srv.URL+"/sandbox/api/faults", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("inject %+v: %d %s", req, resp.StatusCode, msg)
	}
}

// Advance moves the sandbox clock through the JSON API.
func Advance(t testing.TB, srv *httptest.Server, d time.Duration) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/sandbox/api/clock", "application/json", strings.NewReader(`{"advance":"`+d.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: %d", resp.StatusCode)
	}
}

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	decode(t, resp, v)
}

func decode(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", resp.Request.URL.Path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", resp.Request.URL.Path, err)
	}
}
