package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Routes is every URL Relink answers, top to bottom.
func (a *App) Routes() http.Handler {
	r := chi.NewRouter()
	if a.proxyHops > 0 {
		r.Use(middleware.ClientIPFromXFFTrustedProxies(a.proxyHops))
	} else {
		r.Use(middleware.ClientIPFromRemoteAddr)
	}
	r.Use(requestID, a.logRequests, a.recoverPanics, a.securityHeaders, a.crossOrigin)
	r.NotFound(a.withOptionalUser(a.handle(func(w http.ResponseWriter, r *http.Request) error { return errNotFound(nil) })).ServeHTTP)
	r.MethodNotAllowed(a.withOptionalUser(a.handle(func(w http.ResponseWriter, r *http.Request) error {
		if p := principalFrom(r.Context()); p != nil && p.IsSupport() && !isSafeMethod(r.Method) {
			return errSupportReadOnly
		}
		return &Error{Status: http.StatusMethodNotAllowed, Title: "Not allowed", Message: "This page does not accept that kind of request."}
	})).ServeHTTP)

	r.Get("/healthz", a.healthz)
	r.Get("/readyz", a.readyz)
	r.Handle("/static/*", a.staticFiles())
	for prefix, h := range a.extra {
		r.Mount(prefix, h)
	}

	r.Get("/login", a.handle(a.loginPage))
	r.Post("/login", a.handle(a.loginSubmit))
	r.Post("/logout", a.handle(a.logout))

	r.Group(func(r chi.Router) {
		r.Use(a.requireUser, a.supportReadOnly)
		r.Get("/", a.handle(a.home))
		r.Get("/agency", a.handle(a.overview))
		r.Get("/switch", a.handle(a.switchAccount))

		r.Route("/accounts/{subAccountID}", func(r chi.Router) {
			r.Use(a.loadTenant)
			r.Get("/", a.handle(a.subAccountHome))
			r.Get("/connections", a.handle(a.connections))
		})
	})
	return r
}
