package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/relink/relink/models"
)

// supportViews counts, per sub-account name, the support_view events of one request.
func (s *site) supportViews(requestID string) map[string]int {
	s.t.Helper()
	out := map[string]int{}
	for name, sub := range s.subs {
		events, err := s.store.EventsOf(context.Background(), sub.ID, 1000)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, e := range events {
			if e.RequestID == requestID && e.Kind == models.EventSupportView && e.ActorType == models.ActorSupport && e.ActorUserID != nil {
				out[name]++
			}
		}
	}
	return out
}

func TestEverythingSupportSeesIsAudited(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("support@relink.test")
	rival := s.subs[rivalSubAccount]
	all := map[string]int{"Bluebird Bakery": 1, "Cedar Dental": 1, "Harbor Fitness": 1, rivalSubAccount: 1}
	tests := []struct {
		name    string
		method  string
		path    string
		htmx    bool
		status  int
		want    map[string]int
		noLinks bool // the page lists no sub-account
	}{
		{name: "the overview of every agency", path: "/agency", status: http.StatusOK, want: all},
		{name: "the switch page before a search", path: "/switch", status: http.StatusOK, want: map[string]int{}, noLinks: true},
		{name: "the switch page's matches", path: "/switch?q=bakery", status: http.StatusOK, want: map[string]int{"Bluebird Bakery": 1}},
		{name: "the dropdown before a search", path: "/switch", htmx: true, status: http.StatusOK, want: map[string]int{}, noLinks: true},
		{name: "the dropdown's matches", path: "/switch?q=secret", htmx: true, status: http.StatusOK, want: map[string]int{rivalSubAccount: 1}},
		{name: "a sub-account's page", path: fmt.Sprintf("/accounts/%d/connections", rival.ID), status: http.StatusOK, want: map[string]int{rivalSubAccount: 1}},
		{name: "a 404 under a sub-account", path: fmt.Sprintf("/accounts/%d/nope", rival.ID), status: http.StatusNotFound, want: map[string]int{rivalSubAccount: 1}},
		{name: "a 405 under a sub-account", method: http.MethodOptions, path: fmt.Sprintf("/accounts/%d/connections", rival.ID), status: http.StatusMethodNotAllowed, want: map[string]int{rivalSubAccount: 1}},
		{name: "a 404 under a missing sub-account", path: "/accounts/999999/connections", status: http.StatusNotFound, want: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, s.server.URL+tt.path, nil)
			if tt.htmx {
				req.Header.Set("HX-Request", "true")
			}
			p := b.do(req)
			if p.status != tt.status {
				t.Fatalf("status %d, want %d", p.status, tt.status)
			}
			got := s.supportViews(p.header.Get("X-Request-Id"))
			for name := range s.subs {
				if got[name] != tt.want[name] {
					t.Errorf("%s: %d support views recorded, want %d", name, got[name], tt.want[name])
				}
				if got[name] == 0 && strings.Contains(p.body, name) {
					t.Errorf("the page shows %q without recording it in its history", name)
				}
			}
			if tt.noLinks && p.doc.Find("a.switcher-item").Length() != 0 {
				t.Errorf("%d sub-accounts listed before any search", p.doc.Find("a.switcher-item").Length())
			}
		})
	}
}
