// Package meta is Relink's Meta (Facebook, Instagram, Marketing API) provider: a
// Graph API client with configurable base URLs, the goth provider for Facebook Login,
// and the classifier that turns Graph errors into reasons.
package meta

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
)

// Defaults for Config.
const (
	DefaultGraphURL = "https://graph.facebook.com"
	DefaultWWWURL   = "https://www.facebook.com"
	DefaultVersion  = "v24.0"
)

// DefaultScopes are the permissions Relink asks for.
var DefaultScopes = []string{"public_profile", "email", "pages_show_list", "pages_read_engagement",
	"instagram_basic", "ads_read", "ads_management", "business_management"}

// Field lists Relink reads.
const (
	AdAccountFields = "id,account_id,name,currency,account_status,disable_reason,amount_spent,spend_cap,balance,timezone_name,business{id,name},user_tasks,tos_accepted,user_tos_accepted,funding_source_details"
	PixelFields     = "id,name,last_fired_time"
	PageFields      = "id,name,category,tasks,instagram_business_account{id,username,name}"
)

// Config configures a Client. Only AppID and AppSecret are required.
type Config struct {
	AppID, AppSecret string
	// RedirectURL is the OAuth callback for the goth provider.
	RedirectURL string
	Scopes      []string
	// GraphURL stands for https://graph.facebook.com and WWWURL for
	// https://www.facebook.com; point both at the sandbox, such as
	// http://localhost:8080/sandbox/meta/graph and …/sandbox/meta/www.
	GraphURL, WWWURL string
	// Version is the Graph API version, such as "v24.0".
	Version    string
	HTTPClient *http.Client
	// Timeout bounds each call; default providers.DefaultTimeout.
	Timeout time.Duration
	Clock   providers.Clock
	// PageSize is the limit asked for per page; default 100.
	PageSize int
	// MaxPages is the most pages a list follows before failing rather than
	// returning part of it; default 1000.
	MaxPages int
	// SlowDownAt is the usage percentage (x-app-usage, x-business-use-case-usage)
	// from which the client spaces its calls out. Default 75. See Client for how
	// each of Meta's limits is scoped.
	SlowDownAt int
	// Sleep waits between calls when slowing down; default honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Limits keeps the rate-limit state (see Client). Replicas must share one, such
	// as the database's, or each would keep calling through a pause another learned.
	// Default: a NewMemoryLimits of this Client's own.
	Limits LimitStore
}

// Client talks to the Graph API. It is safe for concurrent use.
//
// It keeps Meta's rate limits at the scope Meta applies them:
//   - app-wide: x-app-usage from SlowDownAt to 99% spaces every call out; at 100%,
//     or on code 4 (Application request limit reached) unless x-app-usage says
//     the app is below 100%, no call is made for five minutes (or Meta's
//     Retry-After).
//   - per business object: x-business-use-case-usage (codes 32, 80000–80014)
//     spaces out, then pauses only the ad account or Page it names, until its
//     estimated_time_to_regain_access.
//   - per user: code 17 (User request limit reached) concerns only the token that
//     got it. Meta gives no estimate for it, so the client does not pause that
//     token; it spaces that token's next calls out until one succeeds, and the
//     error's RetryAfter tells the caller when to try again.
//
// That state lives in Config.Limits, read once before every call, so that Clients
// sharing it (replicas on one database) respect what any of them learned.
type Client struct {
	cfg  Config
	goth *GothProvider

	mu    sync.Mutex
	usage int            // app-wide, as Meta last sent it to this Client in x-app-usage
	known map[string]int // usage by scope as last read from or written to cfg.Limits
}

var _ providers.Provider = (*Client)(nil)

