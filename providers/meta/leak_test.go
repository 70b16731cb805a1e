package meta_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

// TestErrorsNeverCarryTokens: whatever Meta (or something in between) answers, no
// token reaches the error, not even its Message field.
func TestErrorsNeverCarryTokens(t *testing.T) {
	const secret = "EAALsecretTOKENvalue1234567890abcdef"
	tests := []struct {
		name   string
		status int
		body   string
		reason providers.Reason
	}{
		{name: "token body of the wrong shape", status: 200, body: `{"access_token":"` + secret + `","expires_in":"5183944"}`, reason: providers.ReasonProviderUnavailable},
		{name: "page tokens of the wrong shape", status: 200, body: `{"data":{"id":"1","access_token":"` + secret + `"}}`, reason: providers.ReasonProviderUnavailable},
		{name: "error message quoting the token", status: 400, body: `{"error":{"message":"Malformed access token ` + secret + `","type":"OAuthException","code":190}}`, reason: providers.ReasonRefreshTokenInvalid},
		{name: "proxy page echoing the url", status: 502, body: `<html>GET /oauth/access_token?fb_exchange_token=` + secret + `</html>`, reason: providers.ReasonProviderUnavailable},
		{name: "bearer in a 401", status: 401, body: `Authorization: Bearer ` + secret, reason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL})
			_, err := c.RenewToken(context.Background(), providers.Token{AccessToken: "EAASshortlivedTOKEN1234567890abcdef"})
			pe, ok := providers.AsError(err)
			if !ok || pe.Reason != tt.reason {
				t.Fatalf("got %v, want %s", err, tt.reason)
			}
			for _, s := range []string{err.Error(), pe.Message, fmt.Sprintf("%+v", *pe)} {
				if strings.Contains(s, secret) || strings.Contains(s, "EAASshortlived") {
					t.Errorf("error leaks a token: %s", s)
				}
			}
		})
	}
}
