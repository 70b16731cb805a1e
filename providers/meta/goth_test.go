package meta_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

type otherSession struct{ goth.Session }

func TestGothErrorsAreClassified(t *testing.T) {
	const secret = "EAALsecretTOKENvalue1234567890abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":42,"access_token":"` + secret + `"}`)) // id is not a string: no user
	}))
	t.Cleanup(srv.Close)
	p := meta.NewGoth(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, WWWURL: srv.URL})
	tests := []struct {
		name      string
		call      func() error
		reason    providers.Reason
		detail    providers.Detail
		retryable bool
		says      string
	}{
		{name: "dialog cancelled", call: func() error {
			_, err := (&meta.Session{}).Authorize(p, url.Values{"error": {"access_denied"}, "error_reason": {"user_denied"}, "error_code": {"200"}})
			return err
		}, reason: providers.ReasonMissingPermission, detail: providers.DetailLoginCanceled, says: "cancel"},
		{name: "dialog error", call: func() error {
			_, err := (&meta.Session{}).Authorize(p, url.Values{"error": {"server_error"}})
			return err
		}, reason: providers.ReasonUnknown, says: "server_error"},
		{name: "callback without code", call: func() error {
			_, err := (&meta.Session{}).Authorize(p, url.Values{})
			return err
		}, reason: providers.ReasonUnknown, says: "code"},
		{name: "session of another provider", call: func() error {
			_, err := p.FetchUser(otherSession{})
			return err
		}, reason: providers.ReasonUnknown},
		{name: "no access token", call: func() error {
			_, err := p.FetchUser(&meta.Session{})
			return err
		}, reason: providers.ReasonUnknown},
		{name: "user of an unexpected shape", call: func() error {
			_, err := p.FetchUser(&meta.Session{AccessToken: secret})
			return err
		}, reason: providers.ReasonProviderUnavailable, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			pe, ok := providers.AsError(err)
			if !ok {
				t.Fatalf("plain error %v", err)
			}
			if pe.Reason != tt.reason || pe.Detail != tt.detail || pe.Retryable != tt.retryable {
				t.Errorf("got %s/%s retryable=%v, want %s/%s %v", pe.Reason, pe.Detail, pe.Retryable, tt.reason, tt.detail, tt.retryable)
			}
			if !strings.Contains(pe.Error(), tt.says) || strings.Contains(pe.Error(), secret) {
				t.Errorf("error = %v", pe)
			}
		})
	}
}
