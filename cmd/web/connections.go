package main

import (
	"log/slog"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/oauth"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
)

// newProviders builds the provider clients: the real Meta and LinkedIn for those with
// credentials, the sandbox's stand-ins (reached under BASE_URL) for the others while the
// sandbox is mounted, and nothing for a provider with neither.
func newProviders(cfg config, store *models.Store, sb *sandbox.Sandbox, clock providers.Clock) []providers.Provider {
	base := cfg.BaseURL.String()
	var out []providers.Provider
	// Meta's rate limits are kept in the database, so that a pause one replica learned
	// stops the others too.
	limits := store.ProviderLimits("meta")
	switch {
	case cfg.Meta.configured():
		out = append(out, meta.New(meta.Config{AppID: cfg.Meta.ID, AppSecret: cfg.Meta.Secret,
			RedirectURL: base + "/oauth/meta/callback", Clock: clock, Limits: limits}))
	case sb != nil:
		mc := sb.MetaConfig(base)
		mc.Limits = limits
		out = append(out, meta.New(mc))
	}
	switch {
	case cfg.LinkedIn.configured():
		out = append(out, linkedin.New(linkedin.Config{ClientID: cfg.LinkedIn.ID, ClientSecret: cfg.LinkedIn.Secret,
			RedirectURL: base + "/oauth/linkedin/callback", Clock: clock}))
	case sb != nil:
		out = append(out, linkedin.New(sb.LinkedInConfig(base)))
	}
	return out
}

// newConnections builds the connection service and the OAuth flows over the providers;
// notifier and metrics may be nil.
func newConnections(cfg config, store *models.Store, provs []providers.Provider, log *slog.Logger, notifier connection.Notifier, metrics connection.Metrics) (*connection.Service, *oauth.Flows, error) {
	cipher, err := models.NewCipher(cfg.TokenKeys...)
	if err != nil {
		return nil, nil, err
	}
	svc, err := connection.New(connection.Config{Store: store, Cipher: cipher, Providers: provs, Log: log,
		Notifier: notifier, Metrics: metrics, CheckEvery: cfg.HealthInterval, UnreachableNotice: cfg.UnreachableNotice})
	if err != nil {
		return nil, nil, err
	}
	flows, err := oauth.New(oauth.Config{Store: store, Providers: provs})
	if err != nil {
		return nil, nil, err
	}
	return svc, flows, nil
}
