package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/facebook"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
	"golang.org/x/oauth2"
)

// rewrite sends requests for the real provider hosts to the sandbox, the way a client
// that cannot be configured is pointed at it.
type rewrite struct {
	sandbox *url.URL
}

func (rw rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	prefixes := map[string]string{
		"graph.facebook.com": "/sandbox/meta/graph",
		"www.facebook.com":   "/sandbox/meta/www",
		"api.linkedin.com":   "/sandbox/linkedin/api",
		"www.linkedin.com":   "/sandbox/linkedin/www",
	}
	if p, ok := prefixes[req.URL.Host]; ok {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = rw.sandbox.Scheme, rw.sandbox.Host
		req.URL.Path = p + req.URL.Path
		req.URL.RawPath = ""
		req.Host = rw.sandbox.Host
	}
	return http.DefaultTransport.RoundTrip(req)
}

func rewritingClient(srv *httptest.Server) *http.Client {
	u, _ := url.Parse(srv.URL)
	return &http.Client{Transport: rewrite{u}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// approve opens an authorization URL with sandbox_user and returns the callback's query.
func approve(t *testing.T, client *http.Client, authURL, user string) url.Values {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sandbox_user", user)
	u.RawQuery = q.Encode()
	resp, err := client.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("dialog answered %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func TestOAuth2MetaCodeExchange(t *testing.T) {
	tests := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{name: "auto-detect", style: oauth2.AuthStyleAutoDetect},
		{name: "basic header", style: oauth2.AuthStyleInHeader},
		{name: "params", style: oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			conf := &oauth2.Config{ClientID: sandbox.DefaultMetaAppID, ClientSecret: sandbox.DefaultMetaAppSecret,
				RedirectURL: sandboxtest.RedirectURI, Scopes: []string{"email", "ads_read"},
				Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/sandbox/meta/www/v24.0/dialog/oauth",
					TokenURL: srv.URL + "/sandbox/meta/graph/v24.0/oauth/access_token", AuthStyle: tt.style}}
			cb := approve(t, sandboxtest.NoRedirect(), conf.AuthCodeURL("s1"), sandbox.MetaAgencyUser)
			if cb.Get("state") != "s1" {
				t.Fatalf("state = %q", cb.Get("state"))
			}
			tok, err := conf.Exchange(context.Background(), cb.Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Valid() || tok.TokenType != "bearer" || time.Until(tok.Expiry) > 2*time.Hour || time.Until(tok.Expiry) < time.Hour {
				t.Errorf("token: type %q expiry %v", tok.TokenType, tok.Expiry)
			}
			if _, err := conf.Exchange(context.Background(), cb.Get("code")); err == nil {
				t.Error("a code was accepted twice")
			} else if re, ok := err.(*oauth2.RetrieveError); !ok || !strings.Contains(string(re.Body), "36009") {
				t.Errorf("reuse error: %v", err)
			}
		})
	}
}

func TestOAuth2LinkedInCodeAndRefresh(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	conf := &oauth2.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: sandbox.DefaultLinkedInClientSecret,
		RedirectURL: sandboxtest.RedirectURI, Scopes: sandboxtest.LinkedInScopes,
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/sandbox/linkedin/www/oauth/v2/authorization",
			TokenURL: srv.URL + "/sandbox/linkedin/www/oauth/v2/accessToken"}}
	cb := approve(t, sandboxtest.NoRedirect(), conf.AuthCodeURL("s2"), sandbox.LinkedInMember)
	tok, err := conf.Exchange(context.Background(), cb.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("refresh_token_expires_in") == nil {
		t.Fatalf("no refresh token: %+v", tok.Extra("refresh_token_expires_in"))
	}
	// An expired access token makes the token source run the refresh grant.
	old := tok.AccessToken
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == old || !fresh.Valid() {
		t.Error("refresh grant did not issue a new access token")
	}
	// The client then calls the API with it.
	resp, err := conf.Client(context.Background(), fresh).Get(srv.URL + "/sandbox/linkedin/api/v2/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("userinfo with refreshed token: %d", resp.StatusCode)
	}
	// A revoked refresh token fails with invalid_grant.
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Fault: "refresh_token_invalid"})
	fresh.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(context.Background(), fresh).Token()
	re, ok := err.(*oauth2.RetrieveError)
	if !ok || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh after fault: %v", err)
	}
}

