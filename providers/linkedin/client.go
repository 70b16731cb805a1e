// Package linkedin is Relink's LinkedIn provider: OAuth 2 with 60-day access and
// 365-day refresh tokens, the member's profile, the organizations they administer
// and the ad accounts they can use, with configurable base URLs.
package linkedin

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/markbates/goth"
	"github.com/relink/relink/providers"
)

// Defaults for Config.
const (
	DefaultAPIURL  = "https://api.linkedin.com"
	DefaultWWWURL  = "https://www.linkedin.com"
	DefaultVersion = "202510"
)

// DefaultScopes are the permissions Relink asks for.
var DefaultScopes = []string{"openid", "profile", "email", "r_organization_admin", "r_ads"}

// Config configures a Client. Only ClientID and ClientSecret are required.
type Config struct {
	ClientID, ClientSecret string
	RedirectURL            string
	Scopes                 []string
	// APIURL stands for https://api.linkedin.com and WWWURL for
	// https://www.linkedin.com; point them at the sandbox, such as
	// http://localhost:8080/sandbox/linkedin/api and …/sandbox/linkedin/www.
	APIURL, WWWURL string
	// Version is the LinkedIn-Version header of the versioned REST API (YYYYMM).
	Version    string
	HTTPClient *http.Client
	Timeout    time.Duration
	Clock      providers.Clock
	// MaxPages is the most pages a collection follows before failing rather than
	// returning part of it; default 1000.
	MaxPages int
	// PageSize, when set, replaces the count (or pageSize) of every collection, so
	// that tests can make paging happen with few assets. Zero asks each collection
	// for the most LinkedIn documents for it (see adPageSize and aclPageSize).
	PageSize int
	// BatchSize is the most ids one BATCH_GET names; default 100 (see
	// defaultBatchSize).
	BatchSize int
}

// Page and batch sizes. The ads APIs document count up to 1000 and a 400 above it;
// the search's pageSize (default 100) is given the same bound, as no other is
// documented. So the ad lists take 1000 at a time and a member with hundreds of ad
// accounts costs one call per list. organizationAcls documents no maximum: it keeps
// 100, because a server that silently capped a larger count would look like the
// end of the list.
const (
	adPageSize  = 1000
	aclPageSize = 100
	// defaultBatchSize keeps ids=List(…) far below LinkedIn's 4 KB query string limit
	// (a longer one is refused with 414): 100 ids of up to 19 digits take about 2 KB.
	// LinkedIn documents no limit on the number of ids itself.
	defaultBatchSize = 100
)

func (c *Client) pageSize(def int) int {
	if c.cfg.PageSize > 0 {
		return c.cfg.PageSize
	}
	return def
}

func withDefaults(cfg Config) Config {
	cfg.APIURL = strings.TrimRight(cmp.Or(cfg.APIURL, DefaultAPIURL), "/")
	cfg.WWWURL = strings.TrimRight(cmp.Or(cfg.WWWURL, DefaultWWWURL), "/")
	cfg.Version = cmp.Or(cfg.Version, DefaultVersion)
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = slices.Clone(DefaultScopes)
	}
	cfg.HTTPClient, cfg.Timeout, cfg.Clock = providers.HTTPDefaults(cfg.HTTPClient, cfg.Timeout, cfg.Clock)
	return cfg
}

// Client talks to LinkedIn. It is safe for concurrent use.
type Client struct {
	cfg  Config
	goth *GothProvider
}

var _ providers.Provider = (*Client)(nil)

// New returns a client with defaults filled in.
func New(cfg Config) *Client {
	cfg = withDefaults(cfg)
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 1000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = defaultBatchSize
	}
	return &Client{cfg: cfg, goth: NewGoth(cfg)}
}

// Name returns "linkedin".
func (c *Client) Name() string { return "linkedin" }

// Goth returns the goth provider for the OAuth dance.
func (c *Client) Goth() goth.Provider { return c.goth }

// Classify turns any error returned by the client into a *providers.Error.
func (c *Client) Classify(err error) *providers.Error {
	if err == nil {
		return nil
	}
	return providers.ClassifyTransport("linkedin", "", err)
}

