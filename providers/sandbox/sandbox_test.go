package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON: %s", r.body)
	}
	return m
}

func do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := sandboxtest.NoRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, b}
}

// graph calls a Graph path with the token and its appsecret_proof.
func graph(t *testing.T, srv *httptest.Server, path, tok string, extra url.Values) result {
	t.Helper()
	q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
	for k, v := range extra {
		q[k] = v
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/v24.0"+path+"?"+q.Encode(), nil)
	return do(t, req)
}

func exchange(t *testing.T, srv *httptest.Server, short string) result {
	t.Helper()
	q := url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {sandbox.DefaultMetaAppID},
		"client_secret": {sandbox.DefaultMetaAppSecret}, "fb_exchange_token": {short}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/oauth/access_token?"+q.Encode(), nil)
	return do(t, req)
}

func longLived(t *testing.T, srv *httptest.Server, user string, scopes ...string) string {
	t.Helper()
	r := exchange(t, srv, sandboxtest.MetaLogin(t, srv, user, scopes...))
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	return r.json(t)["access_token"].(string)
}

func debugToken(t *testing.T, srv *httptest.Server, tok string) map[string]any {
	t.Helper()
	q := url.Values{"input_token": {tok}, "access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/v24.0/debug_token?"+q.Encode(), nil)
	r := do(t, req)
	if r.status != 200 {
		t.Fatalf("debug_token: %d %s", r.status, r.body)
	}
	return r.json(t)["data"].(map[string]any)
}

func TestMetaDialogAndCodeExchange(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	code := sandboxtest.Code(t, srv, "meta", sandbox.MetaAgencyUser, sandboxtest.MetaScopes)
	tokenURL := srv.URL + "/sandbox/meta/graph/v24.0/oauth/access_token"
	form := func(mut func(url.Values)) url.Values {
		v := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "client_secret": {sandbox.DefaultMetaAppSecret},
			"redirect_uri": {sandboxtest.RedirectURI}, "code": {code}}
		mut(v)
		return v
	}
	tests := []struct {
		name    string
		form    url.Values
		basic   bool
		status  int
		code    float64
		subcode float64
	}{
		{name: "wrong app id", form: form(func(v url.Values) { v.Set("client_id", "1") }), status: 400, code: 101},
		{name: "wrong secret", form: form(func(v url.Values) { v.Set("client_secret", "x") }), status: 400, code: 1},
		{name: "redirect mismatch", form: form(func(v url.Values) { v.Set("redirect_uri", "http://evil.test/") }), status: 400, code: 100, subcode: 36008},
		{name: "garbage code", form: form(func(v url.Values) { v.Set("code", "nope") }), status: 400, code: 100},
		{name: "ok with basic auth", form: form(func(v url.Values) { v.Del("client_id"); v.Del("client_secret") }), basic: true, status: 200},
		{name: "code is single use", form: form(func(url.Values) {}), status: 400, code: 100, subcode: 36009},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic {
				req.SetBasicAuth(sandbox.DefaultMetaAppID, sandbox.DefaultMetaAppSecret)
			}
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			m := r.json(t)
			if tt.status == 200 {
				if m["access_token"] == "" || m["expires_in"].(float64) > 2*3600 || m["expires_in"].(float64) < 3600 {
					t.Errorf("short-lived token response: %v", m)
				}
				return
			}
			e := m["error"].(map[string]any)
			if e["code"] != tt.code || (tt.subcode != 0 && e["error_subcode"] != tt.subcode) || e["fbtrace_id"] == "" {
				t.Errorf("error = %v", e)
			}
		})
	}
}

func TestMetaCodeExpires(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	code := sandboxtest.Code(t, srv, "meta", sandbox.MetaSmallUser, nil)
	sandboxtest.Advance(t, srv, 11*time.Minute)
	q := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "client_secret": {sandbox.DefaultMetaAppSecret},
		"redirect_uri": {sandboxtest.RedirectURI}, "code": {code}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/oauth/access_token?"+q.Encode(), nil)
	r := do(t, req)
	if e := r.json(t)["error"].(map[string]any); e["error_subcode"] != float64(36007) {
		t.Errorf("expired code: %s", r.body)
	}
}

