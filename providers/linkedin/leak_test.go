package linkedin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
)

// TestErrorsNeverCarryTokens: whatever LinkedIn (or something in between) answers,
// no token reaches the error, not even its Message field.
func TestErrorsNeverCarryTokens(t *testing.T) {
	const secret = "AQVsecretTOKENvalue1234567890abcdefABCDEF"
	tests := []struct {
		name   string
		status int
		body   string
		reason providers.Reason
	}{
		{name: "token body of the wrong shape", status: 200, body: `{"access_token":"` + secret + `","expires_in":"5183944","refresh_token":"` + secret + `"}`, reason: providers.ReasonProviderUnavailable},
		{name: "token body without a token", status: 200, body: `{"refresh_token":"` + secret + `"}`, reason: providers.ReasonProviderUnavailable},
		{name: "oauth error quoting the token", status: 400, body: `{"error":"invalid_grant","error_description":"refresh token ` + secret + ` is revoked"}`, reason: providers.ReasonRefreshTokenInvalid},
		{name: "proxy page echoing a bearer header", status: 502, body: `<html>Authorization: Bearer ` + secret + `</html>`, reason: providers.ReasonProviderUnavailable},
		{name: "json echoing the form", status: 400, body: `{"message":"bad form refresh_token=` + secret + `&client_secret=x"}`, reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c := linkedin.New(linkedin.Config{ClientID: "1", ClientSecret: "s", APIURL: srv.URL, WWWURL: srv.URL})
			_, err := c.RenewToken(context.Background(), providers.Token{RefreshToken: "AQXrefreshTOKEN1234567890abcdefABCDEFGH"})
			pe, ok := providers.AsError(err)
			if !ok || pe.Reason != tt.reason {
				t.Fatalf("got %v, want %s", err, tt.reason)
			}
			for _, s := range []string{err.Error(), pe.Message, fmt.Sprintf("%+v", *pe)} {
				if strings.Contains(s, secret) || strings.Contains(s, "AQXrefresh") {
					t.Errorf("error leaks a token: %s", s)
				}
			}
		})
	}
}
