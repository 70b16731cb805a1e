package linkedin_test

import (
	"context"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestIntrospectionAgreesWithTheAPI: whatever broke a token, InspectToken and the
// next API call name the same reason.
func TestIntrospectionAgreesWithTheAPI(t *testing.T) {
	tests := []struct {
		name   string
		fault  string
		reason providers.Reason
	}{
		{name: "password_changed", fault: "password_changed", reason: providers.ReasonSessionInvalidated},
		{name: "security_checkpoint", fault: "security_checkpoint", reason: providers.ReasonSessionInvalidated},
		{name: "unconfirmed_account", fault: "unconfirmed_account", reason: providers.ReasonSessionInvalidated},
		{name: "session_invalidated", fault: "session_invalidated", reason: providers.ReasonSessionInvalidated},
		{name: "app_removed", fault: "app_removed", reason: providers.ReasonAppRemoved},
		{name: "token_expired", fault: "token_expired", reason: providers.ReasonTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			c := newClient(t, srv, sb)
			tok := login(t, srv, c)
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Fault: tt.fault})
			info, err := c.InspectToken(context.Background(), tok)
			if err != nil || info.Valid || info.Problem == nil || info.Problem.Reason != tt.reason {
				t.Errorf("introspection: %+v, %v; want %s", info, err, tt.reason)
			}
			if _, err := c.Me(context.Background(), tok); providers.ReasonOf(err) != tt.reason {
				t.Errorf("API call: %v; want %s", err, tt.reason)
			}
		})
	}
}

// TestSlowLinkedInIsUnavailable: a LinkedIn that does not answer in time is an
// outage, not a dead token.
func TestSlowLinkedInIsUnavailable(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c := linkedin.New(linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: sandbox.DefaultLinkedInClientSecret,
		APIURL: srv.URL + "/sandbox/linkedin/api", WWWURL: srv.URL + "/sandbox/linkedin/www",
		RedirectURL: sandboxtest.RedirectURI, Clock: sb.Clock(), Timeout: 50 * time.Millisecond})
	tok := login(t, srv, c)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Fault: "provider_unavailable", Mode: "slow"})
	tests := []struct {
		name string
		call func() error
	}{
		{name: "api", call: func() error { _, err := c.Me(context.Background(), tok); return err }},
		{name: "introspection", call: func() error { _, err := c.InspectToken(context.Background(), tok); return err }},
		{name: "refresh", call: func() error { _, err := c.RenewToken(context.Background(), tok); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if pe, _ := providers.AsError(err); pe == nil || pe.Reason != providers.ReasonProviderUnavailable || !pe.Retryable {
				t.Errorf("got %v", err)
			}
		})
	}
}

// TestWrongClientSecretIsNotAnOutage: LinkedIn's invalid_client is Relink's
// misconfiguration, on every endpoint that sends the client credentials.
func TestWrongClientSecretIsNotAnOutage(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	good := newClient(t, srv, sb)
	tok := login(t, srv, good)
	bad := linkedin.New(linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: "wrong",
		APIURL: srv.URL + "/sandbox/linkedin/api", WWWURL: srv.URL + "/sandbox/linkedin/www", Clock: sb.Clock()})
	tests := []struct {
		name string
		call func() error
	}{
		{name: "refresh", call: func() error { _, err := bad.RenewToken(context.Background(), tok); return err }},
		{name: "introspection", call: func() error { _, err := bad.InspectToken(context.Background(), tok); return err }},
		{name: "revoke", call: func() error { return bad.Revoke(context.Background(), tok) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe, _ := providers.AsError(tt.call())
			if pe == nil || pe.Retryable || pe.Detail != providers.DetailAppMisconfigured {
				t.Errorf("got %v", pe)
			}
		})
	}
}