func TestMetaDialogPages(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	base := srv.URL + "/sandbox/meta/www/dialog/oauth"
	q := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "redirect_uri": {sandboxtest.RedirectURI}, "state": {"xyz"},
		"scope": {"email,ads_read,pages_show_list"}, "auth_type": {"rerequest"}}

	req, _ := http.NewRequest(http.MethodGet, base+"?"+q.Encode(), nil)
	r := do(t, req)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(r.body)))
	if n := doc.Find(`[data-testid="sandbox-user"]`).Length(); n != 3 {
		t.Fatalf("chooser lists %d users, want 3", n)
	}
	assertStrictCSP(t, string(r.body))

	q.Set("as", sandbox.MetaAgencyUser)
	req, _ = http.NewRequest(http.MethodGet, base+"?"+q.Encode(), nil)
	r = do(t, req)
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(string(r.body)))
	if doc.Find(`[data-testid="sandbox-page"]`).Length() != 3 || doc.Find(`[data-testid="sandbox-adaccount"]`).Length() != 4 ||
		doc.Find(`[data-testid="sandbox-perm"]`).Length() != 3 {
		t.Fatalf("consent page lacks pages, ad accounts or permissions:\n%s", r.body)
	}
	if !strings.Contains(string(r.body), "asking again") {
		t.Error("auth_type=rerequest is not shown")
	}
	assertStrictCSP(t, string(r.body))

	tests := []struct {
		name  string
		form  url.Values
		check func(t *testing.T, loc *url.URL)
	}{
		{
			name: "cancel returns access_denied",
			form: url.Values{"action": {"cancel"}},
			check: func(t *testing.T, loc *url.URL) {
				v := loc.Query()
				if v.Get("error") != "access_denied" || v.Get("error_reason") != "user_denied" || v.Get("error_code") != "200" || v.Get("state") != "xyz" {
					t.Errorf("cancel redirect: %s", loc)
				}
			},
		},
		{
			name: "continue with one page and no ads_read",
			form: url.Values{"action": {"continue"}, "perm": {"email", "pages_show_list"}, "page": {"110000000000002"}, "adaccount": {"act_200000000000001"}},
			check: func(t *testing.T, loc *url.URL) {
				if loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
					t.Fatalf("continue redirect: %s", loc)
				}
				tok := exchangeCode(t, srv, loc.Query().Get("code"))
				m := graph(t, srv, "/me/accounts", tok, nil).json(t)
				if data := m["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != "110000000000002" {
					t.Errorf("granted pages = %v", m)
				}
				perms := graph(t, srv, "/me/permissions", tok, nil).json(t)["data"].([]any)
				declined := false
				for _, p := range perms {
					pm := p.(map[string]any)
					if pm["permission"] == "ads_read" && pm["status"] == "declined" {
						declined = true
					}
				}
				if !declined {
					t.Errorf("ads_read not declined: %v", perms)
				}
				if r := graph(t, srv, "/me/adaccounts", tok, nil); r.status != 403 {
					t.Errorf("ad accounts without ads scope: %d", r.status)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range q {
				form[k] = v
			}
			for k, v := range tt.form {
				form[k] = v
			}
			req, _ := http.NewRequest(http.MethodPost, base, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r := do(t, req)
			if r.status != http.StatusFound {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			tt.check(t, loc)
		})
	}
}

func exchangeCode(t *testing.T, srv *httptest.Server, code string) string {
	t.Helper()
	q := url.Values{"client_id": {sandbox.DefaultMetaAppID}, "client_secret": {sandbox.DefaultMetaAppSecret},
		"redirect_uri": {sandboxtest.RedirectURI}, "code": {code}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/oauth/access_token?"+q.Encode(), nil)
	r := do(t, req)
	if r.status != 200 {
		t.Fatalf("exchange code: %s", r.body)
	}
	return r.json(t)["access_token"].(string)
}

func assertStrictCSP(t *testing.T, html string) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("script").Length() > 0 || doc.Find("style").Length() > 0 || doc.Find("[style]").Length() > 0 {
		t.Error("page has inline script or style, which a strict CSP blocks")
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("inline handler %s", a.Key)
			}
		}
	})
}

