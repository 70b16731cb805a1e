package linkedin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
)

func fixed(t *testing.T, status int, body string) *linkedin.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return linkedin.New(linkedin.Config{ClientID: "c", ClientSecret: "s", APIURL: srv.URL, WWWURL: srv.URL})
}

// TestWrongShapeIsNotADeadToken: a 200 whose body is not what LinkedIn sends is
// an outage, never an invalidated session or an empty user.
func TestWrongShapeIsNotADeadToken(t *testing.T) {
	inspect := func(c *linkedin.Client) error {
		info, err := c.InspectToken(context.Background(), providers.Token{AccessToken: "t"})
		if err == nil && info.Problem != nil {
			return info.Problem
		}
		return err
	}
	me := func(c *linkedin.Client) error {
		_, err := c.Me(context.Background(), providers.Token{AccessToken: "t"})
		return err
	}
	tests := []struct {
		name string
		body string
		call func(c *linkedin.Client) error
	}{
		{name: "introspection empty object", body: `{}`, call: inspect},
		{name: "introspection status only", body: `{"status":"ok"}`, call: inspect},
		{name: "introspection null active", body: `{"active":null}`, call: inspect},
		{name: "userinfo empty object", body: `{}`, call: me},
		{name: "userinfo without sub", body: `{"name":"Someone"}`, call: me},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(fixed(t, http.StatusOK, tt.body))
			pe, ok := providers.AsError(err)
			if !ok || pe.Reason != providers.ReasonProviderUnavailable || !pe.Retryable {
				t.Fatalf("got %v, want retryable provider_unavailable", err)
			}
		})
	}
}
