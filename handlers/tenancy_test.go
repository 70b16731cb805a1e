package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

// subAccountRoutes lists every route under /accounts/{subAccountID}, read from the router
// itself so that a route added later is covered without editing this test.
func subAccountRoutes(t *testing.T) [][2]string {
	t.Helper()
	app, err := handlers.New(testConfig(storetest.Open(t)))
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	err = chi.Walk(app.Routes().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.Contains(route, "{subAccountID}") {
			out = append(out, [2]string{method, route})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no sub-account routes found")
	}
	return out
}

// fillRoute puts the sub-account id into the pattern and 1 into any other parameter.
func fillRoute(route string, subAccountID int64) string {
	route = strings.ReplaceAll(route, "{subAccountID}", fmt.Sprint(subAccountID))
	for strings.Contains(route, "{") {
		i, j := strings.Index(route, "{"), strings.Index(route, "}")
		route = route[:i] + "1" + route[j+1:]
	}
	return strings.TrimSuffix(route, "/*")
}

func TestTenantIsolationMatrix(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	routes := subAccountRoutes(t)
	users := []struct {
		email     string
		forbidden []string // sub-accounts this user must not reach
	}{
		{email: "owner@northwind.test", forbidden: []string{rivalSubAccount}},
		{email: "admin@bluebird.test", forbidden: []string{"Cedar Dental", "Harbor Fitness", rivalSubAccount}},
		{email: "user@bluebird.test", forbidden: []string{"Cedar Dental", "Harbor Fitness", rivalSubAccount}},
	}
	for _, u := range users {
		b := s.signedIn(u.email)
		for _, name := range u.forbidden {
			sub := s.subs[name]
			for _, rt := range routes {
				path := fillRoute(rt[1], sub.ID)
				t.Run(u.email+" "+rt[0]+" "+path, func(t *testing.T) {
					req, _ := http.NewRequest(rt[0], s.server.URL+path, nil)
					p := b.do(req)
					if p.status != http.StatusNotFound {
						t.Fatalf("status %d, want 404", p.status)
					}
					if strings.Contains(p.body, name) {
						t.Fatalf("the page names the foreign sub-account %q", name)
					}
				})
			}
		}
		t.Run(u.email+" lists no foreign names", func(t *testing.T) {
			for _, path := range []string{"/agency", "/switch", "/switch?q=a"} {
				p := b.get(path)
				for _, name := range u.forbidden {
					if strings.Contains(p.body, name) {
						t.Errorf("%s names %q", path, name)
					}
				}
			}
		})
	}
	t.Run("a missing sub-account is the same 404", func(t *testing.T) {
		b := s.signedIn("owner@northwind.test")
		missing := b.get("/accounts/999999/connections")
		foreign := b.get(fmt.Sprintf("/accounts/%d/connections", s.subs[rivalSubAccount].ID))
		if missing.status != http.StatusNotFound || foreign.status != http.StatusNotFound {
			t.Fatalf("missing %d, foreign %d; want 404 both", missing.status, foreign.status)
		}
		if a, b := missing.doc.Find("h1").Text(), foreign.doc.Find("h1").Text(); a != b {
			t.Fatalf("missing says %q, foreign says %q", a, b)
		}
	})
	t.Run("malformed ids are 404", func(t *testing.T) {
		b := s.signedIn("owner@northwind.test")
		for _, id := range []string{"abc", "-1", "0", "1e3"} {
			if p := b.get("/accounts/" + id + "/connections"); p.status != http.StatusNotFound {
				t.Errorf("id %q: status %d", id, p.status)
			}
		}
	})
}

func TestRolesSeeWhatTheyMay(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tests := []struct {
		email    string
		reach    []string
		roleText string
	}{
		{email: "owner@northwind.test", reach: []string{"Bluebird Bakery", "Cedar Dental", "Harbor Fitness"}, roleText: "Agency owner"},
		{email: "admin@bluebird.test", reach: []string{"Bluebird Bakery"}, roleText: "Account admin"},
		{email: "user@bluebird.test", reach: []string{"Bluebird Bakery"}, roleText: "Account user"},
		{email: "support@relink.test", reach: []string{"Bluebird Bakery", "Cedar Dental", "Harbor Fitness", rivalSubAccount}, roleText: "Support (read-only)"},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			b := s.signedIn(tt.email)
			ov := b.get("/agency")
			if got := ov.doc.Find("[data-testid=overview-row]").Length(); got != len(tt.reach) {
				t.Errorf("overview has %d rows, want %d", got, len(tt.reach))
			}
			for _, name := range tt.reach {
				p := b.get(fmt.Sprintf("/accounts/%d/connections", s.subs[name].ID))
				if p.status != http.StatusOK {
					t.Fatalf("%s: status %d", name, p.status)
				}
				if !strings.Contains(p.doc.Find("h1").Text(), name) {
					t.Errorf("%s: heading %q", name, p.doc.Find("h1").Text())
				}
				if got := p.doc.Find(".user-role").Text(); got != tt.roleText {
					t.Errorf("%s: role %q, want %q", name, got, tt.roleText)
				}
				if p.doc.Find("[data-testid=connections-empty]").Length() != 1 || !strings.Contains(p.body, "No connections yet") {
					t.Errorf("%s: no empty state", name)
				}
			}
		})
	}
}