func TestAppSecretProof(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := sandboxtest.MetaLogin(t, srv, sandbox.MetaSmallUser)
	tests := []struct {
		name   string
		query  url.Values
		status int
		msg    string
	}{
		{name: "missing proof", query: url.Values{"access_token": {tok}}, status: 400, msg: "appsecret_proof"},
		{name: "wrong proof", query: url.Values{"access_token": {tok}, "appsecret_proof": {"00"}}, status: 400, msg: "Invalid appsecret_proof"},
		{name: "right proof", query: url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}, status: 200},
		{name: "unknown token", query: url.Values{"access_token": {"EAAbogus"}}, status: 400, msg: "Cannot parse access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/me?"+tt.query.Encode(), nil)
			r := do(t, req)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.msg) {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
	}
}

func TestMetaTokenLifetimes(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	short := sandboxtest.MetaLogin(t, srv, sandbox.MetaAgencyUser)
	d := debugToken(t, srv, short)
	now := sandboxtest.Epoch.Unix()
	if d["is_valid"] != true || d["type"] != "USER" || d["user_id"] != sandbox.MetaAgencyUser ||
		int64(d["expires_at"].(float64))-now > 2*3600 || int64(d["data_access_expires_at"].(float64))-now != 90*86400 {
		t.Fatalf("short-lived debug_token: %v", d)
	}
	r := exchange(t, srv, short)
	long := r.json(t)["access_token"].(string)
	if got := r.json(t)["expires_in"].(float64); got != 60*86400 {
		t.Errorf("long-lived expires_in = %v", got)
	}
	d = debugToken(t, srv, long)
	if int64(d["expires_at"].(float64))-now != 60*86400 {
		t.Errorf("long-lived expires_at: %v", d["expires_at"])
	}
	accounts := graph(t, srv, "/me/accounts", long, url.Values{"fields": {"id,name,access_token,tasks,instagram_business_account"}}).json(t)
	pages := accounts["data"].([]any)
	if len(pages) != 3 {
		t.Fatalf("pages = %v", accounts)
	}
	first := pages[0].(map[string]any)
	if first["instagram_business_account"].(map[string]any)["id"] != "178000000000001" {
		t.Errorf("first page lacks instagram account: %v", first)
	}
	pd := debugToken(t, srv, first["access_token"].(string))
	if pd["type"] != "PAGE" || pd["expires_at"] != float64(0) || pd["profile_id"] != "110000000000001" {
		t.Errorf("page token from long-lived user token: %v", pd)
	}

	sandboxtest.Advance(t, srv, 2*time.Hour)
	if r := graph(t, srv, "/me", short, nil); !strings.Contains(string(r.body), `"error_subcode":463`) {
		t.Errorf("short-lived token after 2h: %s", r.body)
	}
	if d := debugToken(t, srv, short); d["is_valid"] != false {
		t.Errorf("debug_token of expired token: %v", d)
	}
	if r := graph(t, srv, "/me", long, nil); r.status != 200 {
		t.Errorf("long-lived after 2h: %s", r.body)
	}
	sandboxtest.Advance(t, srv, 60*24*time.Hour)
	r = graph(t, srv, "/me", long, nil)
	if e := meta.Classify("me", r.status, r.header, r.body); e.Reason != providers.ReasonTokenExpired {
		t.Errorf("long-lived after 60 days: %s", r.body)
	}
	if r := exchange(t, srv, long); r.status != 400 {
		t.Errorf("exchanging an expired token: %s", r.body)
	}
}

func TestAdAccountsPaging(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaBulkUser)
	seen := map[string]bool{}
	next := srv.URL + "/sandbox/meta/graph/v24.0/me/adaccounts?" + url.Values{"access_token": {tok},
		"appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}, "fields": {"account_id,name,currency"}, "limit": {"100"}}.Encode()
	pages := 0
	for next != "" {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		r := do(t, req)
		m := r.json(t)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages+1, r.status, r.body)
		}
		for _, a := range m["data"].([]any) {
			seen[a.(map[string]any)["account_id"].(string)] = true
		}
		next = ""
		if p, ok := m["paging"].(map[string]any); ok && p["next"] != nil {
			next = withProof(t, p["next"].(string), tok)
		}
		pages++
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 250 || pages != 3 {
		t.Errorf("got %d accounts in %d pages, want 250 in 3", len(seen), pages)
	}
}

