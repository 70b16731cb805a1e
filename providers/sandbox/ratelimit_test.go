package sandbox_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestUserLimitOnDebugTokenIsPerUser: a user's rate_limited fault answers
// debug_token for that user's token as Meta answers a user limit (17), with the
// app's own x-app-usage, never the app-wide 4 at 100%.
func TestUserLimitOnDebugTokenIsPerUser(t *testing.T) {
	tests := []struct {
		name string
		user string
		code int
	}{
		{name: "the limited user", user: sandbox.MetaSmallUser, code: 17},
		{name: "another user", user: sandbox.MetaAgencyUser},
	}
	_, srv := sandboxtest.Start(t)
	toks := map[string]string{}
	for _, tt := range tests {
		toks[tt.user] = longLived(t, srv, tt.user)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "rate_limited"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"input_token": {toks[tt.user]}, "access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/meta/graph/v24.0/debug_token?"+q.Encode(), nil)
			r := do(t, req)
			e := meta.Classify(meta.OpDebugToken, r.status, r.header, r.body)
			if tt.code == 0 {
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			if e.Code != tt.code {
				t.Errorf("code = %d, want %d (%s)", e.Code, tt.code, r.body)
			}
			if r.header.Get("X-App-Usage") == "" || meta.ParseUsage(r.header).App >= 100 {
				t.Errorf("x-app-usage = %q, want the app's own usage below 100", r.header.Get("X-App-Usage"))
			}
		})
	}
}
