package meta

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
	"golang.org/x/oauth2"
)

// GothProvider implements goth.Provider for Facebook Login with configurable
// endpoints (goth's own facebook provider hard-codes them). gothic runs the flow.
// Every error it returns contains a *providers.Error.
type GothProvider struct {
	name      string
	client    *Client
	oauth     *oauth2.Config
	authType  string
	userField string
}

var _ goth.Provider = (*GothProvider)(nil)

// NewGoth returns the goth provider named "meta" for cfg.
func NewGoth(cfg Config) *GothProvider {
	return New(cfg).goth
}

func newGoth(c *Client) *GothProvider {
	cfg := c.cfg
	return &GothProvider{
		name:   "meta",
		client: c,
		oauth: &oauth2.Config{
			ClientID: cfg.AppID, ClientSecret: cfg.AppSecret, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   cfg.WWWURL + "/" + cfg.Version + "/dialog/oauth",
				TokenURL:  cfg.GraphURL + "/" + cfg.Version + "/oauth/access_token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		userField: "id,name,email,first_name,last_name,picture",
	}
}

// withDefaults fills the Config defaults shared by the client and the goth provider.
func withDefaults(cfg Config) Config {
	cfg.GraphURL = strings.TrimRight(cmp.Or(cfg.GraphURL, DefaultGraphURL), "/")
	cfg.WWWURL = strings.TrimRight(cmp.Or(cfg.WWWURL, DefaultWWWURL), "/")
	cfg.Version = cmp.Or(cfg.Version, DefaultVersion)
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = slices.Clone(DefaultScopes)
	}
	cfg.HTTPClient, cfg.Timeout, cfg.Clock = providers.HTTPDefaults(cfg.HTTPClient, cfg.Timeout, cfg.Clock)
	return cfg
}

// Rerequest returns a copy, named "<name>-rerequest", whose dialog asks again for
// declined permissions (auth_type=rerequest). Register both with goth.
func (p *GothProvider) Rerequest() *GothProvider {
	cp := *p
	cp.name = p.name + "-rerequest"
	cp.authType = "rerequest"
	return &cp
}

// Name is the name gothic looks the provider up by.
func (p *GothProvider) Name() string { return p.name }

// SetName renames the provider.
func (p *GothProvider) SetName(name string) { p.name = name }

// Debug is a no-op.
func (p *GothProvider) Debug(bool) {}

// AuthCodeURL is the Login dialog URL for state.
func (p *GothProvider) AuthCodeURL(state string, rerequest bool) string {
	var opts []oauth2.AuthCodeOption
	if rerequest || p.authType == "rerequest" {
		opts = append(opts, oauth2.SetAuthURLParam("auth_type", "rerequest"))
	}
	return p.oauth.AuthCodeURL(state, opts...)
}

// BeginAuth starts the flow.
func (p *GothProvider) BeginAuth(state string) (goth.Session, error) {
	return &Session{AuthURL: p.AuthCodeURL(state, false)}, nil
}

// UnmarshalSession restores a session saved by gothic.
func (p *GothProvider) UnmarshalSession(data string) (goth.Session, error) {
	s := &Session{}
	if err := json.NewDecoder(strings.NewReader(data)).Decode(s); err != nil {
		return s, providers.NewError("meta", "unmarshal_session", providers.ReasonUnknown, "stored session is not readable")
	}
	return s, nil
}

// FetchUser reads /me with appsecret_proof.
func (p *GothProvider) FetchUser(session goth.Session) (goth.User, error) {
	s, ok := session.(*Session)
	if !ok {
		return goth.User{}, providers.NewError("meta", "fetch_user", providers.ReasonUnknown, "session of another provider")
	}
	user := goth.User{AccessToken: s.AccessToken, Provider: p.name, ExpiresAt: s.ExpiresAt}
	if s.AccessToken == "" {
		return user, providers.NewError("meta", "fetch_user", providers.ReasonUnknown, "cannot fetch the user without an access token")
	}
	ctx, cancel := providers.WithTimeout(context.Background(), p.client.cfg.Timeout)
	defer cancel()
	var raw json.RawMessage
	if err := p.client.call(ctx, "fetch_user", http.MethodGet, "me", url.Values{"fields": {p.userField}}, s.AccessToken, &raw); err != nil {
		return user, err
	}
	var u struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Email     string `json:"email"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Picture   struct {
			Data struct {
				URL string `json:"url"`
			} `json:"data"`
		} `json:"picture"`
	}
	if err := json.Unmarshal(raw, &u); err != nil || u.ID == "" {
		return user, providers.UnexpectedResponse("meta", "fetch_user", http.StatusOK)
	}
	_ = json.Unmarshal(raw, &user.RawData) // an object, as the struct above decoded
	user.UserID, user.Name, user.Email = u.ID, u.Name, u.Email
	user.FirstName, user.LastName, user.NickName = u.FirstName, u.LastName, u.Name
	user.AvatarURL = u.Picture.Data.URL
	return user, nil
}

// RefreshToken is not offered by Meta: renew with fb_exchange_token instead.
func (p *GothProvider) RefreshToken(string) (*oauth2.Token, error) {
	return nil, providers.NewError("meta", "refresh_token", providers.ReasonUnknown, "no refresh tokens; use the long-lived token exchange")
}

// codeExchange finishes this provider's OAuth callbacks.
func (p *GothProvider) codeExchange() providers.CodeExchange {
	return providers.CodeExchange{Provider: "meta", OAuth: p.oauth, HTTPClient: p.client.cfg.HTTPClient,
		Timeout: p.client.cfg.Timeout, DetailParam: "error_reason", Classify: Classify}
}

// RefreshTokenAvailable is false for Meta.
func (p *GothProvider) RefreshTokenAvailable() bool { return false }

// Session is the goth session of a Facebook Login.
type Session struct {
	AuthURL     string
	AccessToken string
	ExpiresAt   time.Time
}

// GetAuthURL returns the dialog URL.
func (s *Session) GetAuthURL() (string, error) {
	if s.AuthURL == "" {
		return "", providers.NewError("meta", "auth_url", providers.ReasonUnknown, goth.NoAuthUrlErrorMessage)
	}
	return s.AuthURL, nil
}

// Authorize exchanges the code from the callback for a token. A cancelled dialog
// (error=access_denied) comes back as a missing_permission with
// providers.DetailLoginCanceled.
func (s *Session) Authorize(provider goth.Provider, params goth.Params) (string, error) {
	p, ok := provider.(*GothProvider)
	if !ok {
		return "", providers.NewError("meta", "authorize", providers.ReasonUnknown, "provider of another kind")
	}
	tok, err := p.codeExchange().Exchange(params)
	if err != nil {
		return "", err
	}
	s.AccessToken = tok.AccessToken
	s.ExpiresAt = tok.Expiry
	if tok.ExpiresIn > 0 { // on the configured clock, which the sandbox can advance
		s.ExpiresAt = p.client.cfg.Clock.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok.AccessToken, nil
}

// Marshal serialises the session for gothic's store.
func (s *Session) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// String keeps the tokens out of logs.
func (s Session) String() string { return "meta.Session{expires: " + s.ExpiresAt.String() + "}" }

// GoString keeps %#v from printing the tokens.
func (s Session) GoString() string { return s.String() }

// LogValue keeps slog from printing the tokens.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Time("expires_at", s.ExpiresAt),
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