func TestSupportIsReadOnly(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("support@relink.test")
	if p := b.get(fmt.Sprintf("/accounts/%d/", s.subs[rivalSubAccount].ID)); p.status != http.StatusSeeOther {
		t.Fatalf("the sub-account's landing: status %d, want a redirect", p.status)
	}
	p := b.get(fmt.Sprintf("/accounts/%d/connections", s.subs[rivalSubAccount].ID))
	if p.status != http.StatusOK || p.doc.Find(".readonly-banner").Length() != 1 {
		t.Fatalf("support view: status %d, banner %d", p.status, p.doc.Find(".readonly-banner").Length())
	}
	for _, rt := range subAccountRoutes(t) {
		path := fillRoute(rt[1], s.subs["Bluebird Bakery"].ID)
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(method, s.server.URL+path, nil)
			if got := b.do(req); got.status != http.StatusForbidden {
				t.Errorf("%s %s by support: status %d, want 403", method, path, got.status)
			}
		}
	}
	events, err := s.store.EventsOf(context.Background(), s.subs[rivalSubAccount].ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Kind != models.EventSupportView || events[0].ActorType != models.ActorSupport || events[0].RequestID == "" {
		t.Errorf("support's view was not audited: %+v", events)
	}
	if got := b.post("/logout", nil); got.status != http.StatusSeeOther {
		t.Errorf("support cannot sign out: status %d", got.status)
	}
}

// tenantFixture is a sandbox site where three sub-accounts of two agencies each have a
// connection with assets and a flow waiting in the picker.
type tenantFixture struct {
	s *site
	// bakery is admin@bluebird.test's; cedar is the demo agency's but not theirs; rival is
	// another agency's.
	bakery, cedar, rival tenantIDs
	// ownerFlowInBakery is a flow of owner@northwind.test in Bluebird Bakery: someone else's
	// in the admin's own sub-account.
	ownerFlowInBakery string
}

// tenantIDs are one sub-account's ids, as strings for URLs.
type tenantIDs struct {
	sub                  models.SubAccountRef
	conn, asset, flow    string
	chosen               url.Values // the assets its flow would save
	externalName, member string     // the connection's provider user, who starts the flow
	browser              *browser
}

const rivalOwner = "owner@rival.test"

