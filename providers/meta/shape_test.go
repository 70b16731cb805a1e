package meta_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

// fixed starts a server that answers every request with status and body.
func fixed(t *testing.T, status int, body string) *meta.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, WWWURL: srv.URL})
}

// TestWrongShapeIsNotADeadToken: a 200 whose body is not what Graph sends (a
// gateway, a proxy) is an outage, never an expired token or an empty user.
func TestWrongShapeIsNotADeadToken(t *testing.T) {
	tests := []struct {
		name string
		body string
		call func(c *meta.Client) error
	}{
		{name: "debug_token empty object", body: `{}`, call: inspect},
		{name: "debug_token null data", body: `{"data":null}`, call: inspect},
		{name: "debug_token status ok", body: `{"status":"ok"}`, call: inspect},
		{name: "debug_token gateway error string", body: `{"error":"gateway busy"}`, call: inspect},
		{name: "debug_token data without is_valid", body: `{"data":{"app_id":"1"}}`, call: inspect},
		{name: "me empty object", body: `{}`, call: me},
		{name: "me without id", body: `{"name":"Someone"}`, call: me},
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

func inspect(c *meta.Client) error {
	info, err := c.InspectToken(context.Background(), providers.Token{AccessToken: "t"})
	if err == nil && info.Problem != nil {
		return info.Problem
	}
	return err
}

func me(c *meta.Client) error {
	_, err := c.Me(context.Background(), providers.Token{AccessToken: "t"})
	return err
}

// TestInvalidTokenStillReadsAsDead: data.is_valid false is the token's problem.
func TestInvalidTokenStillReadsAsDead(t *testing.T) {
	c := fixed(t, http.StatusOK, `{"data":{"app_id":"1","is_valid":false,"error":{"code":190,"subcode":463,"message":"Session has expired"}}}`)
	info, err := c.InspectToken(context.Background(), providers.Token{AccessToken: "t"})
	if err != nil || info.Valid || info.Problem == nil || info.Problem.Reason != providers.ReasonTokenExpired {
		t.Fatalf("got %+v, %v", info, err)
	}
}
