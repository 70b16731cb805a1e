package meta_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// recorder keeps every request the client sends.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func newClient(t *testing.T, srv *httptest.Server, sb *sandbox.Sandbox, mut ...func(*meta.Config)) (*meta.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg := meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
		GraphURL: srv.URL + "/sandbox/meta/graph", WWWURL: srv.URL + "/sandbox/meta/www",
		RedirectURL: sandboxtest.RedirectURI, HTTPClient: &http.Client{Transport: rec}, Clock: sb.Clock()}
	for _, m := range mut {
		m(&cfg)
	}
	return meta.New(cfg), rec
}

func login(t *testing.T, srv *httptest.Server, c *meta.Client, user string) providers.Token {
	t.Helper()
	short := sandboxtest.MetaLogin(t, srv, user)
	tok, err := c.RenewToken(context.Background(), providers.Token{AccessToken: short})
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	return tok
}

func TestDiscoverAssets(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	tok := login(t, srv, c, sandbox.MetaAgencyUser)
	if want := sandboxtest.Epoch.Add(60 * 24 * time.Hour); !tok.Expiry.Equal(want) {
		t.Errorf("long-lived expiry = %v, want %v", tok.Expiry, want)
	}
	assets, err := c.DiscoverAssets(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	count := map[providers.AssetKind]int{}
	byID := map[string]providers.Asset{}
	for _, a := range assets {
		count[a.Kind]++
		byID[a.ExternalID] = a
	}
	want := map[providers.AssetKind]int{providers.KindPage: 3, providers.KindInstagramAccount: 1, providers.KindAdAccount: 4, providers.KindDataset: 2}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d, want %d", k, count[k], n)
		}
	}
	tests := []struct {
		name  string
		id    string
		check func(a providers.Asset) bool
	}{
		{name: "active USD account", id: "act_200000000000001", check: func(a providers.Asset) bool {
			return a.AccountStatus.Active() && a.Currency == "USD" && a.TermsAccepted && a.FundingSource && a.BusinessName == "Avery Agency Ltd" && len(a.DatasetIDs) == 1 && a.AmountSpent != ""
		}},
		{name: "disabled account", id: "act_200000000000003", check: func(a providers.Asset) bool {
			return a.AccountStatus == providers.AccountDisabled && a.DisableReason == 1 && !a.FundingSource
		}},
		{name: "terms not accepted", id: "act_200000000000004", check: func(a providers.Asset) bool { return !a.TermsAccepted && a.Currency == "CAD" }},
		{name: "instagram under page", id: "178000000000001", check: func(a providers.Asset) bool {
			return a.ParentID == "110000000000001" && a.Username == "northwindbakery"
		}},
		{name: "page tasks", id: "110000000000002", check: func(a providers.Asset) bool { return len(a.Tasks) == 3 }},
		{name: "dataset", id: "300000000000001", check: func(a providers.Asset) bool { return a.ParentID == "act_200000000000001" && !a.LastFired.IsZero() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := byID[tt.id]
			if !ok || !tt.check(a) {
				t.Errorf("asset %s = %+v", tt.id, a)
			}
		})
	}
}