func newTenantFixture(t *testing.T) *tenantFixture {
	t.Helper()
	s := newSandboxSite(t)
	if _, err := s.store.CreateUser(context.Background(), models.NewUser{Email: rivalOwner, Name: "Rival Owner",
		Password: demoPassword, Role: models.RoleAgencyOwner, AgencyID: s.subs[rivalSubAccount].AgencyID}); err != nil {
		t.Fatal(err)
	}
	f := &tenantFixture{s: s}
	owner := s.signedIn("owner@northwind.test")
	setup := func(ids *tenantIDs, b *browser, name, provider, user, externalName string) {
		t.Helper()
		ids.sub, ids.browser, ids.externalName, ids.member = s.subs[name], b, externalName, user
		page := b.connectAll(ids.sub, provider, user)
		ids.conn = page.doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
		ids.asset = page.doc.Find(`[data-testid="asset-row"]`).First().AttrOr("data-asset-id", "")
		picker := b.connect(ids.sub, provider, user)
		ids.flow = picker.path[strings.LastIndex(picker.path, "/")+1:]
		ids.chosen = url.Values{}
		picker.doc.Find(`input[name="asset"]`).Each(func(_ int, sel *goquery.Selection) { ids.chosen.Add("asset", sel.AttrOr("value", "")) })
		if ids.conn == "" || ids.asset == "" || ids.flow == "" || len(ids.chosen) == 0 {
			t.Fatalf("%s: connection %q asset %q flow %q", name, ids.conn, ids.asset, ids.flow)
		}
	}
	setup(&f.bakery, s.signedIn("admin@bluebird.test"), "Bluebird Bakery", "meta", avery, "Avery Agency")
	setup(&f.cedar, owner, "Cedar Dental", "meta", casey, "")
	setup(&f.rival, s.signedIn(rivalOwner), rivalSubAccount, "linkedin", dana, "")
	picker := owner.connect(f.bakery.sub, "meta", avery)
	f.ownerFlowInBakery = picker.path[strings.LastIndex(picker.path, "/")+1:]
	for _, ids := range []*tenantIDs{&f.cedar, &f.rival} {
		rows, err := s.store.ConnectionsOf(context.Background(), ids.sub.ID)
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s: %d connections, %v", ids.sub.Name, len(rows), err)
		}
		ids.externalName = rows[0].ExternalUserName
	}
	return f
}