// New returns a client with defaults filled in.
func New(cfg Config) *Client {
	cfg = withDefaults(cfg)
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 1000
	}
	if cfg.SlowDownAt <= 0 {
		cfg.SlowDownAt = 75
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Limits == nil {
		cfg.Limits = NewMemoryLimits()
	}
	c := &Client{cfg: cfg}
	c.goth = newGoth(c)
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Name returns "meta".
func (c *Client) Name() string { return "meta" }

// Goth returns the goth provider for Facebook Login.
func (c *Client) Goth() goth.Provider { return c.goth }

func (c *Client) graphURL(path string) string {
	return c.cfg.GraphURL + "/" + c.cfg.Version + "/" + strings.TrimLeft(path, "/")
}

// Classify turns any error returned by the client into a *providers.Error.
func (c *Client) Classify(err error) *providers.Error {
	if err == nil {
		return nil
	}
	return providers.ClassifyTransport("meta", "", err)
}

// throttle slows calls down as Meta's reported usage nears its limit, and refuses
// them while Meta said to wait: app-wide, or for the business object (ad account,
// Page) the call touches. A token that hit its user limit (tokScope, "" for a call
// without a user token) is slowed down too.
func (c *Client) throttle(ctx context.Context, op, object, tokScope string) error {
	scopes := []string{ScopeApp}
	if object != "" {
		scopes = append(scopes, ObjectScope(object))
	}
	if tokScope != "" {
		scopes = append(scopes, tokScope)
	}
	usages, pauses, err := c.loadLimits(ctx, op, scopes)
	if err != nil {
		return err
	}
	c.remember(scopes, usages)
	var usage int
	var blocked time.Time
	for _, s := range scopes {
		usage = max(usage, usages[s])
		if t := pauses[s]; t.After(blocked) {
			blocked = t
		}
	}
	now := c.cfg.Clock.Now()
	if now.Before(blocked) {
		return &providers.Error{Provider: "meta", Op: op, Reason: providers.ReasonRateLimited, Retryable: true,
			RetryAfter: blocked.Sub(now), Message: "client-side pause: Meta usage at its limit"}
	}
	if usage >= c.cfg.SlowDownAt {
		// Spread calls out more the closer usage gets to 100%.
		d := time.Duration(min(usage, 100)-c.cfg.SlowDownAt+1) * 100 * time.Millisecond
		if err := c.cfg.Sleep(ctx, d); err != nil {
			return providers.ClassifyTransport("meta", op, err)
		}
	}
	return nil
}

// loadLimits reads the limit state of scopes, bounded by Timeout as the Graph call
// is: the read is part of every call, and a database that does not answer must not
// hold a call whose caller set no deadline. Without the state the call fails,
// retryable, since it could be the one that breaks a pause another replica was
// told to keep.
func (c *Client) loadLimits(ctx context.Context, op string, scopes []string) (map[string]int, map[string]time.Time, error) {
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	usages, pauses, err := c.cfg.Limits.Load(ctx, scopes)
	if err != nil {
		e := providers.ClassifyTransportCtx(ctx, "meta", op, err)
		e.Message = cmp.Or(e.Message, "could not read the shared rate-limit state")
		return nil, nil, e
	}
	return usages, pauses, nil
}

// fingerprint keys per-token state without keeping the token itself.
func fingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:12])
}

