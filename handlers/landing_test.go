package handlers_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestASingleSubAccountIsHome(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	bluebird := fmt.Sprintf("/accounts/%d/connections", s.subs["Bluebird Bakery"].ID)
	for _, email := range []string{"admin@bluebird.test", "user@bluebird.test"} {
		t.Run(email, func(t *testing.T) {
			b := s.signedIn(email)
			if p := b.get("/"); p.location() != bluebird {
				t.Fatalf("/ goes to %q, want their only sub-account %s", p.location(), bluebird)
			}
			p := b.get(bluebird)
			if p.doc.Find(".mainnav a[href='/agency']").Length() != 0 {
				t.Error("the navigation offers an overview of a single sub-account")
			}
		})
	}
	t.Run("an agency owner lands on the overview", func(t *testing.T) {
		b := s.signedIn("owner@northwind.test")
		if p := b.get("/"); p.location() != "/agency" {
			t.Fatalf("/ goes to %q, want /agency", p.location())
		}
		if b.get("/agency").doc.Find(".mainnav a[href='/agency']").Length() != 1 {
			t.Error("the owner has no Overview link")
		}
	})
}

func TestOnlyAPageThatRenderedIsRemembered(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	cedar, harbor := s.subs["Cedar Dental"].ID, s.subs["Harbor Fitness"].ID
	steps := []struct {
		name   string
		method string
		path   string
		status int
		home   string
	}{
		{name: "a 404 under a sub-account", method: http.MethodGet, path: fmt.Sprintf("/accounts/%d/no-such-page", cedar), status: http.StatusNotFound, home: "/agency"},
		{name: "a 405 under a sub-account", method: http.MethodOptions, path: fmt.Sprintf("/accounts/%d/connections", cedar), status: http.StatusMethodNotAllowed, home: "/agency"},
		{name: "a foreign sub-account", method: http.MethodGet, path: fmt.Sprintf("/accounts/%d/connections", s.subs[rivalSubAccount].ID), status: http.StatusNotFound, home: "/agency"},
		{name: "a page that rendered", method: http.MethodGet, path: fmt.Sprintf("/accounts/%d/connections", cedar), status: http.StatusOK, home: fmt.Sprintf("/accounts/%d/connections", cedar)},
		{name: "then a 404 under another", method: http.MethodGet, path: fmt.Sprintf("/accounts/%d/nope", harbor), status: http.StatusNotFound, home: fmt.Sprintf("/accounts/%d/connections", cedar)},
		{name: "then a redirect to another", method: http.MethodGet, path: fmt.Sprintf("/accounts/%d/", harbor), status: http.StatusSeeOther, home: fmt.Sprintf("/accounts/%d/connections", cedar)},
	}
	for _, st := range steps {
		req, _ := http.NewRequest(st.method, s.server.URL+st.path, nil)
		if p := b.do(req); p.status != st.status {
			t.Fatalf("%s: %s %s is %d, want %d", st.name, st.method, st.path, p.status, st.status)
		}
		if p := b.get("/"); p.location() != st.home {
			t.Fatalf("after %s, / goes to %q, want %q", st.name, p.location(), st.home)
		}
	}
}
