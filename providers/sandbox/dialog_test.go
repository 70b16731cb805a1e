package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestDialogRedirectURIs: like a real app's Valid OAuth Redirect URIs (Meta) and
// authorized redirect URLs (LinkedIn), the dialogs send the browser back only under
// the app's own base URL, or to a loopback address when none is set; any other
// redirect_uri gets the provider's error page, and no code is issued.
func TestDialogRedirectURIs(t *testing.T) {
	base := func(u string) sandbox.Options { return sandbox.Options{AppBaseURL: u} }
	tests := []struct {
		name     string
		provider string
		method   string
		uri      string
		opts     sandbox.Options
		status   int
	}{
		{name: "bad escape", provider: "meta", uri: "http://%zz/", status: http.StatusBadRequest},
		{name: "bad escape linkedin", provider: "linkedin", uri: "http://%zz/", status: http.StatusBadRequest},
		{name: "no host", provider: "meta", uri: "http:///callback", status: http.StatusBadRequest},
		{name: "other scheme", provider: "meta", uri: "javascript:alert(1)", status: http.StatusBadRequest},
		{name: "relative", provider: "meta", uri: "/auth/callback", status: http.StatusBadRequest},
		{name: "empty", provider: "linkedin", uri: "", status: http.StatusBadRequest},
		{name: "fragment", provider: "meta", uri: "http://127.0.0.1/cb#x", status: http.StatusBadRequest},

		{name: "loopback ip with port", provider: "meta", uri: "http://127.0.0.1:54321/auth/callback", status: http.StatusFound},
		{name: "loopback anywhere in 127/8 over https", provider: "linkedin", uri: "https://127.9.8.7/cb?x=1", status: http.StatusFound},
		{name: "localhost", provider: "linkedin", uri: "http://localhost:8080/auth/linkedin/callback", status: http.StatusFound},
		{name: "ipv6 loopback", provider: "meta", uri: "http://[::1]:9000/cb", status: http.StatusFound},
		{name: "helpers' redirect uri", provider: "meta", uri: sandboxtest.RedirectURI, status: http.StatusFound},
		{name: "another host without a base url", provider: "meta", uri: "https://evil.example/steal", status: http.StatusBadRequest},
		{name: "another host without a base url linkedin", provider: "linkedin", uri: "https://evil.example/steal", status: http.StatusBadRequest},
		{name: "another host on the consent form", provider: "meta", method: http.MethodPost, uri: "https://evil.example/steal", status: http.StatusBadRequest},
		{name: "localhost as a subdomain", provider: "meta", uri: "http://localhost.evil.example/cb", status: http.StatusBadRequest},
		{name: "loopback ip as a subdomain", provider: "linkedin", uri: "http://127.0.0.1.evil.example/cb", status: http.StatusBadRequest},
		{name: "loopback as user info", provider: "meta", uri: "http://127.0.0.1@evil.example/cb", status: http.StatusBadRequest},
		{name: "backslash", provider: "meta", uri: `http://evil.example\@127.0.0.1/cb`, status: http.StatusBadRequest},
		{name: "not loopback ipv6", provider: "meta", uri: "http://[::2]/cb", status: http.StatusBadRequest},
		{name: "unspecified address", provider: "meta", uri: "http://0.0.0.0:8080/cb", status: http.StatusBadRequest},

		{name: "under the base url", provider: "meta", uri: "http://localhost:8080/auth/meta/callback", opts: base("http://localhost:8080"), status: http.StatusFound},
		{name: "host case does not matter", provider: "linkedin", uri: "http://LocalHost:8080/auth/cb", opts: base("http://localhost:8080/"), status: http.StatusFound},
		{name: "other port than the base url", provider: "meta", uri: "http://localhost:8081/auth/cb", opts: base("http://localhost:8080"), status: http.StatusBadRequest},
		{name: "other scheme than the base url", provider: "meta", uri: "https://localhost:8080/auth/cb", opts: base("http://localhost:8080"), status: http.StatusBadRequest},
		{name: "loopback is not enough with a base url", provider: "linkedin", uri: "http://127.0.0.1:8080/auth/cb", opts: base("http://localhost:8080"), status: http.StatusBadRequest},
		{name: "another host with a base url", provider: "meta", uri: "https://evil.example/steal", opts: base("https://relink.example"), status: http.StatusBadRequest},
		{name: "default port spelt out", provider: "meta", uri: "https://relink.example:443/app/auth/cb", opts: base("https://relink.example/app/"), status: http.StatusFound},
		{name: "base path itself", provider: "meta", uri: "https://relink.example/app", opts: base("https://relink.example/app"), status: http.StatusFound},
		{name: "path beside the base path", provider: "meta", uri: "https://relink.example/application/cb", opts: base("https://relink.example/app"), status: http.StatusBadRequest},
		{name: "path outside the base path", provider: "linkedin", uri: "https://relink.example/other/cb", opts: base("https://relink.example/app"), status: http.StatusBadRequest},
		{name: "dot segments out of the base path", provider: "meta", uri: "https://relink.example/app/../steal", opts: base("https://relink.example/app"), status: http.StatusBadRequest},
		{name: "escaped dot segments out of the base path", provider: "meta", uri: "https://relink.example/app/%2e%2e/steal", opts: base("https://relink.example/app"), status: http.StatusBadRequest},
		{name: "unusable base url", provider: "meta", uri: "http://localhost:8080/auth/cb", opts: base("localhost:8080"), status: http.StatusBadRequest},

		{name: "in the allow-list", provider: "meta", uri: "http://localhost:8080/auth/cb", opts: sandbox.Options{AppBaseURL: "http://localhost:8080", RedirectURIs: []string{"http://localhost:8080/auth/cb"}}, status: http.StatusFound},
		{name: "under the base url but not in the allow-list", provider: "meta", uri: "http://localhost:8080/auth/other", opts: sandbox.Options{AppBaseURL: "http://localhost:8080", RedirectURIs: []string{"http://localhost:8080/auth/cb"}}, status: http.StatusBadRequest},
		{name: "the allow-list only narrows", provider: "linkedin", uri: "https://evil.example/cb", opts: sandbox.Options{RedirectURIs: []string{"https://evil.example/cb"}}, status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.StartWith(t, tt.opts)
			appID, dialog, user := sandbox.DefaultMetaAppID, srv.URL+"/sandbox/meta/www/dialog/oauth", sandbox.MetaAgencyUser
			if tt.provider == "linkedin" {
				appID, dialog, user = sandbox.DefaultLinkedInClientID, srv.URL+"/sandbox/linkedin/www/oauth/v2/authorization", sandbox.LinkedInMember
			}
			q := url.Values{"client_id": {appID}, "redirect_uri": {tt.uri}, "state": {"st"}}
			req, _ := http.NewRequest(http.MethodGet, dialog+"?"+merge(q, url.Values{"sandbox_user": {user}}).Encode(), nil)
			if tt.method == http.MethodPost {
				req = mustReq(http.MethodPost, dialog, merge(q, url.Values{"action": {"continue"}, "as": {user}}).Encode())
			}
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == http.StatusFound {
				loc, err := url.Parse(r.header.Get("Location"))
				if err != nil || loc.Query().Get("code") == "" || loc.Host != mustParse(t, tt.uri).Host {
					t.Errorf("redirect to %q for %q", r.header.Get("Location"), tt.uri)
				}
				return
			}
			approved := 0
			for _, c := range sb.Calls() {
				if c.Endpoint == "dialog approve" {
					approved += c.Count
				}
			}
			if approved != 0 || r.header.Get("Location") != "" {
				t.Errorf("a code was issued for a refused redirect_uri")
			}
			want := map[string]string{"meta": "This redirect failed because the redirect URI is not whitelisted in the app’s Client OAuth Settings.",
				"linkedin": "The redirect_uri does not match the registered value"}[tt.provider]
			if !strings.Contains(string(r.body), want) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("not the provider's error page: %s", r.body)
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDialogRefusesAnUnknownClientInTheProvidersWords(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{name: "meta", path: "/sandbox/meta/www/dialog/oauth", want: "The provided app ID does not look like a valid app ID."},
		{name: "linkedin", path: "/sandbox/linkedin/www/oauth/v2/authorization", want: `The passed in client_id is invalid &#34;not-our-app&#34;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.StartWith(t, sandbox.Options{})
			q := url.Values{"client_id": {"not-our-app"}, "redirect_uri": {sandboxtest.RedirectURI}, "state": {"st"}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path+"?"+q.Encode(), nil)
			r := do(t, req)
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), tt.want) {
				t.Fatalf("status %d, want 400 with %q: %s", r.status, tt.want, r.body)
			}
		})
	}
}