// noteResponse records what a response says about Meta's limits: the usage
// headers, and the limit an error names (see Client).
func (c *Client) noteResponse(h http.Header, tokScope, object string, e *providers.Error) {
	u := ParseUsage(h)
	now := c.cfg.Clock.Now()
	usage, pauses := map[string]int{}, map[string]time.Time{}
	if h.Get("X-App-Usage") != "" {
		c.mu.Lock()
		c.usage = u.App
		c.mu.Unlock()
		usage[ScopeApp] = u.App
		if u.App >= 100 {
			pauses[ScopeApp] = now.Add(5 * time.Minute)
		}
	}
	for id, ou := range u.Objects {
		usage[ObjectScope(id)] = ou.Percent
		if ou.Percent >= 100 {
			wait := ou.RegainWait
			if wait <= 0 {
				wait = 5 * time.Minute
			}
			pauses[ObjectScope(id)] = now.Add(wait)
		}
	}
	switch {
	case tokScope == "":
	case e == nil:
		usage[tokScope] = 0
	case e.Code == 17:
		usage[tokScope] = userLimited
	}
	// Code 4 is the app's limit, unless the same response says the app's usage is
	// below 100%: then it cannot be app-wide, and pausing every user would turn one
	// user's limit into an outage for all.
	if e != nil && e.Code == 4 && (h.Get("X-App-Usage") == "" || u.App >= 100) {
		pauses[ScopeApp] = now.Add(cmp.Or(e.RetryAfter, 5*time.Minute))
	}
	// A Page (32) or ad account (80000–80014) limit without a usage header for the
	// object still pauses that object.
	if _, told := u.Objects[object]; e != nil && object != "" && !told && (e.Code == 32 || e.Code >= 80000 && e.Code <= 80014) {
		pauses[ObjectScope(object)] = now.Add(cmp.Or(e.RetryAfter, 5*time.Minute))
	}
	c.record(usage, pauses)
}

// Usage reports the app-wide usage percentage Meta last sent this Client in
// x-app-usage; other replicas' responses do not change it.
func (c *Client) Usage() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usage
}

