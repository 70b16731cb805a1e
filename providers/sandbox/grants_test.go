package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

func deletePermission(t *testing.T, srvURL, tok, perm string) {
	t.Helper()
	q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
	path := "/me/permissions"
	if perm != "" {
		path += "/" + perm
	}
	req, _ := http.NewRequest(http.MethodDelete, srvURL+"/sandbox/meta/graph/v24.0"+path+"?"+q.Encode(), nil)
	if r := do(t, req); r.status != 200 {
		t.Fatalf("DELETE %s: %d %s", path, r.status, r.body)
	}
}

func debugScopes(t *testing.T, d map[string]any) []string {
	t.Helper()
	var out []string
	for _, s := range d["scopes"].([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestLoginAgainKeepsEachTokensState: a new login issues a new token with the new
// scopes; it never brings an older token back or lends it scopes.
func TestLoginAgainKeepsEachTokensState(t *testing.T) {
	user := sandbox.MetaSmallUser
	tests := []struct {
		name  string
		check func(t *testing.T, srvURL string, login func(scopes ...string) string, decline declineFunc)
	}{
		{name: "revoked token stays dead after a new login", check: func(t *testing.T, srvURL string, login func(...string) string, _ declineFunc) {
			old := login()
			deletePermission(t, srvURL, old, "")
			fresh := login()
			if d := debugTokenURL(t, srvURL, old); d["is_valid"] != false {
				t.Errorf("the revoked token works again: %v", d)
			}
			if d := debugTokenURL(t, srvURL, fresh); d["is_valid"] != true {
				t.Errorf("the new token does not work: %v", d)
			}
		}},
		{name: "removed permission stays removed when the new login does not grant it", check: func(t *testing.T, srvURL string, login func(...string) string, _ declineFunc) {
			old := login("public_profile", "ads_read")
			deletePermission(t, srvURL, old, "ads_read")
			fresh := login("public_profile")
			for _, tok := range []string{old, fresh} {
				if scopes := debugScopes(t, debugTokenURL(t, srvURL, tok)); slices.Contains(scopes, "ads_read") {
					t.Errorf("ads_read is back: %v", scopes)
				}
			}
		}},
		{name: "removed permission comes back when a new login grants it", check: func(t *testing.T, srvURL string, login func(...string) string, _ declineFunc) {
			old := login("public_profile", "ads_read")
			deletePermission(t, srvURL, old, "ads_read")
			fresh := login("public_profile", "ads_read")
			if scopes := debugScopes(t, debugTokenURL(t, srvURL, fresh)); !slices.Contains(scopes, "ads_read") {
				t.Errorf("the new login's grant is missing: %v", scopes)
			}
		}},
		{name: "old token loses a scope declined in a later login", check: func(t *testing.T, srvURL string, login func(...string) string, decline declineFunc) {
			old := login("public_profile", "ads_read")
			decline([]string{"public_profile", "ads_read"}, []string{"public_profile"})
			if scopes := debugScopes(t, debugTokenURL(t, srvURL, old)); slices.Contains(scopes, "ads_read") {
				t.Errorf("old token keeps a declined scope: %v", scopes)
			}
			r := graphURL(t, srvURL, "/me/adaccounts", old)
			if e := meta.Classify("", r.status, r.header, r.body); e.Reason != providers.ReasonMissingPermission {
				t.Errorf("old token still reads ad accounts: %s", r.body)
			}
		}},
		{name: "a later login asking for fewer scopes leaves the others granted", check: func(t *testing.T, srvURL string, login func(...string) string, _ declineFunc) {
			old := login("public_profile", "ads_read", "email")
			fresh := login("public_profile")
			for _, tok := range []string{old, fresh} {
				if scopes := debugScopes(t, debugTokenURL(t, srvURL, tok)); !slices.Contains(scopes, "ads_read") || !slices.Contains(scopes, "email") {
					t.Errorf("scopes = %v, want ads_read and email still granted", scopes)
				}
			}
			if r := graphURL(t, srvURL, "/me/adaccounts", old); r.status != 200 {
				t.Errorf("old token lost ad accounts: %d %s", r.status, r.body)
			}
		}},
		{name: "a login after removing the app grants only what it asks for", check: func(t *testing.T, srvURL string, login func(...string) string, _ declineFunc) {
			old := login("public_profile", "ads_read")
			deletePermission(t, srvURL, old, "")
			fresh := login("public_profile")
			if scopes := debugScopes(t, debugTokenURL(t, srvURL, fresh)); slices.Contains(scopes, "ads_read") {
				t.Errorf("removing the app left ads_read granted: %v", scopes)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			login := func(scopes ...string) string { return longLived(t, srv, user, scopes...) }
			decline := func(requested, granted []string) string { return loginDeclining(t, srv, user, requested, granted) }
			tt.check(t, srv.URL, login, decline)
		})
	}
}

func debugTokenURL(t *testing.T, srvURL, tok string) map[string]any {
	t.Helper()
	q := url.Values{"input_token": {tok}, "access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}}
	req, _ := http.NewRequest(http.MethodGet, srvURL+"/sandbox/meta/graph/v24.0/debug_token?"+q.Encode(), nil)
	r := do(t, req)
	if r.status != 200 {
		t.Fatalf("debug_token: %d %s", r.status, r.body)
	}
	return r.json(t)["data"].(map[string]any)
}

func graphURL(t *testing.T, srvURL, path, tok string) result {
	t.Helper()
	q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
	req, _ := http.NewRequest(http.MethodGet, srvURL+"/sandbox/meta/graph/v24.0"+path+"?"+q.Encode(), nil)
	return do(t, req)
}

// declineFunc logs in through the dialog asking for requested and ticking only granted.
type declineFunc func(requested, granted []string) string

func loginDeclining(t *testing.T, srv *httptest.Server, user string, requested, granted []string) string {
	t.Helper()
	form := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "redirect_uri": {sandboxtest.RedirectURI}, "state": {"st"},
		"scope": {strings.Join(requested, ",")}, "as": {user}, "action": {"continue"}, "perm": granted}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sandbox/meta/www/dialog/oauth", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := do(t, req)
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("dialog: %d %s", r.status, r.body)
	}
	return exchangeCode(t, srv, loc.Query().Get("code"))
}