func TestPagingComesBackWhole(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	tok := login(t, srv, c, sandbox.MetaBulkUser)
	sb.ResetCalls()
	accts, err := c.AdAccounts(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range accts {
		seen[a.AccountID] = true
	}
	if len(seen) != 250 {
		t.Errorf("got %d distinct ad accounts, want 250", len(seen))
	}
	if n := sb.CallsTo("meta", "GET /me/adaccounts"); n != 3 {
		t.Errorf("%d calls to /me/adaccounts, want 3 pages of 100", n)
	}
}

func TestRequestsUseGraphsDocumentedShape(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, rec := newClient(t, srv, sb)
	tok := login(t, srv, c, sandbox.MetaAgencyUser)
	ctx := context.Background()
	if _, err := c.DiscoverAssets(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RefreshAsset(ctx, tok, providers.KindAdAccount, "act_200000000000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InspectToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"/v24.0/oauth/access_token": false, "/v24.0/me/accounts": false, "/v24.0/me/adaccounts": false,
		"/v24.0/act_200000000000001": false, "/v24.0/act_200000000000001/adspixels": false, "/v24.0/debug_token": false}
	for _, r := range rec.reqs {
		path := strings.TrimPrefix(r.URL.Path, "/sandbox/meta/graph")
		if _, ok := want[path]; ok {
			want[path] = true
		}
		q := r.URL.Query()
		switch path {
		case "/v24.0/oauth/access_token":
			if q.Get("grant_type") != "fb_exchange_token" || q.Get("client_id") == "" || q.Get("fb_exchange_token") == "" {
				t.Errorf("exchange params: %v", q)
			}
		case "/v24.0/debug_token":
			if q.Get("input_token") == "" || q.Get("access_token") != sandbox.DefaultMetaAppID+"|"+sandbox.DefaultMetaAppSecret {
				t.Errorf("debug_token params")
			}
		default:
			if q.Get("appsecret_proof") != meta.AppSecretProof(sandbox.DefaultMetaAppSecret, q.Get("access_token")) {
				t.Errorf("%s lacks a valid appsecret_proof", path)
			}
		}
		if path == "/v24.0/me/adaccounts" {
			for _, f := range []string{"account_id", "account_status", "disable_reason", "amount_spent", "spend_cap", "balance", "timezone_name", "business", "user_tasks", "tos_accepted", "user_tos_accepted", "funding_source_details", "adspixels"} {
				if !strings.Contains(q.Get("fields"), f) {
					t.Errorf("ad account fields lack %s", f)
				}
			}
		}
	}
	for p, ok := range want {
		if !ok {
			t.Errorf("no request to %s", p)
		}
	}
}

func TestInspectToken(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	tok := login(t, srv, c, sandbox.MetaAgencyUser)
	info, err := c.InspectToken(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Valid || info.UserID != sandbox.MetaAgencyUser || !info.ExpiresAt.Equal(tok.Expiry) ||
		!info.DataAccessExpiresAt.Equal(sandboxtest.Epoch.Add(90*24*time.Hour)) || !info.HasScope("ads_read") {
		t.Errorf("info = %+v", info)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: "app_removed"})
	info, err = c.InspectToken(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if info.Valid || info.Problem == nil || info.Problem.Reason != providers.ReasonAppRemoved {
		t.Errorf("after app_removed: %+v", info)
	}
}

// TestClientFaults: the very next call after a fault fails with the right reason.
func TestClientFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  sandbox.FaultRequest
		call   func(c *meta.Client, tok providers.Token) error
		reason providers.Reason
	}{
		{name: "token_expired on discover", fault: sandbox.FaultRequest{Fault: "token_expired"}, reason: providers.ReasonTokenExpired},
		{name: "password_changed", fault: sandbox.FaultRequest{Fault: "password_changed"}, reason: providers.ReasonPasswordChanged},
		{name: "app_removed", fault: sandbox.FaultRequest{Fault: "app_removed"}, reason: providers.ReasonAppRemoved},
		{name: "security_checkpoint", fault: sandbox.FaultRequest{Fault: "security_checkpoint"}, reason: providers.ReasonSecurityCheckpoint},
		{name: "unconfirmed_account", fault: sandbox.FaultRequest{Fault: "unconfirmed_account"}, reason: providers.ReasonUnconfirmedAccount},
		{name: "session_invalidated", fault: sandbox.FaultRequest{Fault: "session_invalidated"}, reason: providers.ReasonSessionInvalidated},
		{name: "lost_asset_role page", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "110000000000001"},
			call: refresh(providers.KindPage, "110000000000001"), reason: providers.ReasonLostAssetRole},
		{name: "lost_asset_role ad account", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "act_200000000000001"},
			call: refresh(providers.KindAdAccount, "act_200000000000001"), reason: providers.ReasonLostAssetRole},
		{name: "missing_permission", fault: sandbox.FaultRequest{Fault: "missing_permission", Scope: "ads_management"}, reason: providers.ReasonMissingPermission},
		{name: "refresh_token_invalid", fault: sandbox.FaultRequest{Fault: "refresh_token_invalid"},
			call: func(c *meta.Client, tok providers.Token) error {
				_, err := c.RenewToken(context.Background(), tok)
				return err
			}, reason: providers.ReasonRefreshTokenInvalid},
		{name: "rate_limited ad account", fault: sandbox.FaultRequest{Fault: "rate_limited", Asset: "act_200000000000002"},
			call: refresh(providers.KindAdAccount, "act_200000000000002"), reason: providers.ReasonRateLimited},
		{name: "provider_unavailable", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, reason: providers.ReasonProviderUnavailable},
		{name: "provider_unavailable reset", fault: sandbox.FaultRequest{Fault: "provider_unavailable", Mode: "reset"}, reason: providers.ReasonProviderUnavailable},
		{name: "policy_blocked", fault: sandbox.FaultRequest{Fault: "policy_blocked"}, reason: providers.ReasonPolicyBlocked},
		{name: "unknown", fault: sandbox.FaultRequest{Fault: "unknown"}, reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			c, _ := newClient(t, srv, sb)
			tok := login(t, srv, c, sandbox.MetaAgencyUser)
			call := tt.call
			if call == nil {
				call = func(c *meta.Client, tok providers.Token) error {
					_, err := c.DiscoverAssets(context.Background(), tok)
					return err
				}
			}
			if err := call(c, tok); err != nil {
				t.Fatalf("before the fault: %v", err)
			}
			f := tt.fault
			f.Provider, f.User = "meta", sandbox.MetaAgencyUser
			sandboxtest.Inject(t, srv, f)
			err := call(c, tok)
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Reason != tt.reason {
				t.Fatalf("got %v, want reason %s", err, tt.reason)
			}
			if strings.Contains(err.Error(), tok.AccessToken) {
				t.Errorf("error leaks the token: %v", err)
			}
			f.Fault = sandbox.FaultClear
			sandboxtest.Inject(t, srv, f)
		})
	}
}

