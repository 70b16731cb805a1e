package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
