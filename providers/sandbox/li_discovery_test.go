package sandbox_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// liClient is Relink's LinkedIn client pointed at the sandbox, with cfg's paging.
func liClient(sb *sandbox.Sandbox, srv *httptest.Server, cfg linkedin.Config) *linkedin.Client {
	cfg.ClientID, cfg.ClientSecret = sandbox.DefaultLinkedInClientID, sandbox.DefaultLinkedInClientSecret
	cfg.APIURL, cfg.WWWURL = srv.URL+"/sandbox/linkedin/api", srv.URL+"/sandbox/linkedin/www"
	cfg.RedirectURL, cfg.Clock = sandboxtest.RedirectURI, sb.Clock()
	return linkedin.New(cfg)
}

// liCallsOf sums the LinkedIn API calls of one member per endpoint.
func liCallsOf(sb *sandbox.Sandbox, member string) (map[string]int, int) {
	per, total := map[string]int{}, 0
	for _, c := range sb.Calls() {
		if c.Provider == "linkedin" && c.User == member && !strings.Contains(c.Endpoint, "/oauth/") {
			per[c.Endpoint] += c.Count
			total += c.Count
		}
	}
	return per, total
}

// discover runs DiscoverAssets for member on fresh call counts and checks that
// every asset comes back once, named and with the member's role.
func discover(t *testing.T, sb *sandbox.Sandbox, srv *httptest.Server, c *linkedin.Client, member string, orgs, ads int) map[string]int {
	t.Helper()
	access, _ := sandboxtest.LinkedInLogin(t, srv, member)
	sb.ResetCalls()
	assets, err := c.DiscoverAssets(context.Background(), providers.Token{AccessToken: access})
	if err != nil {
		t.Fatalf("%s: %v", member, err)
	}
	kinds, seen := map[providers.AssetKind]int{}, map[string]bool{}
	for _, a := range assets {
		kinds[a.Kind]++
		key := string(a.Kind) + "/" + a.ExternalID
		if seen[key] || a.Name == "" || len(a.Tasks) != 1 || a.Tasks[0] == "" {
			t.Errorf("%s: asset repeated, unnamed or without role: %+v", member, a)
		}
		seen[key] = true
	}
	if kinds[providers.KindLinkedInOrganization] != orgs || kinds[providers.KindLinkedInAdAccount] != ads {
		t.Errorf("%s: %v, want %d organizations and %d ad accounts", member, kinds, orgs, ads)
	}
	per, _ := liCallsOf(sb, member)
	return per
}

// TestLinkedInDiscoveryCostDoesNotGrowWithAssets: discovering the bulk member (60
// organizations, 120 ad accounts) costs the same calls as the seeded member (2 and
// 2): the ACL and ad account role lists, one BATCH_GET of the organizations and
// one search of the ad accounts, never a read per asset.
func TestLinkedInDiscoveryCostDoesNotGrowWithAssets(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	sandbox.AddLinkedInBulkMember(sb)
	c := liClient(sb, srv, linkedin.Config{})
	want := map[string]int{"GET /rest/organizationAcls": 1, "GET /rest/organizations": 1,
		"GET /rest/adAccountUsers": 1, "GET /rest/adAccounts": 1}
	seeded := discover(t, sb, srv, c, sandbox.LinkedInMember, 2, 2)
	bulk := discover(t, sb, srv, c, sandbox.LinkedInBulkMember, 60, 120)
	for name, got := range map[string]map[string]int{"seeded": seeded, "bulk": bulk} {
		if len(got) != len(want) {
			t.Errorf("%s member: calls %v, want %v", name, got, want)
		}
		for e, n := range want {
			if got[e] != n {
				t.Errorf("%s member: %d calls to %s, want %d (all: %v)", name, got[e], e, n, got)
			}
		}
	}
}

// TestLinkedInDiscoveryFollowsPagingToTheEnd: with pages and batches smaller than
// the bulk member's lists, discovery follows start/count, the search cursor and
// the batches to the end and loses nothing; the calls grow with pages, not assets.
func TestLinkedInDiscoveryFollowsPagingToTheEnd(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	sandbox.AddLinkedInBulkMember(sb)
	c := liClient(sb, srv, linkedin.Config{PageSize: 7, BatchSize: 25})
	got := discover(t, sb, srv, c, sandbox.LinkedInBulkMember, 60, 120)
	want := map[string]int{
		"GET /rest/organizationAcls": 9, // 60 at 7 a page: the ninth is short
		"GET /rest/organizations":    3, // 25 + 25 + 10 ids
		"GET /rest/adAccountUsers":   18,
		"GET /rest/adAccounts":       18, // the last without nextPageToken
	}
	for e, n := range want {
		if got[e] != n {
			t.Errorf("%d calls to %s, want %d (all: %v)", got[e], e, n, got)
		}
	}
}

// TestLinkedInDiscoveryFaultsOnOneAsset: inside the lists, an asset the member
// lost their role on is left out rather than failing discovery, and a disabled
// account shows as closed; an organization whose own read fails fails the batch
// entry and with it discovery, since leaving it out would mark it as gone.
func TestLinkedInDiscoveryFaultsOnOneAsset(t *testing.T) {
	tests := []struct {
		name    string
		fault   sandbox.FaultRequest
		reason  providers.Reason
		missing string
		check   func(t *testing.T, assets []providers.Asset)
	}{
		{name: "lost role on an ad account", fault: sandbox.FaultRequest{Asset: "5400003", Fault: "lost_asset_role"}, missing: "5400003"},
		{name: "lost role on an organization", fault: sandbox.FaultRequest{Asset: "5300004", Fault: "lost_asset_role"}, missing: "5300004"},
		{name: "disabled ad account", fault: sandbox.FaultRequest{Asset: "5400001", Fault: sandbox.FaultAccountDisabled},
			check: func(t *testing.T, assets []providers.Asset) {
				for _, a := range assets {
					if a.ExternalID == "5400001" && a.AccountStatus != providers.AccountClosed {
						t.Errorf("disabled account: %+v", a)
					}
				}
			}},
		{name: "organization unavailable", fault: sandbox.FaultRequest{Asset: "5300002", Fault: "provider_unavailable"}, reason: providers.ReasonProviderUnavailable},
		{name: "organization rate limited", fault: sandbox.FaultRequest{Asset: "5300002", Fault: "rate_limited"}, reason: providers.ReasonRateLimited},
		{name: "member restricted on an organization", fault: sandbox.FaultRequest{Asset: "5300002", Fault: "policy_blocked"}, reason: providers.ReasonPolicyBlocked},
		// A search does not fail for one account; the account's own reads do.
		{name: "ad account unavailable", fault: sandbox.FaultRequest{Asset: "5400002", Fault: "provider_unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			sandbox.AddLinkedInBulkMember(sb)
			c := liClient(sb, srv, linkedin.Config{})
			access, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInBulkMember)
			f := tt.fault
			f.Provider, f.User = "linkedin", sandbox.LinkedInBulkMember
			sandboxtest.Inject(t, srv, f)
			assets, err := c.DiscoverAssets(context.Background(), providers.Token{AccessToken: access})
			if tt.reason != "" {
				if providers.ReasonOf(err) != tt.reason {
					t.Fatalf("got %v, want %s", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := 180
			if tt.missing != "" {
				want--
			}
			if len(assets) != want {
				t.Errorf("%d assets, want %d", len(assets), want)
			}
			for _, a := range assets {
				if a.ExternalID == tt.missing {
					t.Errorf("%s still listed", tt.missing)
				}
			}
			if tt.check != nil {
				tt.check(t, assets)
			}
		})
	}
}
