package providers_test

import (
	"context"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// TestCancelledCallsAreNotProviderFailures: a call whose context the caller
// cancelled (shutdown) says so, and is not reported as the provider's outage.
func TestCancelledCallsAreNotProviderFailures(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	m := meta.New(meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
		GraphURL: srv.URL + "/sandbox/meta/graph", Clock: sb.Clock()})
	l := linkedin.New(linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: sandbox.DefaultLinkedInClientSecret,
		APIURL: srv.URL + "/sandbox/linkedin/api", WWWURL: srv.URL + "/sandbox/linkedin/www", Clock: sb.Clock()})
	tests := []struct {
		name string
		p    providers.Provider
	}{
		{name: "meta", p: m},
		{name: "linkedin", p: l},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := tt.p.Me(ctx, providers.Token{AccessToken: "t"})
			pe, ok := providers.AsError(err)
			if !ok || !providers.IsCanceled(err) || pe.Detail != providers.DetailCanceled || pe.Reason.Transient() {
				t.Errorf("got %v", err)
			}
		})
	}
}
