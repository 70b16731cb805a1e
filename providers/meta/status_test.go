package meta_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

// TestStatusOutranksGraphCode: a 5xx, 408 or 429 says the provider (or something
// in front of it) is failing, whatever code the body carries; such a response is
// never read as a dead token, a missing permission or an unknown error.
func TestStatusOutranksGraphCode(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		reason     providers.Reason
		retryAfter time.Duration
	}{
		{name: "503 with 190", status: 503, body: graphBody(190, 0, "OAuthException", "Invalid OAuth access token"), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "502 with 190", status: 502, body: graphBody(190, 0, "OAuthException", "Invalid OAuth access token"), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "502 with 190/463", status: 502, body: graphBody(190, 463, "OAuthException", "Session has expired"), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "500 with 200", status: 500, body: graphBody(200, 0, "OAuthException", "(#200) Permissions error"), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "500 with 368", status: 500, body: graphBody(368, 0, "OAuthException", "blocked"), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "500 with wrong secret", status: 500, body: graphBody(1, 0, "OAuthException", "Error validating client secret."), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "503 with Retry-After", status: 503, header: http.Header{"Retry-After": {"9"}}, body: graphBody(190, 0, "OAuthException", "x"), reason: providers.ReasonProviderUnavailable, retryAfter: 9 * time.Second},
		{name: "503 with user limit stays rate limited", status: 503, body: graphBody(17, 0, "OAuthException", "(#17) User request limit reached"), reason: providers.ReasonRateLimited, retryAfter: 5 * time.Minute},
		{name: "429 without code", status: 429, body: `{"error":{"message":"Too Many Requests"}}`, reason: providers.ReasonRateLimited, retryAfter: time.Minute},
		{name: "429 without code and Retry-After", status: 429, header: http.Header{"Retry-After": {"120"}}, body: `{"error":{"message":"Too Many Requests"}}`, reason: providers.ReasonRateLimited, retryAfter: 2 * time.Minute},
		{name: "429 with 190", status: 429, body: graphBody(190, 0, "OAuthException", "x"), reason: providers.ReasonRateLimited, retryAfter: time.Minute},
		{name: "408 without code", status: 408, body: `{"error":{"message":"Request Timeout"}}`, reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "408 with 190", status: 408, body: graphBody(190, 0, "OAuthException", "x"), reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
		{name: "401 without code", status: 401, body: `{"error":{"message":"Unauthorized"}}`, reason: providers.ReasonProviderUnavailable, retryAfter: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := meta.Classify("me", tt.status, tt.header, []byte(tt.body))
			if e.Reason != tt.reason || !e.Retryable || e.RetryAfter != tt.retryAfter || e.Detail != "" {
				t.Errorf("got %s/%q retryable=%v after=%v, want %s retryable after=%v", e.Reason, e.Detail, e.Retryable, e.RetryAfter, tt.reason, tt.retryAfter)
			}
			if e.Reason.NeedsReauth() {
				t.Errorf("%s needs reauth", e.Reason)
			}
		})
	}
	// A 401 with a Graph code is Meta's own answer and keeps its meaning.
	if e := meta.Classify("me", 401, nil, []byte(graphBody(190, 460, "OAuthException", "x"))); e.Reason != providers.ReasonPasswordChanged {
		t.Errorf("401 with 190/460: %s", e.Reason)
	}
}
