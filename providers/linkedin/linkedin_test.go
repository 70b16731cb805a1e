package linkedin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		status    int
		header    http.Header
		body      string
		reason    providers.Reason
		retryable bool
		detail    providers.Detail
	}{
		{name: "408 empty body", status: 408, body: ``, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "401 html from a proxy", status: 401, body: `<html><body>Proxy authentication required</body></html>`, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "invalid_grant on refresh", op: linkedin.OpRefresh, status: 400, body: `{"error":"invalid_grant","error_description":"The provided authorization grant or refresh token is invalid, expired or revoked"}`, reason: providers.ReasonRefreshTokenInvalid},
		{name: "invalid_client", op: linkedin.OpRefresh, status: 401, body: `{"error":"invalid_client","error_description":"Client authentication failed"}`, reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "expired token", status: 401, body: `{"status":401,"serviceErrorCode":65602,"code":"EXPIRED_ACCESS_TOKEN","message":"The token used in the request has expired"}`, reason: providers.ReasonTokenExpired},
		{name: "revoked token", status: 401, body: `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}`, reason: providers.ReasonAppRemoved},
		{name: "invalid token", status: 401, body: `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`, reason: providers.ReasonSessionInvalidated},
		{name: "401 empty body", status: 401, body: ``, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "not enough permissions", status: 403, body: `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: adAccountsV2.GET.20250101"}`, reason: providers.ReasonMissingPermission},
		{name: "not an admin of the asset", op: linkedin.OpRefreshAsset, status: 403, body: `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Caller is not an authorized user of the resource"}`, reason: providers.ReasonLostAssetRole},
		{name: "restricted", status: 403, body: `{"status":403,"serviceErrorCode":100,"code":"ACCOUNT_RESTRICTED","message":"Member is restricted"}`, reason: providers.ReasonPolicyBlocked},
		{name: "throttled", status: 429, header: http.Header{"Retry-After": {"60"}}, body: `{"status":429,"message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}`, reason: providers.ReasonRateLimited, retryable: true},
		{name: "503", status: 503, body: `{"status":503,"message":"Service Unavailable"}`, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "html gateway", status: 502, body: `<html><body>Bad gateway</body></html>`, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "html on 200", status: 200, body: `<html>captive portal</html>`, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "404", status: 404, body: `{"status":404,"message":"No virtual resource found"}`, reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := linkedin.Classify(tt.op, tt.status, tt.header, []byte(tt.body))
			if e.Reason != tt.reason || e.Retryable != tt.retryable || e.Detail != tt.detail {
				t.Errorf("got %s/%s retryable=%v, want %s/%s %v", e.Reason, e.Detail, e.Retryable, tt.reason, tt.detail, tt.retryable)
			}
		})
	}
	if e := linkedin.Classify("x", 429, http.Header{"Retry-After": {"60"}}, nil); e.RetryAfter != time.Minute {
		t.Errorf("Retry-After not honoured: %v", e.RetryAfter)
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(401, `{"status":401,"code":"EXPIRED_ACCESS_TOKEN"}`, "5")
	f.Add(400, `{"error":"invalid_grant"}`, "")
	f.Add(502, `<html>`, "x")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		e := linkedin.Classify(linkedin.OpRefresh, status, http.Header{"Retry-After": {retryAfter}}, []byte(body))
		if e == nil || !e.Reason.Valid() || e.RetryAfter < 0 {
			t.Fatalf("bad result %v", e)
		}
		_ = e.Error()
	})
}

func newClient(t *testing.T, srv *httptest.Server, sb *sandbox.Sandbox) *linkedin.Client {
	t.Helper()
	return linkedin.New(linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: sandbox.DefaultLinkedInClientSecret,
		APIURL: srv.URL + "/sandbox/linkedin/api", WWWURL: srv.URL + "/sandbox/linkedin/www",
		RedirectURL: sandboxtest.RedirectURI, Clock: sb.Clock()})
}

