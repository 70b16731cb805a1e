// Package sandbox is a wire-compatible emulator of the parts of the Meta Graph API,
// the Facebook Login dialog and LinkedIn's OAuth and REST APIs that Relink uses, with
// seeded fake users, failure injection and an advanceable clock.
//
// Mount it so that it sees the full path (no http.StripPrefix):
//
//	sb := sandbox.New(sandbox.Options{})
//	mux.Handle("/sandbox/", sb)
//	mux.Handle("/sandbox", sb)
//
// Path contract: {prefix}/meta/graph/… stands for https://graph.facebook.com/…,
// {prefix}/meta/www/… for https://www.facebook.com/…, {prefix}/linkedin/api/… for
// https://api.linkedin.com/… and {prefix}/linkedin/www/… for https://www.linkedin.com/….
// See README.md for the JSON API.
package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Sandbox. The zero value is ready to use.
type Options struct {
	// Prefix is the path the sandbox is mounted at; default "/sandbox".
	Prefix string
	// Clock is shared with the app in sandbox mode; default NewClock().
	Clock *Clock
	// App credentials; defaults are fixed values shown by GET {prefix}/api/state.
	MetaAppID, MetaAppSecret               string
	LinkedInClientID, LinkedInClientSecret string
	// AppBaseURL is the app's own public URL, e.g. "http://localhost:8080"; the
	// dialogs accept only redirect URIs under it: same scheme, host and port, and a
	// path under its path. Empty: only loopback redirect URIs (http or https on
	// 127.0.0.0/8, [::1] or localhost, any port), which is what httptest gives.
	AppBaseURL string
	// RedirectURIs, when set, narrows the redirect URIs further to this exact list.
	RedirectURIs []string
	// AllowMissingAppSecretProof turns off "Require App Secret" (on by default, as
	// Relink's real apps are configured).
	AllowMissingAppSecretProof bool
	// SlowDelay is how long a "slow" provider_unavailable response stalls before a
	// 503, unless the client hangs up first; default 2 minutes.
	SlowDelay time.Duration
	// MetaCallsPerHour is each user's hourly budget; default 10000. x-app-usage
	// reports the app's calls against MetaCallsPerHour × the number of users, as
	// Meta does. When EnforceCallBudget is set, a user exceeding it gets code 17
	// (User request limit reached), per user.
	MetaCallsPerHour  int
	EnforceCallBudget bool
	// Logger receives one line per injected fault; default slog.Default().
	Logger *slog.Logger
	// DeauthorizeURL is the app's Deauthorize Callback URL, as set in Facebook
	// Login's settings, such as AppBaseURL plus the app's callback path. When set,
	// injecting app_removed for a Meta user (panel or JSON API) also posts Meta's
	// signed_request for that user there, in the background, as Meta does when a
	// user removes the app; a delivery that fails is logged, never retried. Empty:
	// no callback.
	DeauthorizeURL string
	// DeauthorizeClient posts the callback, e.g. one with a test server's transport;
	// default a client of its own. Each delivery is bounded by DeauthorizeTimeout
	// whatever the client's own timeout.
	DeauthorizeClient *http.Client
}

// Default app credentials of the sandbox.
const (
	DefaultMetaAppID            = "1234567890123456"
	DefaultMetaAppSecret        = "sandbox-meta-app-secret"
	DefaultLinkedInClientID     = "86sandboxlinkedin"
	DefaultLinkedInClientSecret = "sandbox-linkedin-client-secret"
)

// Token lifetimes, as the real providers document them.
const (
	MetaShortLived       = 90 * time.Minute
	MetaLongLived        = 60 * 24 * time.Hour
	MetaDataAccess       = 90 * 24 * time.Hour
	LinkedInAccessLife   = 60 * 24 * time.Hour
	LinkedInRefreshLife  = 365 * 24 * time.Hour
	AuthorizationCodeTTL = 10 * time.Minute
)

