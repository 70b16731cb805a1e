package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models/storetest"
)

// getRoutes lists every GET route of the router, read from the router itself.
func getRoutes(t *testing.T) []string {
	t.Helper()
	app, err := handlers.New(testConfig(storetest.Open(t)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = chi.Walk(app.Routes().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet {
			out = append(out, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHeadIsAnsweredLikeGet(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	routes := getRoutes(t)
	for _, want := range []string{"/healthz", "/readyz", "/login", "/logout", "/agency"} {
		if !strings.Contains(strings.Join(routes, " "), want) {
			t.Fatalf("no GET route %s among %v", want, routes)
		}
	}
	for _, route := range routes {
		path := fillRoute(route, s.subs["Bluebird Bakery"].ID)
		if strings.HasPrefix(path, "/static") {
			path = "/static/app.css"
		}
		t.Run(path, func(t *testing.T) {
			get := b.get(path)
			req, _ := http.NewRequest(http.MethodHead, s.server.URL+path, nil)
			head := b.do(req)
			if head.status != get.status {
				t.Fatalf("HEAD %s: status %d, GET: %d", path, head.status, get.status)
			}
			if head.body != "" {
				t.Errorf("HEAD %s has a body of %d bytes", path, len(head.body))
			}
			if h, g := head.header.Get("Content-Type"), get.header.Get("Content-Type"); h != g {
				t.Errorf("HEAD %s: Content-Type %q, GET: %q", path, h, g)
			}
		})
	}
	t.Run("signed out", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/login", "/static/app.css"} {
			req, _ := http.NewRequest(http.MethodHead, s.server.URL+path, nil)
			if p := s.browser().do(req); p.status != http.StatusOK {
				t.Errorf("HEAD %s signed out: status %d, want 200", path, p.status)
			}
		}
	})
}

func TestUnsafeMethodsAreRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.signedIn("owner@northwind.test")
	support := s.signedIn("support@relink.test")
	tests := []struct {
		name string
		b    *browser
		path string
		want int
	}{
		{name: "static files", b: s.browser(), path: "/static/app.css", want: http.StatusMethodNotAllowed},
		{name: "static files signed in", b: owner, path: "/static/htmx.min.js", want: http.StatusMethodNotAllowed},
		{name: "unknown path", b: owner, path: "/no/such/page", want: http.StatusNotFound},
		{name: "support on an unknown path", b: support, path: "/no/such/page", want: http.StatusForbidden},
		{name: "support on static files", b: support, path: "/static/app.css", want: http.StatusForbidden},
		{name: "support on a page", b: support, path: "/agency", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			t.Run(tt.name+" "+method, func(t *testing.T) {
				req, _ := http.NewRequest(method, s.server.URL+tt.path, nil)
				if p := tt.b.do(req); p.status != tt.want {
					t.Fatalf("%s %s: status %d, want %d", method, tt.path, p.status, tt.want)
				}
			})
		}
	}
}

func TestLogoutTypedInTheAddressBar(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	p := b.get("/logout")
	if p.status != http.StatusOK {
		t.Fatalf("GET /logout signed in: status %d, want 200", p.status)
	}
	form := p.doc.Find("[data-testid=logout-page] form[action='/logout'][method=post]")
	if form.Find("button[type=submit]").Length() != 1 {
		t.Fatal("GET /logout shows no Sign out button")
	}
	if p := b.get("/agency"); p.status != http.StatusOK {
		t.Fatalf("GET /logout signed the user out: /agency is %d", p.status)
	}
	if p := b.post("/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("the button's POST: status %d", p.status)
	}
	if p := s.browser().get("/logout"); p.status != http.StatusSeeOther || p.location() != "/login" {
		t.Fatalf("GET /logout signed out: %d to %q, want the sign-in page", p.status, p.location())
	}
}
