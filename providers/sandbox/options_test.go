package sandbox_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestEnforceCallBudget: a user over MetaCallsPerHour gets code 17; other users do
// not, and x-app-usage reports the app's usage across users.
func TestEnforceCallBudget(t *testing.T) {
	_, srv := sandboxtest.StartWith(t, sandbox.Options{MetaCallsPerHour: 3, EnforceCallBudget: true})
	busy := longLived(t, srv, sandbox.MetaSmallUser)
	calm := longLived(t, srv, sandbox.MetaAgencyUser)
	for range 3 {
		if r := graph(t, srv, "/me", busy, nil); r.status != 200 {
			t.Fatalf("within the budget: %s", r.body)
		}
	}
	tests := []struct {
		name string
		tok  string
		code int
	}{
		{name: "over the budget", tok: busy, code: 17},
		{name: "another user", tok: calm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := graph(t, srv, "/me", tt.tok, nil)
			code := 0
			if r.status != 200 {
				code = meta.Classify("me", r.status, r.header, r.body).Code
			}
			if code != tt.code {
				t.Errorf("code %d, want %d: %s", code, tt.code, r.body)
			}
			// 5 calls of a 3×3 budget so far: the app is at 50–60%, never 100.
			if u := meta.ParseUsage(r.header).App; u < 40 || u >= 100 {
				t.Errorf("x-app-usage = %d%%: %v", u, r.header.Get("X-App-Usage"))
			}
		})
	}
}

// TestAllowMissingAppSecretProof: "Require App Secret" is on unless turned off; a
// wrong proof is refused either way.
func TestAllowMissingAppSecretProof(t *testing.T) {
	tests := []struct {
		name   string
		allow  bool
		proof  string
		status int
	}{
		{name: "required and missing", proof: "", status: 400},
		{name: "allowed and missing", allow: true, proof: "", status: 200},
		{name: "allowed and wrong", allow: true, proof: "00", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.StartWith(t, sandbox.Options{AllowMissingAppSecretProof: tt.allow})
			tok := longLived(t, srv, sandbox.MetaSmallUser)
			q := url.Values{"access_token": {tok}}
			if tt.proof != "" {
				q.Set("appsecret_proof", tt.proof)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/v24.0/me?"+q.Encode(), nil)
			if r := do(t, req); r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

// TestClientCredentialsGrant: the app token from client_credentials works for
// debug_token and not as a user token.
func TestClientCredentialsGrant(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tests := []struct {
		name   string
		secret string
		status int
	}{
		{name: "right secret", secret: sandbox.DefaultMetaAppSecret, status: 200},
		{name: "wrong secret", secret: "nope", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.DefaultMetaAppID}, "client_secret": {tt.secret}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/v24.0/oauth/access_token?"+q.Encode(), nil)
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if tt.status != 200 {
				if e := meta.Classify("exchange_code", r.status, r.header, r.body); e.Retryable {
					t.Errorf("a wrong secret must not be retried: %v", e)
				}
				return
			}
			app := r.json(t)["access_token"].(string)
			user := longLived(t, srv, sandbox.MetaSmallUser)
			dq := url.Values{"input_token": {user}, "access_token": {app}}
			req, _ = http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/v24.0/debug_token?"+dq.Encode(), nil)
			if r := do(t, req); r.status != 200 || r.json(t)["data"].(map[string]any)["is_valid"] != true {
				t.Errorf("debug_token with the app token: %s", r.body)
			}
			if r := graph(t, srv, "/me", app, nil); r.status == 200 {
				t.Errorf("the app token read /me: %s", r.body)
			}
		})
	}
}