func TestGothFacebookProvider(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	client := rewritingClient(srv)
	p := facebook.New(sandbox.DefaultMetaAppID, sandbox.DefaultMetaAppSecret, sandboxtest.RedirectURI, "email", "ads_read")
	p.HTTPClient = client
	sess, err := p.BeginAuth("s3")
	if err != nil {
		t.Fatal(err)
	}
	authURL, _ := sess.GetAuthURL()
	if !strings.HasPrefix(authURL, "https://www.facebook.com/dialog/oauth") {
		t.Fatalf("goth's facebook provider changed its endpoint: %s", authURL)
	}
	cb := approve(t, client, authURL, sandbox.MetaAgencyUser)
	if _, err := sess.Authorize(p, cb); err != nil {
		t.Fatal(err)
	}
	user, err := p.FetchUser(sess)
	if err != nil {
		t.Fatal(err)
	}
	if user.UserID != sandbox.MetaAgencyUser || user.Name != "Avery Agency" || user.Email != "avery@agency.example" || user.FirstName != "Avery" {
		t.Errorf("user = %+v", user)
	}
}

func TestRelinkMetaGothProvider(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	p := meta.NewGoth(meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
		RedirectURL: sandboxtest.RedirectURI, GraphURL: srv.URL + "/sandbox/meta/graph", WWWURL: srv.URL + "/sandbox/meta/www",
		Clock: sb.Clock()})
	sandboxtest.Advance(t, srv, 30*24*time.Hour)
	var gp goth.Provider = p
	sess, _ := gp.BeginAuth("s4")
	// gothic stores the session between the redirect and the callback.
	sess, err := gp.UnmarshalSession(sess.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	authURL, _ := sess.GetAuthURL()
	cb := approve(t, sandboxtest.NoRedirect(), authURL, sandbox.MetaSmallUser)
	if _, err := sess.Authorize(gp, cb); err != nil {
		t.Fatal(err)
	}
	user, err := gp.FetchUser(sess)
	if err != nil || user.UserID != sandbox.MetaSmallUser || user.AccessToken == "" {
		t.Fatalf("user = %+v, %v", user, err)
	}
	if want := sb.Clock().Now().Add(sandbox.MetaShortLived); !user.ExpiresAt.Equal(want) {
		t.Errorf("expiry %v, want %v on the sandbox clock", user.ExpiresAt, want)
	}
	if strings.Contains(sess.(interface{ String() string }).String(), user.AccessToken) {
		t.Error("session String prints the token")
	}

	re := p.Rerequest()
	s2, _ := re.BeginAuth("s5")
	u2, _ := s2.GetAuthURL()
	if re.Name() != "meta-rerequest" || !strings.Contains(u2, "auth_type=rerequest") {
		t.Errorf("rerequest provider: %s %s", re.Name(), u2)
	}
	// A cancelled dialog comes back as an error, not a user.
	s3, _ := gp.BeginAuth("s6")
	if _, err := s3.Authorize(gp, url.Values{"error": {"access_denied"}, "error_reason": {"user_denied"}}); err == nil {
		t.Error("a cancelled login was accepted")
	}
}

func TestRelinkLinkedInGothProvider(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	var gp goth.Provider = linkedin.NewGoth(linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID,
		ClientSecret: sandbox.DefaultLinkedInClientSecret, RedirectURL: sandboxtest.RedirectURI,
		APIURL: srv.URL + "/sandbox/linkedin/api", WWWURL: srv.URL + "/sandbox/linkedin/www", Clock: sb.Clock()})
	sess, _ := gp.BeginAuth("s7")
	authURL, _ := sess.GetAuthURL()
	cb := approve(t, sandboxtest.NoRedirect(), authURL, sandbox.LinkedInMember)
	if _, err := sess.Authorize(gp, cb); err != nil {
		t.Fatal(err)
	}
	user, err := gp.FetchUser(sess)
	if err != nil || user.UserID != sandbox.LinkedInMember || user.RefreshToken == "" || user.Email == "" {
		t.Fatalf("user = %+v, %v", user, err)
	}
	if !user.ExpiresAt.Equal(sandboxtest.Epoch.Add(sandbox.LinkedInAccessLife)) ||
		user.RawData["refresh_token_expires_at"] != sandboxtest.Epoch.Add(sandbox.LinkedInRefreshLife).Format(time.RFC3339) {
		t.Errorf("expiries: %v %v", user.ExpiresAt, user.RawData["refresh_token_expires_at"])
	}
	if !gp.RefreshTokenAvailable() {
		t.Error("LinkedIn has refresh tokens")
	}
	tok, err := gp.RefreshToken(user.RefreshToken)
	if err != nil || tok.AccessToken == "" || tok.AccessToken == user.AccessToken {
		t.Errorf("refresh: %v", err)
	}
}
