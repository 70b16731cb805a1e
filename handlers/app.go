// Package handlers is Relink's web layer: routes, middleware and one small handler per
// screen or action. Handlers hold no business logic; they call models and render views.
package handlers

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/oauth"
	"github.com/relink/relink/providers"
)

// Config is what the web layer is built from.
type Config struct {
	Store *models.Store
	// SessionKeys sign and encrypt cookies: 64 bytes each, the first one signs, all are
	// accepted, so keys rotate by putting a new one first.
	SessionKeys [][]byte
	Log         *slog.Logger
	// Static serves /static/.
	Static fs.FS
	// HTTPS says Relink is served over https (BASE_URL): cookies are Secure and browsers are
	// told to keep to https.
	HTTPS bool
	// TrustedProxyHops is how many reverse proxies in front of Relink append to
	// X-Forwarded-For; 0 means the client is the TCP peer.
	TrustedProxyHops int
	// LoginLimits bound sign-in attempts; zero values take the defaults.
	LoginLimits LoginLimits
	// Extra mounts handlers outside the app's routes (for example the provider sandbox),
	// keyed by path prefix such as "/sandbox".
	Extra map[string]http.Handler
	// Connections is the connection service and Flows the OAuth dances; without them the
	// connections page is read-only and offers no Connect.
	Connections *connection.Service
	Flows       *oauth.Flows
	// SessionClock times sign-in sessions; the wall clock when nil. Everything else reads the
	// store's clock, which is the sandbox's in sandbox mode: advancing that one by 60 days to
	// watch a token expire must not sign everyone out.
	SessionClock providers.Clock
	// MetaAppSecret verifies Meta's deauthorize callbacks; without it (or without
	// Connections) the callback route is not mounted.
	MetaAppSecret string
	// Metrics serves /metrics; nil mounts none.
	Metrics http.Handler
	// DevMail mounts /dev/mail, the outbox as a developer tool: the wiring sets it in
	// sandbox mode when no SMTP_URL is set, where emails go nowhere else.
	DevMail bool
}

// LoginLimits bound how often sign-in may be tried and how many passwords are checked at once.
type LoginLimits struct {
	PerIP  int
	Window time.Duration
	// PerEmail counts the attempts for one email from browsers it has never signed in from,
	// and separately from each browser it has signed in from before.
	PerEmail    int
	EmailWindow time.Duration
	// Checks is how many password checks (19 MiB of memory each) may run at once; CheckWait
	// how long a sign-in waits for one before it is told to come back.
	Checks    int
	CheckWait time.Duration
}

func (l LoginLimits) withDefaults() LoginLimits {
	if l.PerIP == 0 {
		l.PerIP = 30
	}
	if l.PerEmail == 0 {
		l.PerEmail = 10
	}
	if l.Window == 0 {
		l.Window = 5 * time.Minute
	}
	if l.EmailWindow == 0 {
		l.EmailWindow = 15 * time.Minute
	}
	if l.Checks == 0 {
		l.Checks = runtime.GOMAXPROCS(0)
	}
	if l.CheckWait == 0 {
		l.CheckWait = 3 * time.Second
	}
	return l
}

// App holds the dependencies of every handler.
type App struct {
	store          *models.Store
	sessions       *sessions.CookieStore
	deviceCodecs   []securecookie.Codec
	log            *slog.Logger
	static         fs.FS
	proxyHops      int
	https          bool
	ipAttempts     *attemptLimiter
	emailAttempts  *attemptLimiter
	deviceAttempts *attemptLimiter
	checks         *checkSlots
	extra          map[string]http.Handler
	conns          *connection.Service
	flows          *oauth.Flows
	wall           providers.Clock
	metaAppSecret  string
	metrics        http.Handler
	devMail        bool
}

// New builds the web application.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil || len(cfg.SessionKeys) == 0 || cfg.Static == nil {
		return nil, errors.New("handlers: store, session keys and static files are required")
	}
	var pairs [][]byte
	for i, k := range cfg.SessionKeys {
		if len(k) != 64 {
			return nil, fmt.Errorf("handlers: session key %d is %d bytes, want 64", i+1, len(k))
		}
		pairs = append(pairs, k[:32], k[32:64])
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	limits := cfg.LoginLimits.withDefaults()
	return &App{
		store:          cfg.Store,
		sessions:       newCookieStore(pairs, cfg.HTTPS),
		deviceCodecs:   newDeviceCodecs(pairs),
		log:            cfg.Log,
		static:         cfg.Static,
		proxyHops:      cfg.TrustedProxyHops,
		https:          cfg.HTTPS,
		ipAttempts:     newAttemptLimiter(limits.PerIP, limits.Window),
		emailAttempts:  newAttemptLimiter(limits.PerEmail, limits.EmailWindow),
		deviceAttempts: newAttemptLimiter(limits.PerEmail, limits.EmailWindow),
		checks:         newCheckSlots(limits.Checks, limits.CheckWait),
		extra:          cfg.Extra,
		conns:          cfg.Connections,
		flows:          cfg.Flows,
		wall:           cmp.Or[providers.Clock](cfg.SessionClock, providers.SystemClock{}),
		metaAppSecret:  cfg.MetaAppSecret,
		metrics:        cfg.Metrics,
		devMail:        cfg.DevMail,
	}, nil
}

// render writes a templ component with status; it renders into a buffer first so that a
// failed render becomes the error page instead of half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		if status >= 500 {
			// Already rendering an error: fall back to plain text rather than recurse.
			a.log.Error("render error page", "error", err, "request_id", RequestID(r.Context()))
			http.Error(w, "Something went wrong.", http.StatusInternalServerError)
			return
		}
		a.renderError(w, r, toError(err))
		return
	}
	if status == http.StatusOK {
		a.rememberTenant(w, r)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
