package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestLinkedInPagingParameters: out-of-range start and count never crash the
// sandbox; values LinkedIn rejects get its 400 error shape.
func TestLinkedInPagingParameters(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
	tests := []struct {
		name   string
		query  string
		status int
		empty  bool
	}{
		{name: "start near the int limit", query: "start=9223372036854775800&count=100", status: 200, empty: true},
		{name: "count near the int limit", query: "start=1&count=9223372036854775807", status: 200},
		{name: "both near the int limit", query: "start=9223372036854775807&count=9223372036854775807", status: 200, empty: true},
		{name: "start past the int limit", query: "start=99999999999999999999", status: 400},
		{name: "negative start", query: "start=-1", status: 400},
		{name: "negative count", query: "count=-5", status: 400},
		{name: "start not a number", query: "start=abc", status: 400},
		{name: "ordinary page", query: "start=0&count=10", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/linkedin/api/rest/adAccountUsers?q=authenticatedUser&"+tt.query, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("LinkedIn-Version", "202510")
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			m := r.json(t)
			if tt.status == 400 {
				if m["status"] != float64(400) || m["message"] == nil || m["serviceErrorCode"] == nil {
					t.Errorf("not LinkedIn's error shape: %s", r.body)
				}
				return
			}
			els, _ := m["elements"].([]any)
			if tt.empty != (len(els) == 0) {
				t.Errorf("%d elements, want empty=%v: %s", len(els), tt.empty, r.body)
			}
		})
	}
}