func refresh(kind providers.AssetKind, id string) func(c *meta.Client, tok providers.Token) error {
	return func(c *meta.Client, tok providers.Token) error {
		_, err := c.RefreshAsset(context.Background(), tok, kind, id)
		return err
	}
}

func TestTimeoutIsProviderUnavailable(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Timeout = 50 * time.Millisecond })
	tok := login(t, srv, c, sandbox.MetaSmallUser)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "provider_unavailable", Mode: "slow"})
	_, err := c.Me(context.Background(), tok)
	if providers.ReasonOf(err) != providers.ReasonProviderUnavailable {
		t.Errorf("slow response: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	tok := login(t, srv, c, sandbox.MetaSmallUser)
	if err := c.Revoke(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(context.Background(), tok); providers.ReasonOf(err) != providers.ReasonAppRemoved {
		t.Errorf("after revoke: %v", err)
	}
}

func TestExchangeCode(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	code := sandboxtest.Code(t, srv, "meta", sandbox.MetaSmallUser, sandboxtest.MetaScopes)
	tok, err := c.ExchangeCode(context.Background(), code, sandboxtest.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Expiry.Equal(sandboxtest.Epoch.Add(sandbox.MetaShortLived)) {
		t.Errorf("expiry = %v", tok.Expiry)
	}
	_, err = c.ExchangeCode(context.Background(), code, sandboxtest.RedirectURI)
	pe, ok := providers.AsError(err)
	if !ok || pe.Code != 100 || pe.Subcode != 36009 {
		t.Errorf("second use of a code: %v", err)
	}
	if strings.Contains(err.Error(), sandbox.DefaultMetaAppSecret) || strings.Contains(err.Error(), code) {
		t.Errorf("error leaks a secret: %v", err)
	}
	if c.Classify(err) != pe || c.Classify(nil) != nil {
		t.Error("Classify must pass classified errors through")
	}
}

// TestWrongAppCredentialsAreNotAnOutage: a wrong app id or secret is a
// misconfiguration that no retry fixes, on every call that sends them.
func TestWrongAppCredentialsAreNotAnOutage(t *testing.T) {
	tests := []struct {
		name string
		mut  func(*meta.Config)
		call func(c *meta.Client, tok providers.Token) error
	}{
		{name: "wrong secret on the exchange", mut: func(cfg *meta.Config) { cfg.AppSecret = "wrong" }, call: func(c *meta.Client, tok providers.Token) error {
			_, err := c.RenewToken(context.Background(), tok)
			return err
		}},
		{name: "wrong app id on the exchange", mut: func(cfg *meta.Config) { cfg.AppID = "999" }, call: func(c *meta.Client, tok providers.Token) error {
			_, err := c.RenewToken(context.Background(), tok)
			return err
		}},
		{name: "wrong app id on debug_token", mut: func(cfg *meta.Config) { cfg.AppID = "999" }, call: func(c *meta.Client, tok providers.Token) error {
			_, err := c.InspectToken(context.Background(), tok)
			return err
		}},
		{name: "wrong secret on debug_token", mut: func(cfg *meta.Config) { cfg.AppSecret = "wrong" }, call: func(c *meta.Client, tok providers.Token) error {
			_, err := c.InspectToken(context.Background(), tok)
			return err
		}},
		{name: "wrong secret on an ordinary call", mut: func(cfg *meta.Config) { cfg.AppSecret = "wrong" }, call: func(c *meta.Client, tok providers.Token) error {
			_, err := c.Me(context.Background(), tok)
			return err
		}},
		{name: "wrong secret on a list", mut: func(cfg *meta.Config) { cfg.AppSecret = "wrong" }, call: func(c *meta.Client, tok providers.Token) error {
			_, err := c.DiscoverAssets(context.Background(), tok)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			good, _ := newClient(t, srv, sb)
			tok := login(t, srv, good, sandbox.MetaSmallUser)
			bad, _ := newClient(t, srv, sb, tt.mut)
			err := tt.call(bad, tok)
			pe, ok := providers.AsError(err)
			if !ok || pe.Reason != providers.ReasonUnknown || pe.Retryable || pe.Detail != providers.DetailAppMisconfigured {
				t.Fatalf("got %v, want unknown, not retryable, app_misconfigured", err)
			}
			if msg, _ := pe.Explain(); !strings.Contains(msg, "app credentials") {
				t.Errorf("message = %q", msg)
			}
		})
	}
}
