package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
	"golang.org/x/oauth2"
)

// GothProvider implements goth.Provider for Facebook Login with configurable
// endpoints (goth's own facebook provider hard-codes them). gothic runs the flow.
type GothProvider struct {
	name      string
	cfg       Config
	oauth     *oauth2.Config
	authType  string
	userField string
}

var _ goth.Provider = (*GothProvider)(nil)

// NewGoth returns the goth provider named "meta" for cfg.
func NewGoth(cfg Config) *GothProvider {
	c := withDefaults(cfg)
	return &GothProvider{
		name: "meta",
		cfg:  c,
		oauth: &oauth2.Config{
			ClientID: c.AppID, ClientSecret: c.AppSecret, RedirectURL: c.RedirectURL, Scopes: c.Scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   c.WWWURL + "/" + c.Version + "/dialog/oauth",
				TokenURL:  c.GraphURL + "/" + c.Version + "/oauth/access_token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		userField: "id,name,email,first_name,last_name,picture",
	}
}

// withDefaults fills the Config defaults shared by the client and the goth provider.
func withDefaults(cfg Config) Config {
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	if cfg.WWWURL == "" {
		cfg.WWWURL = DefaultWWWURL
	}
	cfg.GraphURL = strings.TrimRight(cfg.GraphURL, "/")
	cfg.WWWURL = strings.TrimRight(cfg.WWWURL, "/")
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = providers.DefaultTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = providers.SystemClock{}
	}
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
	err := json.NewDecoder(strings.NewReader(data)).Decode(s)
	return s, err
}

func (p *GothProvider) ctx() (context.Context, context.CancelFunc) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, p.cfg.HTTPClient)
	return context.WithTimeout(ctx, p.cfg.Timeout)
}

// FetchUser reads /me with appsecret_proof.
func (p *GothProvider) FetchUser(session goth.Session) (goth.User, error) {
	s, ok := session.(*Session)
	if !ok {
		return goth.User{}, errors.New("meta: session of another provider")
	}
	user := goth.User{AccessToken: s.AccessToken, Provider: p.name, ExpiresAt: s.ExpiresAt}
	if s.AccessToken == "" {
		return user, errors.New("meta: cannot fetch the user without an access token")
	}
	ctx, cancel := p.ctx()
	defer cancel()
	q := url.Values{"fields": {p.userField}, "access_token": {s.AccessToken},
		"appsecret_proof": {AppSecretProof(p.cfg.AppSecret, s.AccessToken)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.GraphURL+"/"+p.cfg.Version+"/me?"+q.Encode(), nil)
	if err != nil {
		return user, errors.New("meta: build /me request")
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return user, ClassifyTransport("fetch_user", err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	var body []byte
	body, err = readAll(resp)
	if err != nil {
		return user, ClassifyTransport("fetch_user", err)
	}
	if resp.StatusCode != http.StatusOK {
		return user, Classify("fetch_user", resp.StatusCode, resp.Header, body)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return user, Classify("fetch_user", resp.StatusCode, resp.Header, body)
	}
	user.RawData = raw
	str := func(k string) string { v, _ := raw[k].(string); return v }
	user.UserID, user.Name, user.Email = str("id"), str("name"), str("email")
	user.FirstName, user.LastName, user.NickName = str("first_name"), str("last_name"), str("name")
	if pic, ok := raw["picture"].(map[string]any); ok {
		if d, ok := pic["data"].(map[string]any); ok {
			user.AvatarURL, _ = d["url"].(string)
		}
	}
	return user, nil
}

// RefreshToken is not offered by Meta: renew with fb_exchange_token instead.
func (p *GothProvider) RefreshToken(string) (*oauth2.Token, error) {
	return nil, errors.New("meta: no refresh tokens; use the long-lived token exchange")
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
		return "", errors.New(goth.NoAuthUrlErrorMessage)
	}
	return s.AuthURL, nil
}

// Authorize exchanges the code from the callback for a token. A cancelled dialog
// (error=access_denied) comes back as an error.
func (s *Session) Authorize(provider goth.Provider, params goth.Params) (string, error) {
	p, ok := provider.(*GothProvider)
	if !ok {
		return "", errors.New("meta: provider of another kind")
	}
	if e := params.Get("error"); e != "" {
		return "", fmt.Errorf("meta: login not completed: %s (%s)", e, params.Get("error_reason"))
	}
	ctx, cancel := p.ctx()
	defer cancel()
	tok, err := p.oauth.Exchange(ctx, params.Get("code"))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return "", Classify("exchange_code", re.Response.StatusCode, re.Response.Header, re.Body)
		}
		return "", ClassifyTransport("exchange_code", err)
	}
	s.AccessToken = tok.AccessToken
	s.ExpiresAt = tok.Expiry
	if tok.ExpiresIn > 0 { // on the configured clock, which the sandbox can advance
		s.ExpiresAt = p.cfg.Clock.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok.AccessToken, nil
}

// Marshal serialises the session for gothic's store.
func (s *Session) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// String keeps the token out of logs.
func (s *Session) String() string { return "meta.Session{expires: " + s.ExpiresAt.String() + "}" }