func TestAdAccountFieldsAndSpendGrows(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaAgencyUser)
	fields := url.Values{"fields": {"account_id,name,currency,account_status,disable_reason,amount_spent,spend_cap,balance,timezone_name,business{id,name},user_tasks,tos_accepted,user_tos_accepted,funding_source_details"}}
	get := func(id string) map[string]any { return graph(t, srv, "/act_"+id, tok, fields).json(t) }
	a := get("200000000000001")
	for _, f := range []string{"account_id", "name", "currency", "account_status", "disable_reason", "amount_spent", "spend_cap", "balance", "timezone_name", "business", "user_tasks", "tos_accepted", "user_tos_accepted", "funding_source_details"} {
		if _, ok := a[f]; !ok {
			t.Errorf("field %s missing", f)
		}
	}
	if b := a["business"].(map[string]any); b["name"] != "Avery Agency Ltd" {
		t.Errorf("business = %v", b)
	}
	if d := get("200000000000003"); d["account_status"] != float64(2) || d["disable_reason"] != float64(1) {
		t.Errorf("disabled account = %v", d)
	}
	if d := get("200000000000004"); len(d["tos_accepted"].(map[string]any)) != 0 {
		t.Errorf("terms account = %v", d)
	}
	before := a["amount_spent"]
	sandboxtest.Advance(t, srv, 24*time.Hour)
	if after := get("200000000000001")["amount_spent"]; after == before {
		t.Errorf("spend did not grow: %v", after)
	}
	px := graph(t, srv, "/act_200000000000001/adspixels", tok, url.Values{"fields": {"id,name,last_fired_time"}}).json(t)
	if data := px["data"].([]any); len(data) != 1 || data[0].(map[string]any)["name"] != "Northwind Bakery Pixel" {
		t.Errorf("adspixels = %v", px)
	}
	if r := graph(t, srv, "/act_999", tok, nil); !strings.Contains(string(r.body), `"error_subcode":33`) {
		t.Errorf("unknown ad account: %s", r.body)
	}
}

