package linkedin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
)

// TestGothKeepsTimeoutsAndClassifiesAuthURL: a token exchange or refresh that runs
// out of time says so (errors.Is DeadlineExceeded, provider_unavailable), and a session
// without a dialog URL returns a classified error.
func TestGothKeepsTimeoutsAndClassifiesAuthURL(t *testing.T) {
	// The headers come at once and the body never ends: golang.org/x/oauth2 wraps
	// a failed body read with %v, which drops the context's error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	p := linkedin.NewGoth(linkedin.Config{ClientID: "1", ClientSecret: "s", APIURL: srv.URL, WWWURL: srv.URL, Timeout: 50 * time.Millisecond})
	tests := []struct {
		name      string
		call      func() error
		reason    providers.Reason
		retryable bool
		is        error
	}{
		{name: "exchange times out", call: func() error {
			_, err := (&linkedin.Session{}).Authorize(p, url.Values{"code": {"c"}})
			return err
		}, reason: providers.ReasonProviderUnavailable, retryable: true, is: context.DeadlineExceeded},
		{name: "refresh times out", call: func() error {
			_, err := p.RefreshToken("r")
			return err
		}, reason: providers.ReasonProviderUnavailable, retryable: true, is: context.DeadlineExceeded},
		{name: "no auth url", call: func() error {
			_, err := (&linkedin.Session{}).GetAuthURL()
			return err
		}, reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			pe, ok := providers.AsError(err)
			if !ok {
				t.Fatalf("plain error %v", err)
			}
			if pe.Reason != tt.reason || pe.Retryable != tt.retryable {
				t.Errorf("got %s retryable=%v, want %s %v", pe.Reason, pe.Retryable, tt.reason, tt.retryable)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
	if _, err := (&linkedin.Session{}).GetAuthURL(); err == nil || err.Error() == "" || !strings.Contains(err.Error(), goth.NoAuthUrlErrorMessage) {
		t.Errorf("auth url error %v should name goth's message", err)
	}
}