// do sends req and decodes a 200 response into out. Any failure comes back
// classified, without any part of a successful body (which may hold tokens).
func (c *Client) do(op string, req *http.Request, out any) error {
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return providers.ClassifyTransport("linkedin", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return providers.ClassifyTransport("linkedin", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Classify(op, resp.StatusCode, resp.Header, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		e := providers.UnexpectedResponse("linkedin", op, resp.StatusCode)
		e.RequestID = resp.Header.Get("X-Li-Uuid")
		return e
	}
	return nil
}

// get calls the REST API with the member's token.
func (c *Client) get(ctx context.Context, op, path string, q url.Values, tok string, out any) error {
	return c.getRaw(ctx, op, path, q.Encode(), "", tok, out)
}

// getRaw is get with a query string built by the caller, for Rest.li 2.0 values
// such as ids=List(1,2) whose parentheses and commas must reach LinkedIn unescaped:
// escaped, they are read as part of a single id. method, when set, is sent as
// X-RestLi-Method, as LinkedIn's own clients do for finders and batch reads.
func (c *Client) getRaw(ctx context.Context, op, path, rawQuery, method, tok string, out any) error {
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.cfg.APIURL + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &providers.Error{Provider: "linkedin", Op: op, Reason: providers.ReasonUnknown, Message: "bad request"}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("LinkedIn-Version", c.cfg.Version)
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	if method != "" {
		req.Header.Set("X-RestLi-Method", method)
	}
	return c.do(op, req, out)
}

// post sends a form to www.linkedin.com's OAuth endpoints with the client credentials.
func (c *Client) post(ctx context.Context, op, path string, form url.Values, out any) error {
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	form.Set("client_id", c.cfg.ClientID)
	form.Set("client_secret", c.cfg.ClientSecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.WWWURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return &providers.Error{Provider: "linkedin", Op: op, Reason: providers.ReasonUnknown, Message: "bad request"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(op, req, out)
}

type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	Scope                 string `json:"scope"`
}

func (c *Client) token(tr tokenResponse) providers.Token {
	now := c.cfg.Clock.Now()
	t := providers.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Scopes: splitScope(tr.Scope)}
	if tr.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshTokenExpiresIn > 0 {
		t.RefreshExpiry = now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second)
	}
	return t
}

func splitScope(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// ExchangeCode trades an authorization code for access and refresh tokens.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (providers.Token, error) {
	var tr tokenResponse
	err := c.post(ctx, "exchange_code", "/oauth/v2/accessToken", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, &tr)
	if err != nil {
		return providers.Token{}, err
	}
	if tr.AccessToken == "" {
		return providers.Token{}, providers.UnexpectedResponse("linkedin", "exchange_code", http.StatusOK)
	}
	return c.token(tr), nil
}

// RenewToken runs the refresh-token grant. The new access token lives 60 days; the
// refresh token keeps its original expiry.
func (c *Client) RenewToken(ctx context.Context, tok providers.Token) (providers.Token, error) {
	if tok.RefreshToken == "" {
		return providers.Token{}, &providers.Error{Provider: "linkedin", Op: OpRefresh,
			Reason: providers.ReasonRefreshTokenInvalid, Message: "no refresh token"}
	}
	var tr tokenResponse
	err := c.post(ctx, OpRefresh, "/oauth/v2/accessToken", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, &tr)
	if err != nil {
		return providers.Token{}, err
	}
	if tr.AccessToken == "" {
		return providers.Token{}, providers.UnexpectedResponse("linkedin", OpRefresh, http.StatusOK)
	}
	nt := c.token(tr)
	if nt.RefreshToken == "" {
		nt.RefreshToken, nt.RefreshExpiry = tok.RefreshToken, tok.RefreshExpiry
	}
	return nt, nil
}

// InspectToken uses LinkedIn's token introspection.
func (c *Client) InspectToken(ctx context.Context, tok providers.Token) (providers.TokenInfo, error) {
	var r struct {
		Active       *bool  `json:"active"`
		Status       string `json:"status"`
		ClientID     string `json:"client_id"`
		AuthorizedAt int64  `json:"authorized_at"`
		CreatedAt    int64  `json:"created_at"`
		ExpiresAt    int64  `json:"expires_at"`
		Scope        string `json:"scope"`
	}
	if err := c.post(ctx, "introspect", "/oauth/v2/introspectToken", url.Values{"token": {tok.AccessToken}}, &r); err != nil {
		return providers.TokenInfo{}, err
	}
	// Only LinkedIn's own answer says whether the token is active: a 200 without
	// "active" came from something else and says nothing about the token.
	if r.Active == nil {
		return providers.TokenInfo{}, providers.UnexpectedResponse("linkedin", "introspect", http.StatusOK)
	}
	info := providers.TokenInfo{Valid: *r.Active, AppID: r.ClientID, Type: "USER", Scopes: splitScope(r.Scope)}
	if r.ExpiresAt > 0 {
		info.ExpiresAt = time.Unix(r.ExpiresAt, 0)
	}
	if r.CreatedAt > 0 {
		info.IssuedAt = time.Unix(r.CreatedAt, 0)
	}
	if !*r.Active {
		// Agree with the API's 401s: REVOKED_ACCESS_TOKEN is app_removed,
		// EXPIRED_ACCESS_TOKEN token_expired, and anything else (an inactive token
		// without a status) session_invalidated.
		reason := providers.ReasonSessionInvalidated
		switch r.Status {
		case "expired":
			reason = providers.ReasonTokenExpired
		case "revoked":
			reason = providers.ReasonAppRemoved
		}
		info.Problem = &providers.Error{Provider: "linkedin", Op: "introspect", Reason: reason, HTTPStatus: http.StatusOK,
			Message: "token status " + cmp.Or(r.Status, "inactive")}
	}
	return info, nil
}

// Me returns the member from the OpenID Connect userinfo endpoint.
func (c *Client) Me(ctx context.Context, tok providers.Token) (providers.User, error) {
	var u struct{ Sub, Name, Email string }
	if err := c.get(ctx, "userinfo", "/v2/userinfo", nil, tok.AccessToken, &u); err != nil {
		return providers.User{}, err
	}
	if u.Sub == "" {
		return providers.User{}, providers.UnexpectedResponse("linkedin", "userinfo", http.StatusOK)
	}
	return providers.User{ID: u.Sub, Name: u.Name, Email: u.Email}, nil
}

// CheckToken is a connection's health check: a call to the member endpoint with the token
// itself, which fails as any API call would once the token is revoked or expired or the
// member's session ended. The expiry and scopes are those the token was granted with:
// LinkedIn members cannot untick a scope of a grant, only revoke it whole.
func (c *Client) CheckToken(ctx context.Context, tok providers.Token) (providers.TokenInfo, error) {
	u, err := c.Me(ctx, tok)
	if err != nil {
		return providers.TokenInfo{}, err
	}
	return providers.TokenInfo{Valid: true, UserID: u.ID, Type: "USER", ExpiresAt: tok.Expiry, Scopes: tok.Scopes}, nil
}

// Revoke revokes the token.
func (c *Client) Revoke(ctx context.Context, tok providers.Token) error {
	return c.post(ctx, "revoke", "/oauth/v2/revoke", url.Values{"token": {tok.AccessToken}}, nil)
}

type elements[T any] struct {
	Elements []T `json:"elements"`
	Paging   struct {
		Start int `json:"start"`
		Count int `json:"count"`
		Total int `json:"total"`
	} `json:"paging"`
}

// allElements follows start/count paging to the end, count elements a page. A
// collection longer than MaxPages pages is an error: a partial list would read as
// assets that disappeared.
func allElements[T any](ctx context.Context, c *Client, op, path string, q url.Values, tok string, count int) ([]T, error) {
	var out []T
	for page := range c.cfg.MaxPages {
		q.Set("start", strconv.Itoa(page*count))
		q.Set("count", strconv.Itoa(count))
		var els elements[T]
		if err := c.getRaw(ctx, op, path, q.Encode(), "FINDER", tok, &els); err != nil {
			return nil, err
		}
		out = append(out, els.Elements...)
		if len(els.Elements) < count || (els.Paging.Total > 0 && len(out) >= els.Paging.Total) {
			return out, nil
		}
	}
	return nil, tooLong(op, c.cfg.MaxPages)
}

type cursorPage[T any] struct {
	Elements []T `json:"elements"`
	Metadata struct {
		NextPageToken string `json:"nextPageToken"`
	} `json:"metadata"`
}

// allSearched follows the cursor paging of the ads search finders (pageSize and
// pageToken, since LinkedIn-Version 202401) until a page comes without
// metadata.nextPageToken.
func allSearched[T any](ctx context.Context, c *Client, op, path string, q url.Values, tok string, size int) ([]T, error) {
	var out []T
	q.Set("pageSize", strconv.Itoa(size))
	for range c.cfg.MaxPages {
		var p cursorPage[T]
		if err := c.getRaw(ctx, op, path, q.Encode(), "FINDER", tok, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Elements...)
		if p.Metadata.NextPageToken == "" {
			return out, nil
		}
		q.Set("pageToken", p.Metadata.NextPageToken)
	}
	return nil, tooLong(op, c.cfg.MaxPages)
}

func tooLong(op string, pages int) error {
	return &providers.Error{Provider: "linkedin", Op: op, Reason: providers.ReasonUnknown,
		Message: fmt.Sprintf("the collection goes on past %d pages; stopped rather than return part of it", pages)}
}

func urnID(urn string) string {
	if i := strings.LastIndexByte(urn, ':'); i >= 0 {
		return urn[i+1:]
	}
	return urn
}

// restliKey escapes one key of a Rest.li 2.0 List(…): the list's own parentheses
// and commas stay literal, so those inside a key, and a URN's colons, must be
// percent-encoded, spaces as %20.
func restliKey(k string) string {
	return strings.ReplaceAll(url.QueryEscape(k), "+", "%20")
}

type organization struct {
	ID            json.Number `json:"id"`
	LocalizedName string      `json:"localizedName"`
	VanityName    string      `json:"vanityName"`
}

func (o organization) asset(id string) providers.Asset {
	return providers.Asset{Kind: providers.KindLinkedInOrganization, ExternalID: id, Name: o.LocalizedName, Username: o.VanityName}
}

type adAccount struct {
	ID        json.Number `json:"id"`
	Name      string      `json:"name"`
	Currency  string      `json:"currency"`
	Status    string      `json:"status"`
	Reference string      `json:"reference"`
}

func (a adAccount) asset(id string) providers.Asset {
	return providers.Asset{Kind: providers.KindLinkedInAdAccount, ExternalID: id, Name: a.Name, Currency: a.Currency,
		AccountStatus: providers.LinkedInAccountStatus(a.Status), ParentID: urnID(a.Reference), TermsAccepted: true}
}

// opOrganizations names the BATCH_GET of organizations in errors.
const opOrganizations = "organizations"

// organizations reads the organizations ids with one BATCH_GET per BatchSize ids.
// An id LinkedIn answers 403 ACCESS_DENIED for is left out, as a list leaves out
// what the member lost access to; any other failure of one id fails the whole
// read, since leaving the id out would mark a healthy organization as gone.
func (c *Client) organizations(ctx context.Context, tok string, ids []string) (map[string]organization, error) {
	out := make(map[string]organization, len(ids))
	for chunk := range slices.Chunk(ids, c.cfg.BatchSize) {
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = restliKey(id)
		}
		var b struct {
			Results  map[string]organization    `json:"results"`
			Statuses map[string]int             `json:"statuses"`
			Errors   map[string]json.RawMessage `json:"errors"`
		}
		if err := c.getRaw(ctx, opOrganizations, "/rest/organizations", "ids=List("+strings.Join(keys, ",")+")", "BATCH_GET", tok, &b); err != nil {
			return nil, err
		}
		for _, id := range chunk {
			if o, ok := b.Results[id]; ok {
				out[id] = o
				continue
			}
			raw, ok := b.Errors[id]
			if !ok {
				// Neither a result nor an error: not LinkedIn's answer to this request.
				return nil, providers.UnexpectedResponse("linkedin", opOrganizations, http.StatusOK)
			}
			status := b.Statuses[id]
			if status == 0 { // statuses left out: the entry's own error body says it
				var ae apiError
				_ = json.Unmarshal(raw, &ae)
				status = ae.Status
			}
			pe := Classify(opOrganizations, status, http.Header{}, raw)
			if pe.Reason != providers.ReasonLostAssetRole {
				return nil, pe
			}
		}
	}
	return out, nil
}