// call performs one Graph request with access_token and appsecret_proof, and
// decodes a 200 response into out. Any failure comes back classified.
func (c *Client) call(ctx context.Context, op, method, path string, params url.Values, tok string, out any) error {
	object := businessObject(path)
	var tokScope string
	if tok != "" {
		tokScope = TokenScope(tok)
	}
	if err := c.throttle(ctx, op, object, tokScope); err != nil {
		return err
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if params == nil {
		params = url.Values{}
	}
	if tok != "" {
		params.Set("access_token", tok)
		params.Set("appsecret_proof", AppSecretProof(c.cfg.AppSecret, tok))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.graphURL(path)+"?"+params.Encode(), nil)
	if err != nil {
		return &providers.Error{Provider: "meta", Op: op, Reason: providers.ReasonUnknown, Message: "bad request"}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return providers.ClassifyTransport("meta", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return providers.ClassifyTransport("meta", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := Classify(op, resp.StatusCode, resp.Header, body)
		c.noteResponse(resp.Header, tokScope, object, e)
		return e
	}
	c.noteResponse(resp.Header, tokScope, object, nil)
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		e := providers.UnexpectedResponse("meta", op, resp.StatusCode)
		e.RequestID = resp.Header.Get("X-FB-Request-ID")
		return e
	}
	return nil
}

// businessObject is the ad account or Page id a Graph path touches, as
// x-business-use-case-usage keys it.
func businessObject(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	first = strings.TrimPrefix(first, "act_")
	if first != "" && strings.Trim(first, "0123456789") == "" {
		return first
	}
	return ""
}

type pageEnvelope struct {
	Data   []json.RawMessage `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// all follows cursor paging to the end and returns every item. A list longer than
// MaxPages is an error: a partial list would read as assets that disappeared.
func (c *Client) all(ctx context.Context, op, path string, params url.Values, tok string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if params == nil {
		params = url.Values{}
	}
	params.Set("limit", strconv.Itoa(c.cfg.PageSize))
	for range c.cfg.MaxPages {
		var env pageEnvelope
		if err := c.call(ctx, op, http.MethodGet, path, cloneValues(params), tok, &env); err != nil {
			return nil, err
		}
		items = append(items, env.Data...)
		if env.Paging.Next == "" || env.Paging.Cursors.After == "" || len(env.Data) == 0 {
			return items, nil
		}
		params.Set("after", env.Paging.Cursors.After)
	}
	return nil, &providers.Error{Provider: "meta", Op: op, Reason: providers.ReasonUnknown,
		Message: fmt.Sprintf("the list goes on past %d pages; stopped rather than return part of it", c.cfg.MaxPages)}
}

// decodeAll decodes each item of a list, failing on the first that does not fit.
func decodeAll[T any](op string, items []json.RawMessage) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, raw := range items {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, providers.UnexpectedResponse("meta", op, http.StatusOK)
		}
		out = append(out, v)
	}
	return out, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// AppAccessToken is the app token Graph accepts for debug_token: "{app-id}|{secret}".
func (c *Client) AppAccessToken() string { return c.cfg.AppID + "|" + c.cfg.AppSecret }

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (c *Client) tokenFrom(tr tokenResponse, scopes []string) providers.Token {
	t := providers.Token{AccessToken: tr.AccessToken, Scopes: scopes}
	if tr.ExpiresIn > 0 {
		t.Expiry = c.cfg.Clock.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	return t
}

// ExchangeCode trades an authorization code for a (short-lived) user token.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (providers.Token, error) {
	var tr tokenResponse
	err := c.call(ctx, "exchange_code", http.MethodGet, "oauth/access_token", url.Values{
		"client_id": {c.cfg.AppID}, "client_secret": {c.cfg.AppSecret}, "redirect_uri": {redirectURI}, "code": {code},
	}, "", &tr)
	if err != nil {
		return providers.Token{}, err
	}
	if tr.AccessToken == "" {
		return providers.Token{}, providers.UnexpectedResponse("meta", "exchange_code", http.StatusOK)
	}
	return c.tokenFrom(tr, nil), nil
}

// RenewToken exchanges a user token for a long-lived one (grant_type=fb_exchange_token).
// Meta does not extend a token that is already long-lived; only a new login does.
func (c *Client) RenewToken(ctx context.Context, tok providers.Token) (providers.Token, error) {
	var tr tokenResponse
	err := c.call(ctx, OpExchange, http.MethodGet, "oauth/access_token", url.Values{
		"grant_type": {"fb_exchange_token"}, "client_id": {c.cfg.AppID}, "client_secret": {c.cfg.AppSecret},
		"fb_exchange_token": {tok.AccessToken},
	}, "", &tr)
	if err != nil {
		return providers.Token{}, err
	}
	if tr.AccessToken == "" {
		return providers.Token{}, providers.UnexpectedResponse("meta", OpExchange, http.StatusOK)
	}
	nt := c.tokenFrom(tr, tok.Scopes)
	nt.DataAccessExpiry = tok.DataAccessExpiry
	return nt, nil
}

type debugData struct {
	Data *debugFields `json:"data"`
}

// debugFields is debug_token's data object.
type debugFields struct {
	AppID               string   `json:"app_id"`
	Type                string   `json:"type"`
	IsValid             *bool    `json:"is_valid"`
	UserID              string   `json:"user_id"`
	ProfileID           string   `json:"profile_id"`
	ExpiresAt           int64    `json:"expires_at"`
	DataAccessExpiresAt int64    `json:"data_access_expires_at"`
	IssuedAt            int64    `json:"issued_at"`
	Scopes              []string `json:"scopes"`
	GranularScopes      []struct {
		Scope     string   `json:"scope"`
		TargetIDs []string `json:"target_ids"`
	} `json:"granular_scopes"`
	Error *GraphError `json:"error"`
}

// InspectToken calls GET /debug_token with the app token. An invalid token is not an
// error: TokenInfo.Problem carries the classified reason.
func (c *Client) InspectToken(ctx context.Context, tok providers.Token) (providers.TokenInfo, error) {
	var d debugData
	err := c.call(ctx, OpDebugToken, http.MethodGet, "debug_token", url.Values{
		"input_token": {tok.AccessToken}, "access_token": {c.AppAccessToken()},
	}, "", &d)
	if err != nil {
		return providers.TokenInfo{}, err
	}
	return c.tokenInfo(d)
}

// tokenInfo reads a debug_token answer, alone or from a batch, so that both say the
// same of a token.
func (c *Client) tokenInfo(d debugData) (providers.TokenInfo, error) {
	// Only Graph's own answer says whether the token is valid: a 200 without
	// data.is_valid came from something else and says nothing about the token.
	if d.Data == nil || d.Data.IsValid == nil {
		return providers.TokenInfo{}, providers.UnexpectedResponse("meta", OpDebugToken, http.StatusOK)
	}
	info := providers.TokenInfo{Valid: *d.Data.IsValid, UserID: d.Data.UserID, AppID: d.Data.AppID,
		Type: d.Data.Type, Scopes: d.Data.Scopes}
	if info.UserID == "" {
		info.UserID = d.Data.ProfileID
	}
	if d.Data.ExpiresAt > 0 {
		info.ExpiresAt = time.Unix(d.Data.ExpiresAt, 0)
	}
	if d.Data.DataAccessExpiresAt > 0 {
		info.DataAccessExpiresAt = time.Unix(d.Data.DataAccessExpiresAt, 0)
	}
	if d.Data.IssuedAt > 0 {
		info.IssuedAt = time.Unix(d.Data.IssuedAt, 0)
	}
	if d.Data.GranularScopes != nil {
		// A granular scope without target_ids is granted on everything the user
		// reaches, so it gets no entry; one with an empty list reaches nothing.
		info.Targets = map[string][]string{}
		for _, g := range d.Data.GranularScopes {
			if g.Scope == "" || g.TargetIDs == nil {
				continue
			}
			if info.Targets[g.Scope] == nil {
				info.Targets[g.Scope] = make([]string, 0, len(g.TargetIDs))
			}
			info.Targets[g.Scope] = append(info.Targets[g.Scope], g.TargetIDs...)
		}
	}
	if d.Data.AppID != "" && d.Data.AppID != c.cfg.AppID && info.Valid {
		info.Valid = false
		info.Problem = &providers.Error{Provider: "meta", Op: "inspect_token", Reason: providers.ReasonAppRemoved, Message: "token belongs to another app"}
	}
	if !info.Valid && info.Problem == nil {
		p := &providers.Error{Provider: "meta", Op: "inspect_token", HTTPStatus: http.StatusOK}
		g := GraphError{Code: 190, Message: "token is not valid"}
		if d.Data.Error != nil {
			g = *d.Data.Error
		}
		ApplyGraphError(p, g)
		info.Problem = p
	}
	return info, nil
}

// Me returns the user behind the token.
func (c *Client) Me(ctx context.Context, tok providers.Token) (providers.User, error) {
	var u struct{ ID, Name, Email string }
	if err := c.call(ctx, "me", http.MethodGet, "me", url.Values{"fields": {"id,name,email"}}, tok.AccessToken, &u); err != nil {
		return providers.User{}, err
	}
	if u.ID == "" {
		return providers.User{}, providers.UnexpectedResponse("meta", "me", http.StatusOK)
	}
	return providers.User{ID: u.ID, Name: u.Name, Email: u.Email}, nil
}

// Permission is one row of /me/permissions.
type Permission struct {
	Permission string `json:"permission"`
	Status     string `json:"status"`
}

// Permissions lists what the user granted and declined.
func (c *Client) Permissions(ctx context.Context, tok providers.Token) ([]Permission, error) {
	var env struct {
		Data []Permission `json:"data"`
	}
	if err := c.call(ctx, "permissions", http.MethodGet, "me/permissions", nil, tok.AccessToken, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

// Revoke removes the app from the user's account (DELETE /me/permissions).
func (c *Client) Revoke(ctx context.Context, tok providers.Token) error {
	return c.call(ctx, "revoke", http.MethodDelete, "me/permissions", nil, tok.AccessToken, nil)
}

// Page is a Page from /me/accounts with its Page token.
type Page struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Category    string   `json:"category"`
	AccessToken string   `json:"access_token"`
	Tasks       []string `json:"tasks"`
	Instagram   *struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"instagram_business_account"`
}

// String keeps the Page token out of logs.
func (p Page) String() string { return fmt.Sprintf("meta.Page{%s %q}", p.ID, p.Name) }

// GoString keeps %#v from printing the Page token.
func (p Page) GoString() string { return p.String() }

// LogValue keeps slog from printing the Page token.
func (p Page) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.String("name", p.Name), slog.Any("tasks", p.Tasks))
}