// TestMetaFaults injects every fault and checks that the very next call fails the way
// Graph documents, that the classifier names the reason, and that clear repairs it.
func TestMetaFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  sandbox.FaultRequest
		path   string
		exch   bool
		reason providers.Reason
		check  func(t *testing.T, r result)
	}{
		{name: "token_expired", fault: sandbox.FaultRequest{Fault: "token_expired"}, path: "/me", reason: providers.ReasonTokenExpired},
		{name: "password_changed", fault: sandbox.FaultRequest{Fault: "password_changed"}, path: "/me/adaccounts", reason: providers.ReasonPasswordChanged},
		{name: "app_removed", fault: sandbox.FaultRequest{Fault: "app_removed"}, path: "/me/accounts", reason: providers.ReasonAppRemoved},
		{name: "security_checkpoint", fault: sandbox.FaultRequest{Fault: "security_checkpoint"}, path: "/me", reason: providers.ReasonSecurityCheckpoint},
		{name: "unconfirmed_account", fault: sandbox.FaultRequest{Fault: "unconfirmed_account"}, path: "/me", reason: providers.ReasonUnconfirmedAccount},
		{name: "session_invalidated", fault: sandbox.FaultRequest{Fault: "session_invalidated"}, path: "/me", reason: providers.ReasonSessionInvalidated},
		{name: "lost_asset_role page", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "110000000000002"}, path: "/110000000000002", reason: providers.ReasonLostAssetRole},
		{name: "lost_asset_role ad account", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "act_200000000000002"}, path: "/act_200000000000002", reason: providers.ReasonLostAssetRole},
		{name: "missing_permission default", fault: sandbox.FaultRequest{Fault: "missing_permission"}, path: "/act_200000000000001", reason: providers.ReasonMissingPermission,
			check: func(t *testing.T, r result) {
				if !strings.Contains(string(r.body), "ads_read") {
					t.Errorf("scope not named: %s", r.body)
				}
			}},
		{name: "missing_permission pages", fault: sandbox.FaultRequest{Fault: "missing_permission", Scope: "pages_show_list"}, path: "/me/accounts", reason: providers.ReasonMissingPermission},
		{name: "refresh_token_invalid", fault: sandbox.FaultRequest{Fault: "refresh_token_invalid"}, exch: true, reason: providers.ReasonRefreshTokenInvalid},
		{name: "rate_limited user", fault: sandbox.FaultRequest{Fault: "rate_limited"}, path: "/me", reason: providers.ReasonRateLimited,
			check: func(t *testing.T, r result) {
				e := meta.Classify("me", r.status, r.header, r.body)
				if e.Code != 17 || r.header.Get("X-App-Usage") == "" || meta.ParseUsage(r.header).App >= 100 {
					t.Errorf("a user limit is code 17 with the app's own usage: %v %v", e, r.header)
				}
			}},
		{name: "rate_limited ad account", fault: sandbox.FaultRequest{Fault: "rate_limited", Asset: "200000000000001"}, path: "/act_200000000000001", reason: providers.ReasonRateLimited,
			check: func(t *testing.T, r result) {
				if e := meta.Classify("", r.status, r.header, r.body); e.RetryAfter != 15*time.Minute {
					t.Errorf("retry after = %v", e.RetryAfter)
				}
			}},
		{name: "provider_unavailable 503", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, path: "/me", reason: providers.ReasonProviderUnavailable,
			check: func(t *testing.T, r result) {
				if r.status != 503 {
					t.Errorf("status %d", r.status)
				}
			}},
		{name: "policy_blocked", fault: sandbox.FaultRequest{Fault: "policy_blocked"}, path: "/me/adaccounts", reason: providers.ReasonPolicyBlocked},
		{name: "unknown", fault: sandbox.FaultRequest{Fault: "unknown"}, path: "/me", reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			tok := longLived(t, srv, sandbox.MetaAgencyUser)
			short := sandboxtest.MetaLogin(t, srv, sandbox.MetaAgencyUser)
			call := func() result {
				if tt.exch {
					return exchange(t, srv, short)
				}
				return graph(t, srv, tt.path, tok, nil)
			}
			if r := call(); r.status != 200 {
				t.Fatalf("before the fault: %d %s", r.status, r.body)
			}
			f := tt.fault
			f.Provider, f.User = "meta", sandbox.MetaAgencyUser
			sandboxtest.Inject(t, srv, f)
			r := call()
			op := "graph"
			if tt.exch {
				op = meta.OpExchange
			}
			e := meta.Classify(op, r.status, r.header, r.body)
			if r.status == 200 || e.Reason != tt.reason {
				t.Fatalf("after the fault: reason %s, want %s: %d %s", e.Reason, tt.reason, r.status, r.body)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			f.Fault = sandbox.FaultClear
			sandboxtest.Inject(t, srv, f)
			if r := call(); r.status != 200 {
				t.Fatalf("after clear: %d %s", r.status, r.body)
			}
		})
	}
}

func TestReauthenticateRepairsLoginFaults(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	old := longLived(t, srv, sandbox.MetaAgencyUser)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: "password_changed"})
	if r := graph(t, srv, "/me", old, nil); r.status == 200 {
		t.Fatal("old token still works")
	}
	fresh := longLived(t, srv, sandbox.MetaAgencyUser)
	if r := graph(t, srv, "/me", fresh, nil); r.status != 200 {
		t.Errorf("a new login does not repair password_changed: %s", r.body)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: "security_checkpoint"})
	if r := graph(t, srv, "/me", sandboxtest.MetaLogin(t, srv, sandbox.MetaAgencyUser), nil); r.status == 200 {
		t.Error("a checkpoint must hold until cleared")
	}
}

