package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestHomeRemembersTheLastSubAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	if p := b.get("/"); p.location() != "/agency" {
		t.Fatalf("first visit to / goes to %q, want /agency", p.location())
	}
	cedar := s.subs["Cedar Dental"]
	b.get(fmt.Sprintf("/accounts/%d/connections", cedar.ID))
	if p := b.get("/"); p.location() != fmt.Sprintf("/accounts/%d/connections", cedar.ID) {
		t.Fatalf("/ goes to %q, want Cedar Dental", p.location())
	}
	b.post("/logout", nil)
	b.login("owner@northwind.test")
	if p := b.get("/"); p.location() != fmt.Sprintf("/accounts/%d/connections", cedar.ID) {
		t.Fatalf("after signing in again / goes to %q, want Cedar Dental", p.location())
	}
}

func TestHomeForgetsAnUnreachableLastSubAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	b.get(fmt.Sprintf("/accounts/%d/connections", s.subs["Cedar Dental"].ID))
	b.post("/logout", nil)
	b.login("admin@bluebird.test")
	if p := b.get("/"); p.location() != fmt.Sprintf("/accounts/%d/connections", s.subs["Bluebird Bakery"].ID) {
		t.Fatalf("another user's last sub-account leaked: / goes to %q, want the user's own Bluebird Bakery", p.location())
	}
}

func TestSwitcher(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	bluebird := s.subs["Bluebird Bakery"]
	p := b.get(fmt.Sprintf("/accounts/%d/connections", bluebird.ID))
	sw := p.doc.Find("[data-testid=account-switcher]")
	if sw.Length() != 1 {
		t.Fatal("no switcher on the connections page")
	}
	if got := strings.TrimSpace(sw.Find(".switcher-current").Text()); got != "Bluebird Bakery" {
		t.Errorf("switcher shows %q as current", got)
	}
	if got := sw.Find("a.switcher-item").Length(); got != 3 {
		t.Errorf("switcher lists %d links, want 3", got)
	}
	if sw.Find("form[action='/switch'][method=get] input[name=q]").Length() != 1 {
		t.Error("the switcher has no search form that works without JavaScript")
	}
	if sw.Find("a[aria-current=page]").Text() == "" {
		t.Error("the current sub-account is not marked")
	}

	tests := []struct {
		name      string
		query     string
		htmx      bool
		wantNames []string
	}{
		{name: "htmx fragment filters", query: "ced", htmx: true, wantNames: []string{"Cedar Dental"}},
		{name: "page without JavaScript filters", query: "harbor", wantNames: []string{"Harbor Fitness"}},
		{name: "agency name matches all", query: "northwind", htmx: true, wantNames: []string{"Bluebird Bakery", "Cedar Dental", "Harbor Fitness"}},
		{name: "no match says so", query: "zzz", htmx: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p page
			if tt.htmx {
				p = b.get("/switch?q="+tt.query, "HX-Request", "true")
				if p.doc.Find("html body header").Length() != 0 {
					t.Error("the htmx response is a whole page, not a fragment")
				}
			} else {
				p = b.get("/switch?q=" + tt.query)
				if p.doc.Find("header.topbar").Length() != 1 {
					t.Error("the page without JavaScript has no layout")
				}
			}
			if p.status != http.StatusOK {
				t.Fatalf("status %d", p.status)
			}
			list := "#switcher-results"
			if !tt.htmx {
				list = "[data-testid=switch-list]"
			}
			var names []string
			p.doc.Find(list + " .switcher-item-name").Each(func(_ int, sel *goquery.Selection) {
				names = append(names, sel.Text())
			})
			if fmt.Sprint(names) != fmt.Sprint(tt.wantNames) && !(len(names) == 0 && len(tt.wantNames) == 0) {
				t.Errorf("got %v, want %v", names, tt.wantNames)
			}
			if len(tt.wantNames) == 0 && !strings.Contains(p.body, "No sub-account matches") {
				t.Error("an empty result does not say so")
			}
		})
	}
}

func TestSwitcherWithManySubAccounts(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	agency, err := s.store.AgencyByName(ctx, "Northwind Marketing")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 120; i++ {
		if _, err := s.store.CreateSubAccount(ctx, agency.ID, fmt.Sprintf("Client %03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	b := s.signedIn("owner@northwind.test")
	p := b.get("/agency")
	sw := p.doc.Find("[data-testid=account-switcher]")
	if got := sw.Find("a.switcher-item").Length(); got != 50 {
		t.Errorf("the dropdown lists %d, want the first 50", got)
	}
	if more := sw.Find(".switcher-more").Text(); !strings.Contains(more, "50 of 123") {
		t.Errorf("the dropdown does not say it is partial: %q", more)
	}
	all := b.get("/switch")
	if got := all.doc.Find("[data-testid=switch-list] a.switcher-item").Length(); got != 123 {
		t.Errorf("the full list has %d links, want 123", got)
	}
	q := b.get("/switch?q=client%2011", "HX-Request", "true")
	if got := q.doc.Find("a.switcher-item").Length(); got != 10 {
		t.Errorf("'client 11' matches %d, want 10 (110-119)", got)
	}
}

func TestNotFoundAndErrorsNeverLeak(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	p := b.get("/no/such/page")
	if p.status != http.StatusNotFound || p.doc.Find("[data-testid=error-page]").Length() != 1 {
		t.Fatalf("status %d", p.status)
	}
	if p.doc.Find("code").Text() == "" {
		t.Error("the error page gives no reference to quote to support")
	}
	if p.doc.Find("[data-testid=account-switcher]").Length() != 1 || p.doc.Find("nav.mainnav").Length() != 1 {
		t.Error("a signed-in user's 404 page has no header to go on from")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.browser()
	for _, path := range []string{"/healthz", "/readyz"} {
		if p := b.get(path); p.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, p.status, p.body)
		}
	}
	if p := b.get("/static/htmx.min.js"); p.status != http.StatusOK || !strings.Contains(p.body, "htmx") {
		t.Errorf("htmx is not served: %d", p.status)
	}
}

func TestSwitchPageSaysHowManyMatch(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	tests := []struct {
		query string
		want  string
	}{
		{query: "", want: "3 sub-accounts"},
		{query: "harbor", want: "1 sub-account matches “harbor”"},
		{query: "e", want: "3 sub-accounts match “e”"},
		{query: "zzz", want: "0 sub-accounts match “zzz”"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p := b.get("/switch?q=" + tt.query)
			if got := strings.TrimSpace(p.doc.Find("[data-testid=switch-count]").Text()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOddURLsAreNotFound(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	id := s.subs["Cedar Dental"].ID
	for _, path := range []string{fmt.Sprintf("/accounts/0%d/connections", id), fmt.Sprintf("/accounts/+%d/connections", id), "/static/"} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, p.status)
		}
	}
	sup := s.signedIn("support@relink.test")
	if p := sup.post("/agency", nil); p.status != http.StatusForbidden {
		t.Errorf("support POST /agency: status %d, want 403", p.status)
	}
	if p := b.post("/agency", nil); p.status != http.StatusMethodNotAllowed || p.doc.Find("[data-testid=account-switcher]").Length() != 1 {
		t.Errorf("POST /agency: status %d, or no header on the 405 page", p.status)
	}
}
