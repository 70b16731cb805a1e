package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/sandbox"
)

// newCountingSite is a sandbox site on a store of its own (SQLite, or PostgreSQL with dsn)
// whose statements its counter counts, so that tests using it may run in parallel.
func newCountingSite(tb testing.TB, dsn string) (*site, *statementCounter) {
	tb.Helper()
	var c *statementCounter
	s := buildSite(tb, siteOptions{sandbox: true, limits: handlers.LoginLimits{PerIP: 1 << 30, PerEmail: 1 << 30}, openStore: func(tb testing.TB, clock *sandbox.Clock) *models.Store {
		store, counter := countingStore(tb, dsn, clock)
		c = counter
		return store
	}})
	return s, c
}

// addConnections gives sub-account sub n connections made straight in the store, of every
// status in turn, each with perConn chosen assets of every kind, spend and access.
func addConnections(tb testing.TB, store *models.Store, sub int64, n, perConn int) {
	tb.Helper()
	ctx := context.Background()
	kinds := []providers.AssetKind{providers.KindAdAccount, providers.KindPage, providers.KindDataset, providers.KindInstagramAccount}
	now := store.Now().Truncate(time.Second)
	for i := 0; i < n; i++ {
		st := models.Statuses[i%len(models.Statuses)]
		c := models.Connection{Provider: "meta", ExternalUserID: fmt.Sprintf("store-user-%d", i),
			ExternalUserName: fmt.Sprintf("Store User %d", i), Status: st, LastCheckedAt: &now}
		if st == models.StatusReauthRequired {
			c.Reason = providers.ReasonPasswordChanged
		}
		c, err := store.CreateConnection(ctx, sub, c)
		if err != nil {
			tb.Fatal(err)
		}
		for j := 0; j < perConn; j++ {
			tos, funding := j%3 != 0, j%4 != 0
			a := models.Asset{ConnectionID: c.ID, Kind: kinds[j%len(kinds)], ExternalID: fmt.Sprintf("ext-%d-%d", i, j),
				Name: fmt.Sprintf("Asset %d of %d", j, i), Selected: true, Currency: "EUR", AmountSpent: fmt.Sprint(1000 * j),
				SpendCap: "500000", AccountStatus: providers.AccountActive, UserTasks: "ADVERTISE,ANALYZE", Datasets: "1,2",
				TosAccepted: &tos, FundingSourcePresent: &funding, LastRefreshedAt: &now}
			if err := store.SaveAsset(ctx, sub, &a); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// TestConnectionPagesRunAFixedNumberOfStatements proves there is no N+1 on the connection
// pages: each runs as many statements for a sub-account of 2 connections and 5 assets as
// for one of 6 connections and 500 assets.
func TestConnectionPagesRunAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv(storetest.EnvPostgres)
	type fixture struct {
		site    *site
		counter *statementCounter
		sub     models.SubAccountRef
		conn    string // the sandbox connection
		asset   string // one of its ad accounts
		flow    string // a flow waiting in the picker
		assets  int
	}
	build := func(user string, extra, perConn int) fixture {
		s, c := newCountingSite(t, dsn)
		f := fixture{site: s, counter: c, sub: s.subs["Bluebird Bakery"]}
		admin := s.signedIn("admin@bluebird.test")
		page := admin.connectAll(f.sub, "meta", user)
		f.conn = page.doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
		f.asset = page.doc.Find(`[data-testid="asset-row"][data-kind="ad_account"]`).First().AttrOr("data-asset-id", "")
		addConnections(t, s.store, f.sub.ID, extra, perConn)
		picker := admin.connect(f.sub, "meta", user)
		f.flow = picker.path[strings.LastIndex(picker.path, "/")+1:]
		f.assets = admin.get(accountPath(f.sub, "/connections")).doc.Find(`[data-testid="asset-row"]`).Length()
		return f
	}
	small := build(casey, 1, 3)
	big := build(blake, 5, 50)
	if small.assets != 5 || big.assets < 500 {
		t.Fatalf("%d and %d assets, want 5 and at least 500", small.assets, big.assets)
	}
	t.Logf("%s: %d assets against %d", map[bool]string{true: "PostgreSQL", false: "SQLite"}[dsn != ""], small.assets, big.assets)

	type request struct {
		name   string
		path   string // under the sub-account; {conn}, {asset}, {flow} are the fixture's
		post   bool
		htmx   bool
		manage bool // only for the roles that may change connections
		// prepare runs after the warm-up request, before the counted one; after undoes it.
		prepare func(f fixture)
		after   func(f fixture)
		check   func(t *testing.T, p page)
	}
	fault := func(name string) func(f fixture) {
		return func(f fixture) {
			if err := f.site.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: "*", Fault: name}); err != nil {
				t.Fatal(err)
			}
		}
	}
	requests := []request{
		{name: "connections page", path: "/connections", check: func(t *testing.T, p page) {
			if p.doc.Find(`[data-testid="asset-row"]`).Length() == 0 {
				t.Error("no asset rows")
			}
		}},
		{name: "history", path: "/history", check: func(t *testing.T, p page) {
			if p.doc.Find(`[data-testid="history-event"]`).Length() == 0 {
				t.Error("no history")
			}
		}},
		{name: "history of one kind", path: "/history?kind=" + models.EventAssetAdded},
		{name: "history of the connection", path: "/connections/{conn}/history"},
		{name: "refresh one asset (htmx row)", path: "/assets/{asset}/refresh", post: true, htmx: true, manage: true,
			check: func(t *testing.T, p page) {
				if !strings.HasPrefix(p.body, "<tr") || !strings.Contains(p.body, "Updated just now") {
					t.Errorf("not the refreshed row:\n%.300s", p.body)
				}
			}},
		{name: "refresh one asset in an outage (htmx card)", path: "/assets/{asset}/refresh", post: true, htmx: true, manage: true,
			prepare: fault("provider_unavailable"), after: fault(sandbox.FaultClear),
			check: func(t *testing.T, p page) {
				if p.doc.Find(`[data-testid="connection"]`).Length() != 1 || !strings.Contains(p.body, "not responding") {
					t.Errorf("not the card of an outage:\n%.300s", p.body)
				}
			}},
		{name: "choose assets", path: "/connections/{conn}/assets", manage: true},
		{name: "picker", path: "/connections/flows/{flow}", manage: true},
		{name: "disconnect confirmation", path: "/connections/{conn}/disconnect", manage: true},
	}
	for _, email := range []string{"admin@bluebird.test", "owner@northwind.test", "user@bluebird.test", "support@relink.test"} {
		browsers := []*browser{small.site.signedIn(email), big.site.signedIn(email)}
		manage := email == "admin@bluebird.test" || email == "owner@northwind.test"
		for _, rq := range requests {
			if rq.manage && !manage || rq.path == "/connections/flows/{flow}" && email != "admin@bluebird.test" {
				continue
			}
			t.Run(email+" "+rq.name, func(t *testing.T) {
				var counts [2]int
				for i, f := range []fixture{small, big} {
					b := browsers[i]
					path := accountPath(f.sub, strings.NewReplacer("{conn}", f.conn, "{asset}", f.asset, "{flow}", f.flow).Replace(rq.path))
					var headers []string
					if rq.htmx {
						headers = []string{"HX-Request", "true"}
					}
					do := func() page {
						if rq.post {
							return b.post(path, nil, headers...)
						}
						return b.get(path, headers...)
					}
					do() // warm up: pooled connections open, flashes taken
					if rq.prepare != nil {
						rq.prepare(f)
					}
					var p page
					counts[i] = f.counter.count(func() { p = do() })
					if rq.after != nil {
						rq.after(f)
						do() // back to healthy
					}
					if p.status != http.StatusOK {
						t.Fatalf("%s: status %d\n%.500s", path, p.status, p.body)
					}
					if rq.check != nil {
						rq.check(t, p)
					}
				}
				t.Logf("%d statements with %d assets, %d with %d", counts[0], small.assets, counts[1], big.assets)
				if counts[0] == 0 {
					t.Fatal("no statement was counted: the counter is broken")
				}
				if counts[0] != counts[1] {
					t.Errorf("%d statements with %d assets but %d with %d: a query runs per connection or asset",
						counts[0], small.assets, counts[1], big.assets)
				}
			})
		}
	}
}