// idRoutes are the sub-account routes that name a connection, an asset or a flow, with
// every method each answers.
func idRoutes(t *testing.T) [][2]string {
	t.Helper()
	var out [][2]string
	for _, rt := range subAccountRoutes(t) {
		if strings.Contains(rt[1], "{connectionID}") || strings.Contains(rt[1], "{assetID}") || strings.Contains(rt[1], "{flowID}") {
			out = append(out, rt)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d routes name a connection, asset or flow: %v", len(out), out)
	}
	return out
}

// fillIDs puts a sub-account and a connection, asset and flow id into a route pattern.
func fillIDs(route string, sub int64, conn, asset, flow string) string {
	r := strings.NewReplacer("{subAccountID}", fmt.Sprint(sub), "{connectionID}", conn, "{assetID}", asset, "{flowID}", flow)
	return strings.TrimSuffix(r.Replace(route), "/*")
}

// state is what a foreign request must not change: each sub-account's connections, and
// history apart from support's views.
func (f *tenantFixture) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, ids := range []tenantIDs{f.bakery, f.cedar, f.rival} {
		rows, err := f.s.store.ConnectionsOf(context.Background(), ids.sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rows {
			fmt.Fprintf(&b, "%s: connection %d %s %s %v; ", ids.sub.Name, c.ID, c.Status, c.ExternalUserID, c.LastCheckedAt)
		}
		assets, err := f.s.store.AssetsOf(context.Background(), ids.sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d chosen assets; ", len(assets))
		for _, a := range assets {
			fmt.Fprintf(&b, "%d %v; ", a.ID, a.LastRefreshedAt)
		}
		fmt.Fprintf(&b, "%d events\n", changes(t, f.s, ids.sub))
	}
	return b.String()
}

// TestForeignIDsAreNotFound asks every route that names a connection, asset or flow, by
// every method it answers, for ids that are not the user's to use: those of another
// sub-account of the same agency, of another agency, and another user's flow, under the
// user's own sub-account and under the foreign one. Each is a 404 that names nothing of
// the other tenant, and changes nothing.
func TestForeignIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newTenantFixture(t)
	routes := idRoutes(t)
	before := f.state(t)
	type foreign struct {
		name              string
		conn, asset, flow string
		chosen            url.Values
		names             []string // what the answer must not say
	}
	cedar := foreign{name: "Cedar Dental's ids", conn: f.cedar.conn, asset: f.cedar.asset, flow: f.cedar.flow, chosen: f.cedar.chosen,
		names: []string{"Cedar Dental", f.cedar.externalName}}
	rival := foreign{name: "Rival's ids", conn: f.rival.conn, asset: f.rival.asset, flow: f.rival.flow, chosen: f.rival.chosen,
		names: []string{rivalSubAccount, f.rival.externalName}}
	users := []struct {
		email string
		own   tenantIDs
		// foreign are ids to try under the user's own sub-account.
		foreign []foreign
		// away are sub-accounts the user cannot reach, tried with their own ids.
		away []tenantIDs
	}{
		{email: "admin@bluebird.test", own: f.bakery, away: []tenantIDs{f.cedar, f.rival}, foreign: []foreign{cedar, rival,
			{name: "the owner's flow", flow: f.ownerFlowInBakery, chosen: f.bakery.chosen}}},
		// The owner reaches Cedar Dental, and may see its name: not its ids under Bluebird.
		{email: "owner@northwind.test", own: f.bakery, away: []tenantIDs{f.rival}, foreign: []foreign{
			{name: cedar.name, conn: cedar.conn, asset: cedar.asset, flow: cedar.flow, chosen: cedar.chosen, names: []string{f.cedar.externalName}},
			rival, {name: "the admin's flow", flow: f.bakery.flow, chosen: f.bakery.chosen}}},
		{email: rivalOwner, own: f.rival, away: []tenantIDs{f.bakery, f.cedar}, foreign: []foreign{
			{name: "Bluebird's ids", conn: f.bakery.conn, asset: f.bakery.asset, flow: f.bakery.flow, chosen: f.bakery.chosen,
				names: []string{"Bluebird Bakery", "Avery Agency"}}}},
	}
	check := func(t *testing.T, b *browser, method, path string, form url.Values, names []string) {
		t.Helper()
		for _, body := range []url.Values{nil, form} {
			if method == http.MethodGet && body != nil {
				continue
			}
			var p page
			if method == http.MethodGet {
				p = b.get(path)
			} else {
				p = b.post(path, body)
			}
			if p.status != http.StatusNotFound {
				t.Errorf("%s %s (form %v): status %d, want 404; location %q", method, path, body != nil, p.status, p.location())
				continue
			}
			for _, n := range names {
				if n != "" && strings.Contains(p.body, n) {
					t.Errorf("%s %s: the 404 names %q", method, path, n)
				}
			}
		}
	}
	for _, u := range users {
		b := f.s.signedIn(u.email)
		for _, fo := range u.foreign {
			for _, rt := range routes {
				ids := []string{fo.conn, fo.asset, fo.flow}
				// One foreign id at a time, the others the user's own, so that the foreign
				// one is what must be refused.
				for i, param := range []string{"{connectionID}", "{assetID}", "{flowID}"} {
					if !strings.Contains(rt[1], param) || ids[i] == "" {
						continue
					}
					own := []string{u.own.conn, u.own.asset, u.own.flow}
					own[i] = ids[i]
					path := fillIDs(rt[1], u.own.sub.ID, own[0], own[1], own[2])
					t.Run(u.email+" "+fo.name+" "+rt[0]+" "+rt[1], func(t *testing.T) {
						check(t, b, rt[0], path, fo.chosen, fo.names)
					})
				}
			}
		}
		for _, away := range u.away {
			for _, rt := range subAccountRoutes(t) {
				path := fillIDs(rt[1], away.sub.ID, away.conn, away.asset, away.flow)
				t.Run(u.email+" in "+away.sub.Name+" "+rt[0]+" "+rt[1], func(t *testing.T) {
					check(t, b, rt[0], path, away.chosen, []string{away.sub.Name, away.externalName})
				})
			}
		}
	}
	// A method a route does not answer says so alike for an own and a foreign id: no oracle.
	registered := map[string]bool{}
	for _, rt := range routes {
		registered[rt[0]+" "+rt[1]] = true
	}
	b := f.s.signedIn("admin@bluebird.test")
	for _, rt := range routes {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if registered[method+" "+rt[1]] {
				continue
			}
			var statuses []int
			for _, ids := range []tenantIDs{f.bakery, f.cedar, f.rival} {
				req, _ := http.NewRequest(method, f.s.server.URL+fillIDs(rt[1], f.bakery.sub.ID, ids.conn, ids.asset, ids.flow), nil)
				statuses = append(statuses, b.do(req).status)
			}
			if statuses[0] != statuses[1] || statuses[0] != statuses[2] {
				t.Errorf("%s %s: status %v for own, Cedar's and Rival's ids", method, rt[1], statuses)
			}
		}
	}
	if after := f.state(t); after != before {
		t.Errorf("foreign requests changed something:\nbefore %s\nafter  %s", before, after)
	}
	// Every flow is still its owner's to save.
	for _, ids := range []tenantIDs{f.bakery, f.cedar, f.rival} {
		p := ids.browser.post(accountPath(ids.sub, "/connections/flows/"+ids.flow), ids.chosen)
		if p.status != http.StatusSeeOther || strings.Contains(p.location(), "/flows/") {
			t.Errorf("%s: its own flow no longer saves: %d %q", ids.sub.Name, p.status, p.location())
		}
	}
}