func TestAssetFaultsOnData(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaAgencyUser)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: "act_200000000000001", Fault: sandbox.FaultAccountDisabled})
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: "200000000000002", Fault: sandbox.FaultTermsRevoked})
	a := graph(t, srv, "/act_200000000000001", tok, url.Values{"fields": {"account_status,disable_reason"}}).json(t)
	if a["account_status"] != float64(2) || a["disable_reason"] == float64(0) {
		t.Errorf("disabled: %v", a)
	}
	b := graph(t, srv, "/act_200000000000002", tok, url.Values{"fields": {"tos_accepted,user_tos_accepted"}}).json(t)
	if len(b["tos_accepted"].(map[string]any)) != 0 {
		t.Errorf("terms revoked: %v", b)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: "110000000000001", Fault: "lost_asset_role"})
	if data := graph(t, srv, "/me/accounts", tok, nil).json(t)["data"].([]any); len(data) != 2 {
		t.Errorf("a page with a lost role is still listed: %v", data)
	}
}

func TestRevokePermissions(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaSmallUser)
	q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/sandbox/meta/graph/v24.0/me/permissions?"+q.Encode(), nil)
	if r := do(t, req); r.status != 200 || !strings.Contains(string(r.body), `"success":true`) {
		t.Fatalf("revoke: %s", r.body)
	}
	r := graph(t, srv, "/me", tok, nil)
	if e := meta.Classify("me", r.status, r.header, r.body); e.Reason != providers.ReasonAppRemoved {
		t.Errorf("after revoke: %s", r.body)
	}
}

func TestProviderUnavailableModes(t *testing.T) {
	tests := []struct {
		name string
		mode string
	}{
		{name: "reset", mode: sandbox.ModeReset},
		{name: "slow", mode: sandbox.ModeSlow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			tok := longLived(t, srv, sandbox.MetaSmallUser)
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "provider_unavailable", Mode: tt.mode})
			client := &http.Client{Timeout: 200 * time.Millisecond}
			q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
			_, err := client.Get(srv.URL + "/sandbox/meta/graph/me?" + q.Encode())
			if err == nil {
				t.Fatal("the call succeeded")
			}
			e := providers.ClassifyTransport("meta", "me", err)
			if e.Reason != providers.ReasonProviderUnavailable || strings.Contains(e.Error(), tok) {
				t.Errorf("classified %v", e)
			}
		})
	}
}

