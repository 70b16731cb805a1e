package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestCallCountsNeverShowATokenInThePath: a token put into a URL path (by mistake
// or by a probe) reaches neither the call counts nor the panel.
func TestCallCountsNeverShowATokenInThePath(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaSmallUser)
	q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}}
	tests := []struct {
		name   string
		method string
		path   string
	}{
		{name: "DELETE one permission named by the token", method: http.MethodDelete, path: "/sandbox/meta/graph/v24.0/me/permissions/" + tok},
		{name: "GET the token as a node", method: http.MethodGet, path: "/sandbox/meta/graph/v24.0/" + tok},
		{name: "GET the token as an edge", method: http.MethodGet, path: "/sandbox/meta/graph/v24.0/me/" + tok},
		{name: "act_ followed by the token", method: http.MethodGet, path: "/sandbox/meta/graph/v24.0/act_" + tok},
		{name: "LinkedIn REST path", method: http.MethodGet, path: "/sandbox/linkedin/api/rest/organizations/" + tok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path+"?"+q.Encode(), nil)
			do(t, req)
			for _, u := range []string{"/sandbox/api/calls", "/sandbox"} {
				r := do(t, mustReq(http.MethodGet, srv.URL+u, ""))
				if strings.Contains(string(r.body), tok) {
					t.Errorf("%s shows the token", u)
				}
			}
		})
	}
	// Known endpoints keep their names; the others are counted as "other".
	if sb.CallsTo("meta", "DELETE other") != 1 || sb.CallsTo("meta", "GET other") != 3 || sb.CallsTo("meta", "GET /debug_token") != 0 {
		t.Errorf("calls = %+v", sb.Calls())
	}
}

// TestCallCountsStayBounded: calls with ever new tokens do not grow the call
// counts without end.
func TestCallCountsStayBounded(t *testing.T) {
	sb, _ := sandboxtest.Start(t)
	for i := range 10500 {
		req := httptest.NewRequest(http.MethodGet, "/sandbox/meta/graph/v24.0/me?access_token=bogus"+strconv.Itoa(i), nil)
		sb.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := len(sb.Calls()); n > 10001 {
		t.Errorf("%d call counts kept", n)
	}
	if n := sb.CallsTo("meta", "other"); n < 500 {
		t.Errorf("%d calls folded into other, want at least 500", n)
	}
}
