package linkedin_test

import (
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
)

// TestUnauthorizedReadsServiceErrorCode: a 401 names its reason through code or,
// in LinkedIn's older shape, serviceErrorCode; a 401 with neither came from
// something other than LinkedIn and is never a reason to reauthenticate.
func TestUnauthorizedReadsServiceErrorCode(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		reason    providers.Reason
		retryable bool
	}{
		{name: "older shape 65602 expired", body: `{"serviceErrorCode":65602,"status":401,"message":"The token used in the request has expired"}`, reason: providers.ReasonTokenExpired},
		{name: "older shape 65601 revoked", body: `{"serviceErrorCode":65601,"status":401,"message":"The token used in the request has been revoked by the user"}`, reason: providers.ReasonAppRemoved},
		{name: "older shape 65600 invalid", body: `{"serviceErrorCode":65600,"status":401,"message":"Invalid access token"}`, reason: providers.ReasonSessionInvalidated},
		{name: "code wins with both", body: `{"serviceErrorCode":65602,"code":"EXPIRED_ACCESS_TOKEN","status":401}`, reason: providers.ReasonTokenExpired},
		{name: "gateway message only", body: `{"message":"Unauthorized"}`, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "status only", body: `{"status":401}`, reason: providers.ReasonProviderUnavailable, retryable: true},
		{name: "status and message", body: `{"status":401,"message":"Unauthorized"}`, reason: providers.ReasonProviderUnavailable, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := linkedin.Classify("userinfo", 401, nil, []byte(tt.body))
			if e.Reason != tt.reason || e.Retryable != tt.retryable {
				t.Errorf("got %s retryable=%v, want %s %v", e.Reason, e.Retryable, tt.reason, tt.retryable)
			}
			if tt.retryable && e.RetryAfter != 30*time.Second {
				t.Errorf("retry after = %v", e.RetryAfter)
			}
		})
	}
}

// TestCodelessUnauthorizedAgrees: Meta and LinkedIn read a 401 without any
// provider code the same way.
func TestCodelessUnauthorizedAgrees(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "message only", body: `{"message":"Unauthorized"}`},
		{name: "graph shape without code", body: `{"error":{"message":"Unauthorized"}}`},
		{name: "empty", body: ``},
		{name: "html", body: `<html>401</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			li := linkedin.Classify("me", 401, nil, []byte(tt.body))
			me := meta.Classify("me", 401, nil, []byte(tt.body))
			if li.Reason != me.Reason || li.Retryable != me.Retryable || li.Reason != providers.ReasonProviderUnavailable {
				t.Errorf("linkedin %s/%v, meta %s/%v", li.Reason, li.Retryable, me.Reason, me.Retryable)
			}
		})
	}
}