// Pages lists every Page the user granted, with Page tokens.
func (c *Client) Pages(ctx context.Context, tok providers.Token) ([]Page, error) {
	items, err := c.all(ctx, "pages", "me/accounts", url.Values{"fields": {PageFields + ",access_token"}}, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	return decodeAll[Page]("pages", items)
}

// AdAccount is an ad account with Graph's field names.
type AdAccount struct {
	ID            string          `json:"id"`
	AccountID     string          `json:"account_id"`
	Name          string          `json:"name"`
	Currency      string          `json:"currency"`
	AccountStatus int             `json:"account_status"`
	DisableReason int             `json:"disable_reason"`
	AmountSpent   string          `json:"amount_spent"`
	SpendCap      string          `json:"spend_cap"`
	Balance       string          `json:"balance"`
	TimezoneName  string          `json:"timezone_name"`
	UserTasks     []string        `json:"user_tasks"`
	TOSAccepted   map[string]int  `json:"tos_accepted"`
	UserTOS       map[string]int  `json:"user_tos_accepted"`
	Funding       json.RawMessage `json:"funding_source_details"`
	Business      *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"business"`
	AdsPixels *struct {
		Data []Pixel `json:"data"`
	} `json:"adspixels"`
}

// Pixel is a dataset (Meta pixel) of an ad account.
type Pixel struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	LastFiredTime string `json:"last_fired_time"`
}

// AdAccounts lists every ad account of the user, with their datasets, following
// paging to the end.
func (c *Client) AdAccounts(ctx context.Context, tok providers.Token) ([]AdAccount, error) {
	items, err := c.all(ctx, "ad_accounts", "me/adaccounts", url.Values{"fields": {AdAccountFields + ",adspixels{" + PixelFields + "}"}}, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	return decodeAll[AdAccount]("ad_accounts", items)
}

// AdAccount reads one ad account (act_{id}).
func (c *Client) AdAccount(ctx context.Context, tok providers.Token, id string) (AdAccount, error) {
	var a AdAccount
	err := c.call(ctx, "ad_account", http.MethodGet, "act_"+strings.TrimPrefix(id, "act_"),
		url.Values{"fields": {AdAccountFields}}, tok.AccessToken, &a)
	return a, err
}

// AdsPixels lists an ad account's datasets (act_{id}/adspixels).
func (c *Client) AdsPixels(ctx context.Context, tok providers.Token, id string) ([]Pixel, error) {
	items, err := c.all(ctx, "adspixels", "act_"+strings.TrimPrefix(id, "act_")+"/adspixels",
		url.Values{"fields": {PixelFields}}, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	return decodeAll[Pixel]("adspixels", items)
}

// DiscoverAssets lists Pages, their Instagram accounts, ad accounts and datasets.
func (c *Client) DiscoverAssets(ctx context.Context, tok providers.Token) ([]providers.Asset, error) {
	pages, err := c.Pages(ctx, tok)
	if err != nil {
		return nil, err
	}
	accts, err := c.AdAccounts(ctx, tok)
	if err != nil {
		return nil, err
	}
	var out []providers.Asset
	for _, p := range pages {
		out = append(out, pageAsset(p.ID, p.Name, p.Tasks))
		if p.Instagram != nil && p.Instagram.ID != "" {
			out = append(out, providers.Asset{Kind: providers.KindInstagramAccount, ExternalID: p.Instagram.ID,
				Name: cmp.Or(p.Instagram.Name, p.Instagram.Username), Username: p.Instagram.Username, ParentID: p.ID})
		}
	}
	for _, a := range accts {
		asset := adAccountAsset(a)
		out = append(out, asset)
		if a.AdsPixels != nil {
			for _, px := range a.AdsPixels.Data {
				out = append(out, pixelAsset(px, asset.ExternalID))
			}
		}
	}
	return out, nil
}

// RefreshAsset fetches one asset's current data.
func (c *Client) RefreshAsset(ctx context.Context, tok providers.Token, kind providers.AssetKind, id string) (providers.Asset, error) {
	switch kind {
	case providers.KindAdAccount:
		a, err := c.AdAccount(ctx, tok, id)
		if err != nil {
			return providers.Asset{}, err
		}
		asset := adAccountAsset(a)
		pixels, err := c.AdsPixels(ctx, tok, id)
		if err != nil {
			return providers.Asset{}, err
		}
		for _, p := range pixels {
			asset.DatasetIDs = append(asset.DatasetIDs, p.ID)
		}
		return asset, nil
	case providers.KindPage:
		var p Page
		if err := c.call(ctx, "page", http.MethodGet, id, url.Values{"fields": {"id,name,category,instagram_business_account{id,username,name}"}}, tok.AccessToken, &p); err != nil {
			return providers.Asset{}, err
		}
		return pageAsset(p.ID, p.Name, nil), nil
	case providers.KindInstagramAccount:
		var ig struct{ ID, Username, Name string }
		if err := c.call(ctx, "instagram_account", http.MethodGet, id, url.Values{"fields": {"id,username,name"}}, tok.AccessToken, &ig); err != nil {
			return providers.Asset{}, err
		}
		return providers.Asset{Kind: kind, ExternalID: ig.ID, Name: cmp.Or(ig.Name, ig.Username), Username: ig.Username}, nil
	case providers.KindDataset:
		var px Pixel
		if err := c.call(ctx, "dataset", http.MethodGet, id, url.Values{"fields": {PixelFields}}, tok.AccessToken, &px); err != nil {
			return providers.Asset{}, err
		}
		return pixelAsset(px, ""), nil
	}
	return providers.Asset{}, &providers.Error{Provider: "meta", Op: "refresh_asset", Reason: providers.ReasonUnknown,
		Message: "meta has no asset kind " + string(kind)}
}

func pageAsset(id, name string, tasks []string) providers.Asset {
	return providers.Asset{Kind: providers.KindPage, ExternalID: id, Name: name, Tasks: tasks}
}

func pixelAsset(p Pixel, parent string) providers.Asset {
	a := providers.Asset{Kind: providers.KindDataset, ExternalID: p.ID, Name: p.Name, ParentID: parent}
	if t, err := time.Parse("2006-01-02T15:04:05-0700", p.LastFiredTime); err == nil {
		a.LastFired = t
	}
	return a
}

func adAccountAsset(a AdAccount) providers.Asset {
	id := a.AccountID
	if id == "" {
		id = strings.TrimPrefix(a.ID, "act_")
	}
	asset := providers.Asset{Kind: providers.KindAdAccount, ExternalID: "act_" + id, Name: a.Name,
		Currency: a.Currency, AmountSpent: a.AmountSpent, SpendCap: a.SpendCap, Balance: a.Balance,
		TimezoneName: a.TimezoneName, AccountStatus: providers.AccountStatus(a.AccountStatus),
		DisableReason: providers.DisableReason(a.DisableReason),
		Tasks:         a.UserTasks, TermsAccepted: len(a.TOSAccepted) > 0 || len(a.UserTOS) > 0,
		FundingSource: len(a.Funding) > 0 && string(a.Funding) != "null" && string(a.Funding) != "{}"}
	if a.Business != nil {
		asset.BusinessID, asset.BusinessName = a.Business.ID, a.Business.Name
	}
	if a.AdsPixels != nil {
		for _, p := range a.AdsPixels.Data {
			asset.DatasetIDs = append(asset.DatasetIDs, p.ID)
		}
	}
	return asset
}
