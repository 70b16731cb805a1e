package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestWWWAuthenticateOnlyOnTokenErrors: Graph names invalid_token on 190-class
// errors and insufficient_scope on permission errors, and nothing on others.
func TestWWWAuthenticateOnlyOnTokenErrors(t *testing.T) {
	tests := []struct {
		name   string
		fault  sandbox.FaultRequest
		path   string
		header string
	}{
		{name: "expired token", fault: sandbox.FaultRequest{Fault: "token_expired"}, path: "/me", header: "invalid_token"},
		{name: "missing permission", fault: sandbox.FaultRequest{Fault: "missing_permission", Scope: "ads_read"}, path: "/act_200000000000001", header: "insufficient_scope"},
		{name: "user rate limit", fault: sandbox.FaultRequest{Fault: "rate_limited"}, path: "/me"},
		{name: "policy block", fault: sandbox.FaultRequest{Fault: "policy_blocked"}, path: "/me"},
		{name: "object gone", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "act_200000000000002"}, path: "/act_200000000000002"},
		{name: "outage", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, path: "/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			tok := longLived(t, srv, sandbox.MetaAgencyUser)
			f := tt.fault
			f.Provider, f.User = "meta", sandbox.MetaAgencyUser
			sandboxtest.Inject(t, srv, f)
			r := graph(t, srv, tt.path, tok, nil)
			if r.status == 200 {
				t.Fatalf("the fault did not hit: %s", r.body)
			}
			got := r.header.Get("WWW-Authenticate")
			if tt.header == "" && got != "" || tt.header != "" && !strings.Contains(got, `"`+tt.header+`"`) {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.header)
			}
		})
	}
}

func liGet(t *testing.T, srvURL, tok, path string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srvURL+"/sandbox/linkedin/api"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("LinkedIn-Version", "202510")
	return do(t, req)
}

// TestLinkedInPagingAndServingStatus: start and count are honoured and echoed; a
// disabled ad account stops serving.
func TestLinkedInPagingAndServingStatus(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
	tests := []struct {
		name         string
		query        url.Values
		ids          int
		start, count float64
	}{
		{name: "first of two", query: url.Values{"start": {"0"}, "count": {"1"}}, ids: 1, start: 0, count: 1},
		{name: "second of two", query: url.Values{"start": {"1"}, "count": {"1"}}, ids: 1, start: 1, count: 1},
		{name: "past the end", query: url.Values{"start": {"5"}, "count": {"10"}}, ids: 0, start: 5, count: 10},
		{name: "default", query: url.Values{}, ids: 2, start: 0, count: 10},
	}
	var seen []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.query
			q.Set("q", "roleAssignee")
			r := liGet(t, srv.URL, tok, "/rest/organizationAcls?"+q.Encode())
			m := r.json(t)
			els, _ := m["elements"].([]any)
			paging := m["paging"].(map[string]any)
			if len(els) != tt.ids || paging["start"] != tt.start || paging["count"] != tt.count || paging["total"] != 2.0 {
				t.Errorf("%d elements, paging %v", len(els), paging)
			}
			for _, e := range els {
				seen = append(seen, e.(map[string]any)["organization"].(string))
			}
		})
	}
	if len(seen) != 4 || seen[0] == seen[1] {
		t.Errorf("pages overlap: %v", seen)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Asset: "5200002", Fault: sandbox.FaultAccountDisabled})
	m := liGet(t, srv.URL, tok, "/rest/adAccounts/5200002").json(t)
	if s, _ := m["servingStatuses"].([]any); m["status"] != "CANCELED" || len(s) != 1 || s[0] == "RUNNABLE" {
		t.Errorf("disabled account: %v", m)
	}
}
