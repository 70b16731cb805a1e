package linkedin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
	"golang.org/x/oauth2"
)

// GothProvider implements goth.Provider for LinkedIn with configurable endpoints.
type GothProvider struct {
	name   string
	client *Client
	oauth  *oauth2.Config
}

var _ goth.Provider = (*GothProvider)(nil)

// NewGoth returns the goth provider named "linkedin" for cfg.
func NewGoth(cfg Config) *GothProvider {
	cfg = withDefaults(cfg)
	return &GothProvider{
		name:   "linkedin",
		client: &Client{cfg: cfg},
		oauth: &oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   cfg.WWWURL + "/oauth/v2/authorization",
				TokenURL:  cfg.WWWURL + "/oauth/v2/accessToken",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
	}
}

// Name is the name gothic looks the provider up by.
func (p *GothProvider) Name() string { return p.name }

// SetName renames the provider.
func (p *GothProvider) SetName(name string) { p.name = name }

// Debug is a no-op.
func (p *GothProvider) Debug(bool) {}

// BeginAuth starts the flow.
func (p *GothProvider) BeginAuth(state string) (goth.Session, error) {
	return &Session{AuthURL: p.oauth.AuthCodeURL(state)}, nil
}

// UnmarshalSession restores a session saved by gothic.
func (p *GothProvider) UnmarshalSession(data string) (goth.Session, error) {
	s := &Session{}
	if err := json.NewDecoder(strings.NewReader(data)).Decode(s); err != nil {
		return s, providers.NewError("linkedin", "unmarshal_session", providers.ReasonUnknown, "stored session is not readable")
	}
	return s, nil
}

// FetchUser reads the OpenID Connect userinfo.
func (p *GothProvider) FetchUser(session goth.Session) (goth.User, error) {
	s, ok := session.(*Session)
	if !ok {
		return goth.User{}, providers.NewError("linkedin", "fetch_user", providers.ReasonUnknown, "session of another provider")
	}
	user := goth.User{Provider: p.name, AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, ExpiresAt: s.ExpiresAt}
	if s.AccessToken == "" {
		return user, providers.NewError("linkedin", "fetch_user", providers.ReasonUnknown, "cannot fetch the user without an access token")
	}
	ctx, cancel := providers.OAuthContext(p.client.cfg.HTTPClient, p.client.cfg.Timeout)
	defer cancel()
	var raw map[string]any
	if err := p.client.get(ctx, "userinfo", "/v2/userinfo", nil, s.AccessToken, &raw); err != nil {
		return user, err
	}
	str := func(k string) string { v, _ := raw[k].(string); return v }
	if str("sub") == "" {
		return user, providers.UnexpectedResponse("linkedin", "userinfo", http.StatusOK)
	}
	if !s.RefreshExpiresAt.IsZero() {
		raw["refresh_token_expires_at"] = s.RefreshExpiresAt.UTC().Format(time.RFC3339)
	}
	user.RawData = raw
	user.UserID, user.Name, user.Email = str("sub"), str("name"), str("email")
	user.FirstName, user.LastName, user.AvatarURL = str("given_name"), str("family_name"), str("picture")
	return user, nil
}

// RefreshToken runs the refresh grant.
func (p *GothProvider) RefreshToken(refreshToken string) (*oauth2.Token, error) {
	ctx, cancel := providers.OAuthContext(p.client.cfg.HTTPClient, p.client.cfg.Timeout)
	defer cancel()
	tok, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return nil, Classify(OpRefresh, re.Response.StatusCode, re.Response.Header, re.Body)
		}
		return nil, providers.ClassifyTransportCtx(ctx, "linkedin", OpRefresh, err)
	}
	return tok, nil
}

// codeExchange finishes this provider's OAuth callbacks.
func (p *GothProvider) codeExchange() providers.CodeExchange {
	return providers.CodeExchange{Provider: "linkedin", OAuth: p.oauth, HTTPClient: p.client.cfg.HTTPClient,
		Timeout: p.client.cfg.Timeout, DetailParam: "error_description", Classify: Classify}
}

// RefreshTokenAvailable is true: LinkedIn issues 365-day refresh tokens.
func (p *GothProvider) RefreshTokenAvailable() bool { return true }

// Session is the goth session of a LinkedIn login.
type Session struct {
	AuthURL          string
	AccessToken      string
	RefreshToken     string
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
}

// GetAuthURL returns the authorization URL.
func (s *Session) GetAuthURL() (string, error) {
	if s.AuthURL == "" {
		return "", providers.NewError("linkedin", "auth_url", providers.ReasonUnknown, goth.NoAuthUrlErrorMessage)
	}
	return s.AuthURL, nil
}

// Authorize exchanges the code for tokens; a cancelled dialog is an error.
func (s *Session) Authorize(provider goth.Provider, params goth.Params) (string, error) {
	p, ok := provider.(*GothProvider)
	if !ok {
		return "", providers.NewError("linkedin", "authorize", providers.ReasonUnknown, "provider of another kind")
	}
	tok, err := p.codeExchange().Exchange(params)
	if err != nil {
		return "", err
	}
	s.AccessToken, s.RefreshToken, s.ExpiresAt = tok.AccessToken, tok.RefreshToken, tok.Expiry
	now := p.client.cfg.Clock.Now() // the configured clock, which the sandbox can advance
	if tok.ExpiresIn > 0 {
		s.ExpiresAt = now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if secs, ok := tok.Extra("refresh_token_expires_in").(float64); ok && secs > 0 {
		s.RefreshExpiresAt = now.Add(time.Duration(secs) * time.Second)
	}
	return tok.AccessToken, nil
}

// Marshal serialises the session for gothic's store.
func (s *Session) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// String keeps the tokens out of logs.
func (s Session) String() string { return "linkedin.Session{expires: " + s.ExpiresAt.String() + "}" }

// GoString keeps %#v from printing the tokens.
func (s Session) GoString() string { return s.String() }

// LogValue keeps slog from printing the tokens.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Time("expires_at", s.ExpiresAt),
		slog.Time("refresh_expires_at", s.RefreshExpiresAt),
		slog.Bool("has_access_token", s.AccessToken != ""),
	)
}

// WithName returns a copy registered with goth under name, so that several apps (tests)
// in one process do not overwrite each other's provider.
func (p *GothProvider) WithName(name string) goth.Provider {
	cp := *p
	cp.name = name
	return &cp
}
