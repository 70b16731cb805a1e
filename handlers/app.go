// Package handlers is Relink's web layer: routes, middleware and one small handler per
// screen or action. Handlers hold no business logic; they call models and render views.
package handlers

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/httprate"
	"github.com/gorilla/sessions"

	"github.com/relink/relink/models"
)

// Config is what the web layer is built from.
type Config struct {
	Store    *models.Store
	Sessions *sessions.CookieStore
	Log      *slog.Logger
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
}

// LoginLimits bound how often sign-in may be tried.
type LoginLimits struct {
	PerIP       int
	PerEmail    int
	Window      time.Duration
	EmailWindow time.Duration
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
	return l
}

// App holds the dependencies of every handler.
type App struct {
	store        *models.Store
	sessions     *sessions.CookieStore
	log          *slog.Logger
	static       fs.FS
	proxyHops    int
	https        bool
	limits       LoginLimits
	ipLimiter    *httprate.RateLimiter
	emailLimiter *httprate.RateLimiter
	extra        map[string]http.Handler
}

// New builds the web application.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil || cfg.Sessions == nil || cfg.Static == nil {
		return nil, errors.New("handlers: store, sessions and static files are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	limits := cfg.LoginLimits.withDefaults()
	return &App{
		store:        cfg.Store,
		sessions:     cfg.Sessions,
		log:          cfg.Log,
		static:       cfg.Static,
		proxyHops:    cfg.TrustedProxyHops,
		limits:       limits,
		https:        cfg.HTTPS,
		ipLimiter:    httprate.NewRateLimiter(limits.PerIP, limits.Window),
		emailLimiter: httprate.NewRateLimiter(limits.PerEmail, limits.EmailWindow),
		extra:        cfg.Extra,
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
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