// flowRow is a flow's row as the callback tests read it.
type flowRow struct {
	id, userID, subAccountID int64
	stage, externalUserID    string
	hasToken                 bool
}

// flowRows reads every flow, straight from the table.
func flowRows(t *testing.T, store *models.Store) map[int64]flowRow {
	t.Helper()
	out := map[int64]flowRow{}
	err := store.Tx(context.Background(), func(tx *models.Store) error {
		rows, err := tx.SQLTx().Query(`SELECT id, user_id, sub_account_id, stage, external_user_id, COALESCE(LENGTH(token), 0) > 0 FROM oauth_flows`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r flowRow
			if err := rows.Scan(&r.id, &r.userID, &r.subAccountID, &r.stage, &r.externalUserID, &r.hasToken); err != nil {
				return err
			}
			out[r.id] = r
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCallbackInAnotherUsersBrowserSavesNothing completes a flow in the browser of someone
// else than who started it (a manager of the same sub-account, a read-only user of it, a
// manager of another agency): each is told the sign-in is not theirs, and nothing is
// saved, not even the provider's grant in the flow.
func TestCallbackInAnotherUsersBrowserSavesNothing(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	if _, err := s.store.CreateUser(context.Background(), models.NewUser{Email: rivalOwner, Name: "Rival Owner",
		Password: demoPassword, Role: models.RoleAgencyOwner, AgencyID: s.subs[rivalSubAccount].AgencyID}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, starter, finisher, sub, provider, user string
	}{
		{name: "the owner completes the admin's", starter: "admin@bluebird.test", finisher: "owner@northwind.test", sub: "Bluebird Bakery", provider: "meta", user: avery},
		{name: "the account user completes the admin's", starter: "admin@bluebird.test", finisher: "user@bluebird.test", sub: "Bluebird Bakery", provider: "linkedin", user: dana},
		{name: "another agency completes the admin's", starter: "admin@bluebird.test", finisher: rivalOwner, sub: "Bluebird Bakery", provider: "meta", user: casey},
		{name: "the admin completes another agency's", starter: rivalOwner, finisher: "admin@bluebird.test", sub: rivalSubAccount, provider: "meta", user: avery},
		{name: "the owner completes an account admin's reauthentication", starter: "admin@bluebird.test", finisher: "owner@northwind.test", sub: "Bluebird Bakery", provider: "meta", user: blake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := s.subs[tt.sub]
			starter, finisher := s.signedIn(tt.starter), s.signedIn(tt.finisher)
			before, err := s.store.ConnectionsOf(context.Background(), sub.ID)
			if err != nil {
				t.Fatal(err)
			}
			start := starter.post(accountPath(sub, "/connect/"+tt.provider), nil)
			if strings.Contains(tt.name, "reauthentication") {
				// Reauthenticating needs a connection: the starter makes one first.
				page := starter.connectAll(sub, tt.provider, tt.user)
				id := page.doc.Find(`[data-testid="connection"][data-provider="`+tt.provider+`"]`).First().AttrOr("data-connection-id", "")
				start = starter.post(accountPath(sub, "/connections/"+id+"/reauthenticate"), nil)
				if before, err = s.store.ConnectionsOf(context.Background(), sub.ID); err != nil {
					t.Fatal(err)
				}
			}
			flowsBefore := flowRows(t, s.store)
			cb := starter.dialog(start, tt.user)
			p := finisher.get(cb)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "did not start here") {
				t.Errorf("status %d, want 400 saying the sign-in did not start here; location %q", p.status, p.location())
			}
			if strings.Contains(p.body, sub.Name) && tt.finisher == rivalOwner || strings.Contains(p.body, rivalSubAccount) && tt.starter == rivalOwner {
				t.Errorf("the answer names the starter's sub-account")
			}
			after, err := s.store.ConnectionsOf(context.Background(), sub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if connectionsText(after) != connectionsText(before) {
				t.Errorf("connections changed:\nbefore %s\nafter  %s", connectionsText(before), connectionsText(after))
			}
			for id, r := range flowRows(t, s.store) {
				if old, ok := flowsBefore[id]; ok && old != r {
					t.Errorf("flow %d changed: %+v, was %+v", id, r, old)
				}
				if _, ok := flowsBefore[id]; !ok {
					t.Errorf("a new flow %+v", r)
				}
				if r.hasToken && r.stage != string(models.StageAuthorized) {
					t.Errorf("flow %d keeps a token at stage %s", id, r.stage)
				}
			}
			// The finisher has no picker to go to either.
			for id, r := range flowRows(t, s.store) {
				if r.subAccountID != sub.ID {
					continue
				}
				if got := finisher.get(accountPath(sub, fmt.Sprintf("/connections/flows/%d", id))); got.status != http.StatusNotFound && got.status != http.StatusForbidden {
					t.Errorf("the finisher reaches flow %d: status %d", id, got.status)
				}
			}
		})
	}
}

// connectionsText is what a test compares of connections: who, what state, when changed.
func connectionsText(rows []models.ConnectionRow) string {
	var b strings.Builder
	for _, c := range rows {
		fmt.Fprintf(&b, "%d %s %s %s %q %v %v %d; ", c.ID, c.Provider, c.ExternalUserID, c.Status, c.Reason,
			c.LastCheckedAt, c.UpdatedAt, c.TotalFailures)
	}
	return b.String()
}

// TestPickerNamesOnlyReachableSubAccounts: the picker and Choose assets say where else an
// asset is connected, but only among the sub-accounts the user can reach: an account admin
// of Bluebird Bakery must not learn that Cedar Dental exists, while the agency owner may.
func TestPickerNamesOnlyReachableSubAccounts(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	s.signedIn("owner@northwind.test").connectAll(s.subs["Cedar Dental"], "meta", avery)
	bakery := s.subs["Bluebird Bakery"]
	tests := []struct {
		email   string
		mayName bool
	}{
		{email: "owner@northwind.test", mayName: true},
		{email: "admin@bluebird.test", mayName: false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			b := s.signedIn(tt.email)
			picker := b.connect(bakery, "meta", avery)
			named := strings.Contains(picker.body, "Cedar Dental")
			if named != tt.mayName {
				t.Errorf("the picker names Cedar Dental: %v, want %v (%s)", named, tt.mayName,
					strings.TrimSpace(picker.doc.Find(`[data-testid="picker-elsewhere"]`).First().Text()))
			}
			if tt.mayName && picker.doc.Find(`[data-testid="picker-elsewhere"]`).Length() == 0 {
				t.Errorf("the picker does not say the assets are connected elsewhere")
			}
		})
	}
	// Choose assets of a saved connection says the same.
	admin := s.signedIn("admin@bluebird.test")
	page := admin.connectAll(bakery, "meta", avery)
	id := page.doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
	choices := admin.get(accountPath(bakery, "/connections/"+id+"/assets"))
	if choices.status != http.StatusOK || strings.Contains(choices.body, "Cedar Dental") {
		t.Errorf("Choose assets (status %d) names Cedar Dental to Bluebird's account admin: %s", choices.status,
			strings.TrimSpace(choices.doc.Find(`[data-testid="picker-elsewhere"]`).First().Text()))
	}
}
