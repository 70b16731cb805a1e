package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// contentSecurityPolicy allows only Relink's own scripts and styles: no inline script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries.
func (a *App) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if a.https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// headAsGet routes HEAD like GET, so every GET route answers HEAD; net/http drops the body.
// chi's GetHead looks the route up first and, under a mounted sub-router, finds the mount
// itself and lets HEAD through to a 405; Relink has no HEAD handlers of its own to look for.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rctx := chi.RouteContext(r.Context()); rctx != nil && r.Method == http.MethodHead {
			rctx.RouteMethod = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

// requestID gives every request an id, kept in the context, logged and shown on error pages.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(withRequestInfo(r.Context(), &requestInfo{id: id})))
	})
}

// logRequests writes one line per request. It logs the path only: query strings can carry
// OAuth codes and states, so they are never logged.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", middleware.GetClientIP(r.Context())),
			slog.String("request_id", RequestID(r.Context())),
		}
		if info := requestInfoFrom(r.Context()); info != nil && info.userID != 0 {
			attrs = append(attrs, slog.Int64("user_id", info.userID))
		}
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// recoverPanics turns a panic into the 500 page, logging the stack but never showing it.
func (a *App) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.Error("panic", "request_id", RequestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				a.renderError(w, r, toError(errors.New("panic")))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses unsafe requests from other origins (CSRF) with the standard library's
// Fetch-metadata and Origin checks.
func (a *App) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.renderError(w, r, errForbidden("This request came from another site and was refused."))
	}))
	return cop.Handler(next)
}

// requireUser loads the signed-in user and their memberships; without one, pages redirect
// to the login page and htmx requests get 401.
func (a *App) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok, err := a.currentPrincipal(r)
		if err != nil {
			a.renderError(w, r, toError(err))
			return
		}
		if !ok {
			a.redirectToLogin(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), &p)))
	})
}

// withOptionalUser loads the signed-in user when there is one, so that pages outside the
// authenticated routes (the 404 page) still show them their header and navigation.
func (a *App) withOptionalUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok, err := a.currentPrincipal(r); ok && err == nil {
			r = r.WithContext(withPrincipal(r.Context(), &p))
		}
		next.ServeHTTP(w, r)
	})
}

func (a *App) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// supportReadOnly refuses every unsafe method to platform support, who may only look.
func (a *App) supportReadOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if supportWrites(r) && r.URL.Path != "/logout" {
			a.renderError(w, r, errSupportReadOnly)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// auditSupport records in the history of each sub-account in ids that support saw it on
// this page, once per page view: support may read any tenant's data, and every such read is
// accounted for. For anyone else it does nothing.
func (a *App) auditSupport(r *http.Request, ids []int64, detail string) error {
	p := principalFrom(r.Context())
	if p == nil || !p.IsSupport() || len(ids) == 0 {
		return nil
	}
	if err := a.store.RecordSupportViews(r.Context(), p.User.ID, ids, RequestID(r.Context()), detail); err != nil {
		return err
	}
	if info := requestInfoFrom(r.Context()); info != nil {
		info.audited = true
	}
	return nil
}

// supportWrites reports whether r is platform support trying to change something.
func supportWrites(r *http.Request) bool {
	p := principalFrom(r.Context())
	return p != nil && p.IsSupport() && !isSafeMethod(r.Method)
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// loadTenant loads the sub-account named in the URL, scoped to the user's memberships.
// One the user cannot reach is a 404, exactly like one that does not exist.
func (a *App) loadTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := idParam(r, "subAccountID")
		if err != nil {
			a.renderError(w, r, toError(err))
			return
		}
		p := principalFrom(r.Context())
		ref, role, err := a.store.SubAccountFor(r.Context(), *p, id)
		if err != nil {
			a.renderError(w, r, toError(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(withTenant(r.Context(), &Tenant{SubAccount: ref, Role: role, Manage: p.CanManage(ref)})))
	})
}