// DiscoverAssets lists the organizations the member administers and the ad accounts
// they can use, with names, in a number of calls that does not grow with them: the
// organization ACLs, one BATCH_GET of the organizations (per BatchSize of them), the
// member's ad account roles and one search of the ad accounts, each list paged.
func (c *Client) DiscoverAssets(ctx context.Context, tok providers.Token) ([]providers.Asset, error) {
	acls, err := allElements[struct {
		Organization string `json:"organization"`
		Role         string `json:"role"`
	}](ctx, c, "organization_acls", "/rest/organizationAcls",
		url.Values{"q": {"roleAssignee"}, "role": {"ADMINISTRATOR"}, "state": {"APPROVED"}}, tok.AccessToken, c.pageSize(aclPageSize))
	if err != nil {
		return nil, err
	}
	var orgIDs []string
	roles := map[string]string{}
	for _, a := range acls {
		id := urnID(a.Organization)
		if _, dup := roles[id]; !dup {
			orgIDs = append(orgIDs, id)
			roles[id] = a.Role
		}
	}
	orgs, err := c.organizations(ctx, tok.AccessToken, orgIDs)
	if err != nil {
		return nil, err
	}
	var out []providers.Asset
	for _, id := range orgIDs {
		if o, ok := orgs[id]; ok {
			asset := o.asset(id)
			asset.Tasks = []string{roles[id]}
			out = append(out, asset)
		}
	}

	users, err := allElements[struct {
		Account string `json:"account"`
		Role    string `json:"role"`
	}](ctx, c, "ad_account_users", "/rest/adAccountUsers", url.Values{"q": {"authenticatedUser"}}, tok.AccessToken, c.pageSize(adPageSize))
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return out, nil
	}
	// No search criteria: every account the member can reach, whatever its status.
	found, err := allSearched[adAccount](ctx, c, "ad_accounts", "/rest/adAccounts", url.Values{"q": {"search"}}, tok.AccessToken, c.pageSize(adPageSize))
	if err != nil {
		return nil, err
	}
	accounts := make(map[string]adAccount, len(found))
	for _, a := range found {
		accounts[a.ID.String()] = a
	}
	seen := map[string]bool{}
	for _, u := range users {
		id := urnID(u.Account)
		a, ok := accounts[id]
		// An account the search leaves out is one the member can no longer reach.
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		asset := a.asset(id)
		asset.Tasks = []string{u.Role}
		out = append(out, asset)
	}
	return out, nil
}

// RefreshAsset reads one organization or ad account.
func (c *Client) RefreshAsset(ctx context.Context, tok providers.Token, kind providers.AssetKind, id string) (providers.Asset, error) {
	id = urnID(id)
	switch kind {
	case providers.KindLinkedInOrganization:
		var o organization
		if err := c.get(ctx, OpRefreshAsset, "/rest/organizations/"+url.PathEscape(id), nil, tok.AccessToken, &o); err != nil {
			return providers.Asset{}, err
		}
		return o.asset(id), nil
	case providers.KindLinkedInAdAccount:
		var a adAccount
		if err := c.get(ctx, OpRefreshAsset, "/rest/adAccounts/"+url.PathEscape(id), nil, tok.AccessToken, &a); err != nil {
			return providers.Asset{}, err
		}
		return a.asset(id), nil
	}
	return providers.Asset{}, &providers.Error{Provider: "linkedin", Op: OpRefreshAsset, Reason: providers.ReasonUnknown,
		Message: "linkedin has no asset kind " + string(kind)}
}
