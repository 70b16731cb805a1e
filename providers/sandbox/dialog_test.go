package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestDialogRejectsBadRedirectURIs: a redirect_uri the dialog cannot send the
// browser back to gets the provider's error page, and no code is issued.
func TestDialogRejectsBadRedirectURIs(t *testing.T) {
	tests := []struct {
		name     string
		provider string
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
		{name: "not in the allow-list", provider: "meta", uri: "http://evil.test/cb", opts: sandbox.Options{RedirectURIs: []string{sandboxtest.RedirectURI}}, status: http.StatusBadRequest},
		{name: "in the allow-list", provider: "meta", uri: sandboxtest.RedirectURI, opts: sandbox.Options{RedirectURIs: []string{sandboxtest.RedirectURI}}, status: http.StatusFound},
		{name: "any absolute uri without an allow-list", provider: "linkedin", uri: "https://app.test/cb?x=1", status: http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.StartWith(t, tt.opts)
			appID, dialog := sandbox.DefaultMetaAppID, srv.URL+"/sandbox/meta/www/dialog/oauth"
			if tt.provider == "linkedin" {
				appID, dialog = sandbox.DefaultLinkedInClientID, srv.URL+"/sandbox/linkedin/www/oauth/v2/authorization"
			}
			user := sandbox.MetaAgencyUser
			if tt.provider == "linkedin" {
				user = sandbox.LinkedInMember
			}
			q := url.Values{"client_id": {appID}, "redirect_uri": {tt.uri}, "sandbox_user": {user}}
			req, _ := http.NewRequest(http.MethodGet, dialog+"?"+q.Encode(), nil)
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			approved := 0
			for _, c := range sb.Calls() {
				if c.Endpoint == "dialog approve" {
					approved += c.Count
				}
			}
			if tt.status != http.StatusFound && (approved != 0 || r.header.Get("Location") != "") {
				t.Errorf("a code was issued for a rejected redirect_uri")
			}
			if tt.status != http.StatusFound && !strings.Contains(string(r.body), "URL blocked") {
				t.Errorf("no error page: %s", r.body)
			}
		})
	}
}