func login(t *testing.T, srv *httptest.Server, c *linkedin.Client) providers.Token {
	t.Helper()
	code := sandboxtest.Code(t, srv, "linkedin", sandbox.LinkedInMember, sandboxtest.LinkedInScopes)
	tok, err := c.ExchangeCode(context.Background(), code, sandboxtest.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLoginLifetimesAndRefresh(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c := newClient(t, srv, sb)
	tok := login(t, srv, c)
	day := 24 * time.Hour
	if !tok.Expiry.Equal(sandboxtest.Epoch.Add(60*day)) || !tok.RefreshExpiry.Equal(sandboxtest.Epoch.Add(365*day)) {
		t.Fatalf("lifetimes: %v / %v", tok.Expiry, tok.RefreshExpiry)
	}
	me, err := c.Me(context.Background(), tok)
	if err != nil || me.ID != sandbox.LinkedInMember || me.Email == "" {
		t.Fatalf("me = %+v, %v", me, err)
	}
	sandboxtest.Advance(t, srv, 59*day)
	renewed, err := c.RenewToken(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.Expiry.Equal(sandboxtest.Epoch.Add(119*day)) || !renewed.RefreshExpiry.Equal(tok.RefreshExpiry) {
		t.Errorf("a refresh must give 60 more days and keep the refresh expiry: %v / %v", renewed.Expiry, renewed.RefreshExpiry)
	}
	sandboxtest.Advance(t, srv, 2*day)
	if _, err := c.Me(context.Background(), tok); providers.ReasonOf(err) != providers.ReasonTokenExpired {
		t.Errorf("old access token after 61 days: %v", err)
	}
	if _, err := c.Me(context.Background(), renewed); err != nil {
		t.Errorf("renewed token: %v", err)
	}
	sandboxtest.Advance(t, srv, 305*day)
	if _, err := c.RenewToken(context.Background(), renewed); providers.ReasonOf(err) != providers.ReasonRefreshTokenInvalid {
		t.Errorf("refresh after 366 days: %v", err)
	}
}

func TestDiscoverAndInspect(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c := newClient(t, srv, sb)
	tok := login(t, srv, c)
	assets, err := c.DiscoverAssets(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[providers.AssetKind]int{}
	for _, a := range assets {
		kinds[a.Kind]++
		if a.Name == "" {
			t.Errorf("asset without name: %+v", a)
		}
	}
	if kinds[providers.KindLinkedInOrganization] != 2 || kinds[providers.KindLinkedInAdAccount] != 2 {
		t.Errorf("assets = %v", kinds)
	}
	info, err := c.InspectToken(context.Background(), tok)
	if err != nil || !info.Valid || !info.ExpiresAt.Equal(tok.Expiry) || !info.HasScope("r_ads") {
		t.Errorf("inspect = %+v, %v", info, err)
	}
	if err := c.Revoke(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	info, _ = c.InspectToken(context.Background(), tok)
	if info.Valid || info.Problem == nil || info.Problem.Reason != providers.ReasonAppRemoved {
		t.Errorf("after revoke: %+v", info)
	}
}

func TestFaults(t *testing.T) {
	discover := func(c *linkedin.Client, tok providers.Token) error {
		_, err := c.DiscoverAssets(context.Background(), tok)
		return err
	}
	tests := []struct {
		name   string
		fault  sandbox.FaultRequest
		call   func(c *linkedin.Client, tok providers.Token) error
		reason providers.Reason
	}{
		{name: "token_expired", fault: sandbox.FaultRequest{Fault: "token_expired"}, reason: providers.ReasonTokenExpired},
		{name: "app_removed", fault: sandbox.FaultRequest{Fault: "app_removed"}, reason: providers.ReasonAppRemoved},
		{name: "session_invalidated", fault: sandbox.FaultRequest{Fault: "session_invalidated"}, reason: providers.ReasonSessionInvalidated},
		{name: "password_changed", fault: sandbox.FaultRequest{Fault: "password_changed"}, reason: providers.ReasonSessionInvalidated},
		{name: "security_checkpoint", fault: sandbox.FaultRequest{Fault: "security_checkpoint"}, reason: providers.ReasonSessionInvalidated},
		{name: "unconfirmed_account", fault: sandbox.FaultRequest{Fault: "unconfirmed_account"}, reason: providers.ReasonSessionInvalidated},
		{name: "lost_asset_role", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "5200001"},
			call: func(c *linkedin.Client, tok providers.Token) error {
				_, err := c.RefreshAsset(context.Background(), tok, providers.KindLinkedInAdAccount, "5200001")
				return err
			}, reason: providers.ReasonLostAssetRole},
		{name: "missing_permission", fault: sandbox.FaultRequest{Fault: "missing_permission", Scope: "r_ads"}, reason: providers.ReasonMissingPermission},
		{name: "refresh_token_invalid", fault: sandbox.FaultRequest{Fault: "refresh_token_invalid"},
			call: func(c *linkedin.Client, tok providers.Token) error {
				_, err := c.RenewToken(context.Background(), tok)
				return err
			}, reason: providers.ReasonRefreshTokenInvalid},
		{name: "rate_limited", fault: sandbox.FaultRequest{Fault: "rate_limited"}, reason: providers.ReasonRateLimited},
		{name: "provider_unavailable", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, reason: providers.ReasonProviderUnavailable},
		{name: "provider_unavailable reset", fault: sandbox.FaultRequest{Fault: "provider_unavailable", Mode: "reset"}, reason: providers.ReasonProviderUnavailable},
		{name: "policy_blocked", fault: sandbox.FaultRequest{Fault: "policy_blocked"}, reason: providers.ReasonPolicyBlocked},
		{name: "unknown", fault: sandbox.FaultRequest{Fault: "unknown"}, reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			c := newClient(t, srv, sb)
			tok := login(t, srv, c)
			call := tt.call
			if call == nil {
				call = discover
			}
			if err := call(c, tok); err != nil {
				t.Fatalf("before: %v", err)
			}
			f := tt.fault
			f.Provider, f.User = "linkedin", sandbox.LinkedInMember
			sandboxtest.Inject(t, srv, f)
			err := call(c, tok)
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Reason != tt.reason {
				t.Fatalf("got %v, want %s", err, tt.reason)
			}
			if strings.Contains(err.Error(), tok.AccessToken) || strings.Contains(err.Error(), tok.RefreshToken) {
				t.Errorf("error leaks a token: %v", err)
			}
			f.Fault = sandbox.FaultClear
			sandboxtest.Inject(t, srv, f)
			if err := call(c, tok); err != nil {
				t.Errorf("after clear: %v", err)
			}
		})
	}
}

func TestAccountDisabledShowsInData(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c := newClient(t, srv, sb)
	tok := login(t, srv, c)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Asset: "5200002", Fault: sandbox.FaultAccountDisabled})
	a, err := c.RefreshAsset(context.Background(), tok, providers.KindLinkedInAdAccount, "urn:li:sponsoredAccount:5200002")
	if err != nil || a.AccountStatus.Active() || a.AccountStatus != providers.AccountClosed {
		t.Errorf("disabled account = %+v, %v", a, err)
	}
}
