package sandbox_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// liForm posts a form with the sandbox app's client credentials to a LinkedIn
// www endpoint.
func liForm(t *testing.T, srvURL, path string, form url.Values) result {
	t.Helper()
	form = merge(form, url.Values{"client_id": {sandbox.DefaultLinkedInClientID}, "client_secret": {sandbox.DefaultLinkedInClientSecret}})
	return do(t, mustReq(http.MethodPost, srvURL+"/sandbox/linkedin/www/oauth/v2/"+path, form.Encode()))
}

// TestLinkedInRefreshNeverIssuesADeadToken: whatever the fault, a refresh either
// issues an access token the API accepts (the call may still fail for another
// reason than the token, never with 401) or is refused, with 400 invalid_grant (or
// 429 or 503 while LinkedIn is limited or down). A 200 with a token that is dead
// at once would make a client that refreshes on 401 loop.
func TestLinkedInRefreshNeverIssuesADeadToken(t *testing.T) {
	tests := []struct {
		name     string
		fault    sandbox.FaultRequest
		refresh  int // status of the refresh grant
		userinfo int // status of GET /v2/userinfo with the new token, after a 200
	}{
		{name: "token_expired", fault: sandbox.FaultRequest{Fault: "token_expired"}, refresh: 200, userinfo: 200},
		{name: "password_changed", fault: sandbox.FaultRequest{Fault: "password_changed"}, refresh: 400},
		{name: "app_removed", fault: sandbox.FaultRequest{Fault: "app_removed"}, refresh: 400},
		{name: "security_checkpoint", fault: sandbox.FaultRequest{Fault: "security_checkpoint"}, refresh: 400},
		{name: "unconfirmed_account", fault: sandbox.FaultRequest{Fault: "unconfirmed_account"}, refresh: 400},
		{name: "session_invalidated", fault: sandbox.FaultRequest{Fault: "session_invalidated"}, refresh: 400},
		{name: "lost_asset_role", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "5200001"}, refresh: 200, userinfo: 200},
		{name: "missing_permission", fault: sandbox.FaultRequest{Fault: "missing_permission"}, refresh: 200, userinfo: 200},
		{name: "refresh_token_invalid", fault: sandbox.FaultRequest{Fault: "refresh_token_invalid"}, refresh: 400},
		{name: "rate_limited", fault: sandbox.FaultRequest{Fault: "rate_limited"}, refresh: 429},
		{name: "provider_unavailable", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, refresh: 503},
		{name: "policy_blocked", fault: sandbox.FaultRequest{Fault: "policy_blocked"}, refresh: 200, userinfo: 403},
		{name: "unknown", fault: sandbox.FaultRequest{Fault: "unknown"}, refresh: 200, userinfo: 400},
		{name: "account_disabled", fault: sandbox.FaultRequest{Fault: sandbox.FaultAccountDisabled, Asset: "5200002"}, refresh: 200, userinfo: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			_, refresh := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
			f := tt.fault
			f.Provider, f.User = "linkedin", sandbox.LinkedInMember
			sandboxtest.Inject(t, srv, f)

			r := liForm(t, srv.URL, "accessToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
			if r.status != tt.refresh {
				t.Fatalf("refresh: %d %s, want %d", r.status, r.body, tt.refresh)
			}
			if r.status == 400 {
				if e := r.json(t)["error"]; e != "invalid_grant" {
					t.Errorf("refused refresh: error %v, want invalid_grant", e)
				}
				return
			}
			if r.status != 200 {
				return
			}
			access := r.json(t)["access_token"].(string)
			if got := liGet(t, srv.URL, access, "/v2/userinfo"); got.status != tt.userinfo {
				t.Errorf("userinfo with the new token: %d %s, want %d", got.status, got.body, tt.userinfo)
			}
			for name, tok := range map[string]string{"new access token": access, "refresh token": refresh} {
				in := liForm(t, srv.URL, "introspectToken", url.Values{"token": {tok}}).json(t)
				if in["active"] != true {
					t.Errorf("introspecting the %s: %v, want active", name, in)
				}
			}
		})
	}
}