func TestJSONAPI(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	var st sandbox.State
	resp, err := http.Get(srv.URL + "/sandbox/api/state")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Apps) != 2 || st.Apps[0].ID != sandbox.DefaultMetaAppID || st.Apps[0].Secret != sandbox.DefaultMetaAppSecret || len(st.Users) != 4 {
		t.Fatalf("state = %+v", st)
	}
	bad := []struct {
		name string
		body string
	}{
		{name: "bad provider", body: `{"provider":"x","user":"1","fault":"clear"}`},
		{name: "unknown user", body: `{"provider":"meta","user":"nobody","fault":"token_expired"}`},
		{name: "unknown fault", body: `{"provider":"meta","user":"10000000000001","fault":"melt"}`},
		{name: "asset of another user", body: `{"provider":"meta","user":"10000000000003","asset":"act_200000000000001","fault":"rate_limited"}`},
		{name: "lost role needs asset", body: `{"provider":"meta","user":"10000000000001","fault":"lost_asset_role"}`},
		{name: "bad mode", body: `{"provider":"meta","user":"10000000000001","fault":"provider_unavailable","mode":"melt"}`},
		{name: "not json", body: `{`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/sandbox/api/faults", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
		})
	}
	resp, _ = http.Post(srv.URL+"/sandbox/api/clock", "application/json", strings.NewReader(`{"advance":"48h"}`))
	var clk struct {
		Now time.Time `json:"now"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&clk)
	resp.Body.Close()
	if !clk.Now.Equal(sandboxtest.Epoch.Add(48 * time.Hour)) {
		t.Errorf("clock now = %v", clk.Now)
	}
	tok := sandboxtest.MetaLogin(t, srv, sandbox.MetaSmallUser)
	for range 3 {
		debugToken(t, srv, tok)
	}
	var calls struct {
		Calls []sandbox.CallCount `json:"calls"`
	}
	resp, _ = http.Get(srv.URL + "/sandbox/api/calls")
	_ = json.NewDecoder(resp.Body).Decode(&calls)
	resp.Body.Close()
	found := false
	for _, c := range calls.Calls {
		if c.Endpoint == "GET /debug_token" && c.Token == sandbox.TokenFingerprint(tok) && c.Count == 3 && c.User == sandbox.MetaSmallUser {
			found = true
		}
		if strings.Contains(c.Token, tok) {
			t.Error("calls expose a token")
		}
	}
	if !found {
		t.Errorf("calls = %+v", calls.Calls)
	}
}

func TestPanel(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: "rate_limited"})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox", nil)
	r := do(t, req)
	if r.status != 200 {
		t.Fatalf("panel: %d", r.status)
	}
	assertStrictCSP(t, string(r.body))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(r.body)))
	if n := doc.Find(`[data-testid="sandbox-panel-user"]`).Length(); n != 4 {
		t.Errorf("panel lists %d users, want 4", n)
	}
	if doc.Find(`[data-testid="sandbox-fault"]`).Length() != 1 {
		t.Error("active fault not listed")
	}
	css := do(t, mustReq(http.MethodGet, srv.URL+"/sandbox/static/sandbox.css", ""))
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("css: %d %s", css.status, css.header.Get("Content-Type"))
	}
	// The panel's forms post back and redirect.
	r = do(t, mustReq(http.MethodPost, srv.URL+"/sandbox/panel/clock", "advance=24h"))
	if r.status != http.StatusSeeOther || !sb.Clock().Now().Equal(sandboxtest.Epoch.Add(24*time.Hour)) {
		t.Errorf("panel clock: %d %v", r.status, sb.Clock().Now())
	}
	r = do(t, mustReq(http.MethodPost, srv.URL+"/sandbox/panel/faults", "provider=meta&user="+sandbox.MetaAgencyUser+"&fault=clear"))
	if r.status != http.StatusSeeOther || len(sb.Faults()) != 0 {
		t.Errorf("panel clear: %d %v", r.status, sb.Faults())
	}
	r = do(t, mustReq(http.MethodPost, srv.URL+"/sandbox/panel/faults", "provider=meta&user=nobody&fault=clear"))
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("bad panel fault: %d", r.status)
	}
}

func mustReq(method, u, form string) *http.Request {
	req, _ := http.NewRequest(method, u, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

func TestConcurrentUse(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaAgencyUser)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := url.Values{"input_token": {tok}, "access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}}
			paths := []string{"/sandbox/meta/graph/debug_token?" + q.Encode(),
				"/sandbox/meta/graph/me/adaccounts?" + url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}.Encode(),
				"/sandbox/api/state"}
			for j := range 10 {
				resp, err := http.Get(srv.URL + paths[(i+j)%len(paths)])
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
				}
			}
			if i%8 == 0 {
				sandboxtest.Advance(t, srv, time.Minute)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestPrefixIsConfigurable(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Prefix: "/fake/"})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	if sb.Prefix() != "/fake" {
		t.Errorf("prefix = %q", sb.Prefix())
	}
	for _, tt := range []struct {
		name   string
		path   string
		status int
	}{
		{name: "panel", path: "/fake", status: 200},
		{name: "state", path: "/fake/api/state", status: 200},
		{name: "outside", path: "/sandbox/api/state", status: 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%s: %d", tt.path, resp.StatusCode)
			}
		})
	}
}

func TestRevokeOnePermission(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaSmallUser, "public_profile", "ads_read")
	q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/sandbox/meta/graph/v24.0/me/permissions/ads_read?"+q.Encode(), nil)
	if r := do(t, req); r.status != 200 {
		t.Fatalf("revoke one: %s", r.body)
	}
	r := graph(t, srv, "/me/adaccounts", tok, nil)
	if e := meta.Classify("", r.status, r.header, r.body); e.Reason != providers.ReasonMissingPermission {
		t.Errorf("after revoking ads_read: %s", r.body)
	}
	if r := graph(t, srv, "/me", tok, nil); r.status != 200 {
		t.Errorf("/me must still work: %s", r.body)
	}
}

func TestLinkedInDialog(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	base := srv.URL + "/sandbox/linkedin/www/oauth/v2/authorization"
	q := url.Values{"client_id": {sandbox.DefaultLinkedInClientID}, "redirect_uri": {sandboxtest.RedirectURI},
		"state": {"li"}, "scope": {"openid profile r_ads"}, "response_type": {"code"}}
	tests := []struct {
		name   string
		method string
		query  url.Values
		status int
		check  func(t *testing.T, r result)
	}{
		{name: "chooser", method: http.MethodGet, query: q, status: 200, check: func(t *testing.T, r result) {
			if !strings.Contains(string(r.body), "Dana Okafor") {
				t.Error("member not listed")
			}
			assertStrictCSP(t, string(r.body))
		}},
		{name: "wrong client", method: http.MethodGet, query: url.Values{"client_id": {"x"}, "redirect_uri": {sandboxtest.RedirectURI}}, status: 400},
		{name: "relative redirect", method: http.MethodGet, query: url.Values{"client_id": {sandbox.DefaultLinkedInClientID}, "redirect_uri": {"/cb"}}, status: 400},
		{name: "unknown sandbox user", method: http.MethodGet, query: merge(q, url.Values{"sandbox_user": {"nobody"}}), status: 400},
		{name: "cancel", method: http.MethodPost, query: merge(q, url.Values{"action": {"cancel"}, "as": {sandbox.LinkedInMember}}), status: 302, check: func(t *testing.T, r result) {
			loc, _ := url.Parse(r.header.Get("Location"))
			if loc.Query().Get("error") != "user_cancelled_authorize" || loc.Query().Get("state") != "li" {
				t.Errorf("cancel: %s", loc)
			}
		}},
		{name: "continue", method: http.MethodPost, query: merge(q, url.Values{"action": {"continue"}, "as": {sandbox.LinkedInMember}, "perm": {"openid", "profile"}}), status: 302, check: func(t *testing.T, r result) {
			loc, _ := url.Parse(r.header.Get("Location"))
			if loc.Query().Get("code") == "" || loc.Fragment != "" {
				t.Errorf("continue: %s", loc)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req *http.Request
			if tt.method == http.MethodGet {
				req, _ = http.NewRequest(http.MethodGet, base+"?"+tt.query.Encode(), nil)
			} else {
				req = mustReq(http.MethodPost, base, tt.query.Encode())
			}
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestURLs(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	u := sb.URLs("http://localhost:8080/")
	if u.MetaGraph != "http://localhost:8080/sandbox/meta/graph" || u.LinkedInWWW != "http://localhost:8080/sandbox/linkedin/www" {
		t.Errorf("urls = %+v", u)
	}
}

func TestEveryFaultIsInjectable(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	for _, name := range sandbox.FaultNames() {
		t.Run(name, func(t *testing.T) {
			f := sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: name}
			if name == "lost_asset_role" || name == sandbox.FaultAccountDisabled || name == sandbox.FaultTermsRevoked {
				f.Asset = "act_200000000000001"
			}
			sandboxtest.Inject(t, srv, f)
			if _, ok := providers.ParseReason(name); !ok && name != sandbox.FaultAccountDisabled && name != sandbox.FaultTermsRevoked {
				t.Errorf("fault %s is neither a reason nor a data fault", name)
			}
		})
	}
	for _, r := range providers.AllReasons() {
		found := false
		for _, name := range sandbox.FaultNames() {
			found = found || name == string(r)
		}
		if !found {
			t.Errorf("reason %s cannot be injected", r)
		}
	}
}

func TestPageTokenDiesWithDataAccess(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaAgencyUser)
	r := graph(t, srv, "/me/accounts", tok, nil)
	if r.header.Get("X-App-Usage") == "" {
		t.Error("Graph responses carry x-app-usage")
	}
	page := r.json(t)["data"].([]any)[0].(map[string]any)["access_token"].(string)
	sandboxtest.Advance(t, srv, 89*24*time.Hour)
	if r := graph(t, srv, "/me", page, nil); r.status != 200 {
		t.Fatalf("page token before 90 days: %s", r.body)
	}
	sandboxtest.Advance(t, srv, 2*24*time.Hour)
	r = graph(t, srv, "/me", page, nil)
	if e := meta.Classify("", r.status, r.header, r.body); e.Reason != providers.ReasonTokenExpired || !strings.Contains(e.Message, "Data access") {
		t.Errorf("page token after data access expiry: %s", r.body)
	}
}