// Sandbox is the emulator; it is an http.Handler and safe for concurrent use.
type Sandbox struct {
	opts    Options
	appBase *url.URL // Options.AppBaseURL parsed; nil when empty or unusable
	prefix  string
	clock   *Clock
	started time.Time
	logger  *slog.Logger
	handler http.Handler

	mu        sync.Mutex
	seq       uint64
	metaUsers []*metaUser
	liMembers []*linkedInMember
	tokens    map[string]*token
	codes     map[string]*authCode
	grants    map[string]*grant // provider|user
	faults    map[faultKey]*Fault
	calls     map[callKey]int
	pageToks  map[string]string // user token|page id → page token
	usage     map[string]*usageWindow

	callbacks sync.WaitGroup // deauthorize callbacks under way
}

type token struct {
	value    string
	provider string
	kind     string // user, page, app, access, refresh
	user     string
	page     string
	long     bool
	seq      uint64 // the login it comes from, which login-repaired faults judge
	own      uint64 // its own place in issue order, which LinkedIn's token_expired judges
	issued   time.Time
	expires  time.Time // zero: never
	scopes   []string
	revoked  bool
	refresh  string // LinkedIn: the refresh token issued with this access token
}

type authCode struct {
	value, provider, user, clientID, redirectURI string
	scopes, declined, pages, adAccounts          []string
	created                                      time.Time
	used                                         bool
}

// grant is what a user has granted the app, across logins. A login updates it in
// place (recordLogin); it is never replaced, so that removing the app and removing
// single permissions outlive the next login, as on Meta.
type grant struct {
	scopes, declined  []string // granted and unticked, across logins
	removed           bool     // the app was removed (DELETE /me/permissions) since the last login
	revoked           []string // single permissions removed by DELETE /me/permissions/{name}
	pages, adAccounts []string
	grantedAt         time.Time
	removedSeq        uint64 // tokens issued before were de-authorised
}

type usageWindow struct {
	hour  int64
	calls int
}

// New returns a sandbox with the seeded users.
func New(opts Options) *Sandbox {
	if opts.Prefix == "" {
		opts.Prefix = "/sandbox"
	}
	opts.Prefix = "/" + strings.Trim(opts.Prefix, "/")
	if opts.Clock == nil {
		opts.Clock = NewClock()
	}
	if opts.MetaAppID == "" {
		opts.MetaAppID = DefaultMetaAppID
	}
	if opts.MetaAppSecret == "" {
		opts.MetaAppSecret = DefaultMetaAppSecret
	}
	if opts.LinkedInClientID == "" {
		opts.LinkedInClientID = DefaultLinkedInClientID
	}
	if opts.LinkedInClientSecret == "" {
		opts.LinkedInClientSecret = DefaultLinkedInClientSecret
	}
	if opts.SlowDelay <= 0 {
		opts.SlowDelay = 2 * time.Minute
	}
	if opts.MetaCallsPerHour <= 0 {
		opts.MetaCallsPerHour = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DeauthorizeClient == nil {
		opts.DeauthorizeClient = &http.Client{Timeout: DeauthorizeTimeout}
	}
	s := &Sandbox{
		opts: opts, prefix: opts.Prefix, clock: opts.Clock, logger: opts.Logger,
		metaUsers: seedMeta(), liMembers: seedLinkedIn(),
		tokens: map[string]*token{}, codes: map[string]*authCode{}, grants: map[string]*grant{},
		faults: map[faultKey]*Fault{}, calls: map[callKey]int{}, pageToks: map[string]string{},
		usage: map[string]*usageWindow{},
	}
	if opts.AppBaseURL != "" {
		if u, ok := parseRedirect(opts.AppBaseURL); ok && u.RawQuery == "" {
			s.appBase = u
		} else {
			s.logger.Error("sandbox: AppBaseURL is not an absolute http(s) URL without query or fragment; the dialogs refuse every redirect_uri", "app_base_url", opts.AppBaseURL)
		}
	}
	s.started = s.clock.Now()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	s.handler = cop.Handler(http.HandlerFunc(s.route))
	return s
}

// Clock returns the sandbox clock, which the app shares in sandbox mode.
func (s *Sandbox) Clock() *Clock { return s.clock }

// Prefix returns the path the sandbox is mounted at.
func (s *Sandbox) Prefix() string { return s.prefix }

// MetaApp returns the Meta app id and secret the sandbox accepts.
func (s *Sandbox) MetaApp() (id, secret string) { return s.opts.MetaAppID, s.opts.MetaAppSecret }

// LinkedInApp returns the LinkedIn client id and secret the sandbox accepts.
func (s *Sandbox) LinkedInApp() (id, secret string) {
	return s.opts.LinkedInClientID, s.opts.LinkedInClientSecret
}

// URLs are the base URLs that stand for the real provider hosts.
type URLs struct {
	MetaGraph, MetaWWW, LinkedInAPI, LinkedInWWW string
}

// URLs returns the base URLs of the sandbox as seen from base, the app's own
// scheme://host, such as http://localhost:8080.
func (s *Sandbox) URLs(base string) URLs {
	b := strings.TrimRight(base, "/") + s.prefix
	return URLs{MetaGraph: b + "/meta/graph", MetaWWW: b + "/meta/www",
		LinkedInAPI: b + "/linkedin/api", LinkedInWWW: b + "/linkedin/www"}
}

// ServeHTTP serves every path under the prefix.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Sandbox) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p != s.prefix && !strings.HasPrefix(p, s.prefix+"/") {
		s.notFound(w, r, "Relink")
		return
	}
	rest := strings.TrimPrefix(p, s.prefix)
	switch {
	case rest == "" || rest == "/":
		s.servePanel(w, r)
	case rest == "/static/sandbox.css":
		serveCSS(w, r)
	case rest == "/static/avatar.png":
		serveAvatar(w, r)
	case rest == "/panel/faults":
		s.panelFault(w, r)
	case rest == "/panel/clock":
		s.panelClock(w, r)
	case rest == "/api" || strings.HasPrefix(rest, "/api/"):
		s.serveAPI(w, r, strings.TrimPrefix(rest, "/api"))
	case strings.HasPrefix(rest, "/meta/graph/"):
		s.serveGraph(w, r, stripVersion(strings.TrimPrefix(rest, "/meta/graph")))
	case strings.HasPrefix(rest, "/meta/www/"):
		s.serveMetaWWW(w, r, stripVersion(strings.TrimPrefix(rest, "/meta/www")))
	case strings.HasPrefix(rest, "/linkedin/api/"):
		s.serveLinkedInAPI(w, r, strings.TrimPrefix(rest, "/linkedin/api"))
	case strings.HasPrefix(rest, "/linkedin/www/"):
		s.serveLinkedInWWW(w, r, strings.TrimPrefix(rest, "/linkedin/www"))
	default:
		s.notFound(w, r, "Relink")
	}
}

