package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/models"
)

// roleUsers adds to the demo agency of s an agency admin, an agency user, and an agency
// user who is also the account admin of Bluebird Bakery.
func roleUsers(t *testing.T, s *site) {
	t.Helper()
	ctx := context.Background()
	agency := s.subs["Bluebird Bakery"].AgencyID
	for email, role := range map[string]models.Role{"agency-admin@northwind.test": models.RoleAgencyAdmin,
		"agency-user@northwind.test": models.RoleAgencyUser, "agency-user-bakery-admin@northwind.test": models.RoleAgencyUser} {
		u, err := s.store.CreateUser(ctx, models.NewUser{Email: email, Name: string(role),
			Password: demoPassword, Role: role, AgencyID: agency})
		if err != nil {
			t.Fatal(err)
		}
		if email == "agency-user-bakery-admin@northwind.test" {
			if err := s.store.AddAccountMembership(ctx, u.ID, s.subs["Bluebird Bakery"].ID, models.RoleAccountAdmin); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// connectionControls are the controls that change connections, by data-testid, with the
// words they show.
var connectionControls = []struct{ testid, text string }{
	{"connect-meta", "Connect Facebook"},
	{"connect-linkedin", "Connect LinkedIn"},
	{"refresh-asset", ""},
	{"reauthenticate", "Reauthenticate"},
	{"refresh-all", "Refresh all"},
	{"choose-assets", "Choose assets"},
	{"disconnect", "Disconnect"},
}

// changes counts the history events that are not support's views: what a refused request
// must not add to.
func changes(t *testing.T, s *site, sub models.SubAccountRef) int {
	t.Helper()
	events, err := s.store.EventsOf(context.Background(), sub.ID, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind != models.EventSupportView {
			n++
		}
	}
	return n
}

// TestConnectionRoles checks, for every role, which connection controls the connections
// page shows and that every route that changes connections refuses read-only roles with
// 403 and works for the others, while every role reads the history.
func TestConnectionRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		email  string
		manage bool
	}{
		{name: "agency owner", email: "owner@northwind.test", manage: true},
		{name: "agency admin", email: "agency-admin@northwind.test", manage: true},
		{name: "account admin", email: "admin@bluebird.test", manage: true},
		{name: "agency user", email: "agency-user@northwind.test"},
		{name: "account user", email: "user@bluebird.test"},
		{name: "support", email: "support@relink.test"},
		// Account admin of Bluebird Bakery, and agency user besides: the account admin role
		// lets them change Bluebird's connections whatever else they hold.
		{name: "agency user and account admin", email: "agency-user-bakery-admin@northwind.test", manage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandboxSite(t)
			roleUsers(t, s)
			bakery := s.subs["Bluebird Bakery"]
			admin := s.signedIn("admin@bluebird.test")
			conns := admin.connectAll(bakery, "meta", avery)
			connID := conns.doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
			assetID := conns.doc.Find(`[data-testid="asset-row"][data-kind="ad_account"]`).First().AttrOr("data-asset-id", "")
			if connID == "" || assetID == "" {
				t.Fatalf("the admin's connection is not on the page:\n%s", conns.body)
			}
			// A flow of the admin's waiting in the picker, for the read-only roles to try.
			pending := admin.connect(bakery, "meta", avery)
			chosen := url.Values{}
			pending.doc.Find(`input[name="asset"][checked]`).Each(func(_ int, sel *goquery.Selection) { chosen.Add("asset", sel.AttrOr("value", "")) })

			b := s.signedIn(tt.email)
			p := b.get(accountPath(bakery, "/connections"))
			if p.status != http.StatusOK {
				t.Fatalf("connections page: status %d", p.status)
			}
			for _, c := range connectionControls {
				n := p.doc.Find(`[data-testid="` + c.testid + `"]`).Length()
				switch {
				case tt.manage && n == 0:
					t.Errorf("no %s control", c.testid)
				case !tt.manage && n > 0:
					t.Errorf("%d %s controls shown to a read-only role", n, c.testid)
				}
				if c.text == "" {
					continue
				}
				shown := strings.Contains(p.doc.Find("main").Text(), c.text)
				if shown != tt.manage {
					t.Errorf("the page shows %q: %v, want %v", c.text, shown, tt.manage)
				}
			}
			if !tt.manage {
				for _, action := range []string{"/connect/", "/refresh", "/reauthenticate", "/disconnect", "/connections/" + connID + "/assets"} {
					if p.doc.Find(`form[action*="`+action+`"], a[href*="`+action+`"], [hx-post*="`+action+`"]`).Length() > 0 {
						t.Errorf("the page links to %s for a read-only role", action)
					}
				}
			}
			if n := p.doc.Find(`[data-testid="asset-row"]`).Length(); n != 10 {
				t.Errorf("%d asset rows, want 10: every role reads the assets", n)
			}

			// Every role reads the history.
			for _, path := range []string{"/history", "/connections/" + connID + "/history", "/history?kind=" + models.EventConnected} {
				if got := b.get(accountPath(bakery, path)); got.status != http.StatusOK || got.doc.Find(`[data-testid="history-event"]`).Length() == 0 {
					t.Errorf("GET %s: status %d, %d events", path, got.status, got.doc.Find(`[data-testid="history-event"]`).Length())
				}
			}

			before := changes(t, s, bakery)
			htmx := []string{"HX-Request", "true"}
			type request struct {
				name   string
				method string
				path   string
				form   url.Values
				header []string
				want   int // for the roles that manage
				check  func(t *testing.T, p page)
			}
			// The picker is tried with the admin's flow by read-only roles, and with a flow
			// of their own by the others (anyone else's flow is not theirs to see).
			flowPath := pending.path
			if tt.manage && tt.email != "admin@bluebird.test" {
				if start := b.post(accountPath(bakery, "/connect/meta"), nil); start.status != http.StatusSeeOther {
					t.Fatalf("Connect: status %d, want 303 for a role that may change connections", start.status)
				}
				own := b.connect(bakery, "meta", avery)
				flowPath = own.path
			}
			toDialog := func(t *testing.T, p page) {
				if !strings.Contains(p.location(), "/sandbox/meta/www/") {
					t.Errorf("redirected to %q, not the dialog", p.location())
				}
			}
			requests := []request{
				{name: "connect meta", method: http.MethodPost, path: "/connect/meta", want: http.StatusSeeOther, check: toDialog},
				{name: "connect linkedin", method: http.MethodPost, path: "/connect/linkedin", want: http.StatusSeeOther},
				{name: "picker", method: http.MethodGet, path: strings.TrimPrefix(flowPath, accountPath(bakery, "")), want: http.StatusOK},
				{name: "save the picker", method: http.MethodPost, path: strings.TrimPrefix(flowPath, accountPath(bakery, "")), form: chosen, want: http.StatusSeeOther},
				{name: "choose assets", method: http.MethodGet, path: "/connections/" + connID + "/assets", want: http.StatusOK},
				{name: "save the choice", method: http.MethodPost, path: "/connections/" + connID + "/assets", form: chosen, want: http.StatusSeeOther},
				{name: "refresh one asset", method: http.MethodPost, path: "/assets/" + assetID + "/refresh", want: http.StatusSeeOther},
				{name: "refresh one asset (htmx)", method: http.MethodPost, path: "/assets/" + assetID + "/refresh", header: htmx, want: http.StatusOK},
				{name: "refresh all", method: http.MethodPost, path: "/connections/" + connID + "/refresh", want: http.StatusSeeOther},
				{name: "refresh all (htmx)", method: http.MethodPost, path: "/connections/" + connID + "/refresh", header: htmx, want: http.StatusOK},
				{name: "reauthenticate", method: http.MethodPost, path: "/connections/" + connID + "/reauthenticate", want: http.StatusSeeOther, check: toDialog},
				{name: "disconnect confirmation", method: http.MethodGet, path: "/connections/" + connID + "/disconnect", want: http.StatusOK},
				{name: "disconnect", method: http.MethodPost, path: "/connections/" + connID + "/disconnect", want: http.StatusSeeOther},
			}
			for _, rq := range requests {
				var got page
				if rq.method == http.MethodGet {
					got = b.get(accountPath(bakery, rq.path), rq.header...)
				} else {
					got = b.post(accountPath(bakery, rq.path), rq.form, rq.header...)
				}
				want := rq.want
				if !tt.manage {
					want = http.StatusForbidden
				}
				if got.status != want {
					t.Errorf("%s (%s %s): status %d, want %d", rq.name, rq.method, rq.path, got.status, want)
					continue
				}
				if !tt.manage && !strings.Contains(got.doc.Find("h1").Text(), "Not allowed") {
					t.Errorf("%s: the refusal says %q", rq.name, got.doc.Find("h1").Text())
				}
				if tt.manage && rq.check != nil {
					rq.check(t, got)
				}
			}

			after := changes(t, s, bakery)
			status := b.get(accountPath(bakery, "/connections")).doc.Find(`[data-connection-id="`+connID+`"]`).AttrOr("data-status", "")
			if tt.manage {
				if after == before {
					t.Errorf("the requests changed nothing")
				}
				if status != string(models.StatusDisconnected) {
					t.Errorf("after disconnect: status %q", status)
				}
				return
			}
			if after != before {
				t.Errorf("refused requests recorded %d events", after-before)
			}
			if status != string(models.StatusHealthy) {
				t.Errorf("after refused requests: status %q, want healthy", status)
			}
			// The admin's flow survived the refused attempts.
			if done := admin.post(pending.path, chosen); done.status != http.StatusSeeOther || strings.Contains(done.location(), "flows") {
				t.Errorf("the admin's pending flow no longer saves: %d %q", done.status, done.location())
			}
		})
	}
}