// stripVersion removes a leading Graph version segment such as /v24.0.
func stripVersion(p string) string {
	if len(p) > 2 && p[0] == '/' && p[1] == 'v' {
		seg, rest, _ := strings.Cut(p[1:], "/")
		if isVersion(seg) {
			return "/" + rest
		}
	}
	return p
}

func isVersion(seg string) bool {
	if len(seg) < 4 || seg[0] != 'v' {
		return false
	}
	major, minor, ok := strings.Cut(seg[1:], ".")
	return ok && major != "" && minor != "" && strings.Trim(major, "0123456789") == "" && strings.Trim(minor, "0123456789") == ""
}

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + strings.ToUpper(hex.EncodeToString(b[:n/2])) + hex.EncodeToString(b[n/2:])
}

// TokenFingerprint is how GET {prefix}/api/calls names a token: the first 12 hex
// digits of its SHA-256, so counts can be matched to tokens without printing them.
func TokenFingerprint(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

// AppSecretProof is Graph's appsecret_proof: HMAC-SHA256 of the token keyed by the
// app secret, hex encoded.
func AppSecretProof(secret, tok string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// nextSeq must be called with s.mu held.
func (s *Sandbox) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// issue stores a new token; s.mu must be held.
func (s *Sandbox) issue(t *token) *token {
	t.seq = s.nextSeq()
	t.own = t.seq
	s.tokens[t.value] = t
	return t
}

func (s *Sandbox) grantFor(provider, user string) *grant {
	return s.grants[provider+"|"+user]
}

// recordLogin updates the user's grant with an approved authorization code: it adds
// the scopes this login granted and drops only those it unticked, takes this
// login's assets, and restarts the data-access clock. A
// permission removed earlier comes back only if this login grants it again; tokens
// de-authorised earlier stay dead. s.mu must be held.
func (s *Sandbox) recordLogin(c *authCode, now time.Time) {
	key := c.provider + "|" + c.user
	g := s.grants[key]
	if g == nil {
		g = &grant{}
		s.grants[key] = g
	}
	if g.removed { // removing the app dropped every permission; this login starts afresh
		g.scopes, g.declined, g.removed = nil, nil, false
	}
	// Grants are cumulative, as on Meta: a login adds what it was granted and
	// removes only what the user unticked; what it did not ask for stays granted.
	g.scopes = append(minus(g.scopes, append(slices.Clone(c.scopes), c.declined...)), c.scopes...)
	g.declined = append(minus(g.declined, append(slices.Clone(c.scopes), c.declined...)), c.declined...)
	g.pages, g.adAccounts = slices.Clone(c.pages), slices.Clone(c.adAccounts)
	g.revoked = minus(g.revoked, c.scopes)
	g.grantedAt = now
}

func (s *Sandbox) metaUser(id string) *metaUser {
	for _, u := range s.metaUsers {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Sandbox) liMember(id string) *linkedInMember {
	for _, m := range s.liMembers {
		if m.ID == id {
			return m
		}
	}
	return nil
}

type callKey struct {
	Provider, Endpoint, Token, User string
}

// maxCallKeys bounds the call counts: past it, calls of new (endpoint, token,
// user) combinations are counted together under otherEndpoint.
const maxCallKeys = 10000

// countCall must be called with s.mu held.
func (s *Sandbox) countCall(provider, endpoint, tok, user string) {
	k := callKey{provider, endpoint, TokenFingerprint(tok), user}
	if _, seen := s.calls[k]; !seen && len(s.calls) >= maxCallKeys {
		k = callKey{Provider: provider, Endpoint: otherEndpoint}
	}
	s.calls[k]++
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func splitScopes(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '+' })
	out := make([]string, 0, len(f))
	for _, x := range f {
		if x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func minus(list, remove []string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if !contains(remove, x) {
			out = append(out, x)
		}
	}
	return out
}

// clientCredentials reads client_id and client_secret from HTTP Basic or the form,
// as real token endpoints accept both.
func clientCredentials(r *http.Request) (id, secret string) {
	if u, p, ok := r.BasicAuth(); ok {
		return u, p
	}
	return r.Form.Get("client_id"), r.Form.Get("client_secret")
}

// redirectTarget parses uri and reports whether the dialog may send the browser
// back to it. Like a real app's Valid OAuth Redirect URIs (Meta) and authorized
// redirect URLs (LinkedIn), it must be under Options.AppBaseURL, or on a loopback
// address when that is empty, and in Options.RedirectURIs when they are set, so a
// forged dialog link cannot hand a code to another site.
func (s *Sandbox) redirectTarget(uri string) (*url.URL, bool) {
	u, ok := parseRedirect(uri)
	if !ok {
		return nil, false
	}
	switch {
	case s.opts.AppBaseURL == "":
		ok = isLoopback(u.Hostname())
	case s.appBase == nil: // an unusable AppBaseURL was logged by New; fail closed
		ok = false
	default:
		ok = underBase(u, s.appBase)
	}
	if !ok || (len(s.opts.RedirectURIs) > 0 && !contains(s.opts.RedirectURIs, uri)) {
		return nil, false
	}
	return u, true
}

// parseRedirect parses an absolute http(s) URI that a browser and net/url read
// alike: no user info, fragment, dot segment or backslash, each of which lets the
// browser end up on another host or path than the one checked.
func parseRedirect(uri string) (*url.URL, bool) {
	if strings.ContainsRune(uri, '\\') {
		return nil, false
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Fragment != "" || hasDotSegment(u.Path) {
		return nil, false
	}
	return u, true
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// isLoopback accepts only spellings every client resolves to this machine:
// localhost, dotted 127.x.y.z and ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && ((a.Is4() && a.As4()[0] == 127) || a == netip.IPv6Loopback())
}

// underBase reports whether u has base's scheme, host and port (a missing port is
// the scheme's default) and a path at or under base's path.
func underBase(u, base *url.URL) bool {
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Hostname(), base.Hostname()) || portOf(u) != portOf(base) {
		return false
	}
	dir := strings.TrimSuffix(base.Path, "/")
	return dir == "" || u.Path == dir || strings.HasPrefix(u.Path, dir+"/")
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
