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
	r.Use(requestID, a.logRequests, a.recoverPanics, a.securityHeaders, a.crossOrigin, headAsGet)
	r.NotFound(a.withOptionalUser(a.handle(a.notFound)).ServeHTTP)
	r.MethodNotAllowed(a.withOptionalUser(a.handle(a.methodNotAllowed)).ServeHTTP)

	r.Get("/healthz", a.healthz)
	if a.metrics != nil {
		r.Get("/metrics", a.metrics.ServeHTTP)
	}
	r.Get("/readyz", a.readyz)
	r.Get("/static/*", a.staticFiles().ServeHTTP)
	// Pages without an icon link (the sandbox's) make browsers ask for /favicon.ico.
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	for prefix, h := range a.extra {
		r.Mount(prefix, h)
	}

	if a.metaAppSecret != "" && a.conns != nil {
		// Called by Meta's servers, not a browser: no session, the signature is the proof.
		r.Post(MetaDeauthorizePath, a.handle(a.metaDeauthorize))
	}

	r.Get("/login", a.handle(a.loginPage))
	r.Post("/login", a.handle(a.loginSubmit))
	r.Get("/logout", a.withOptionalUser(a.handle(a.logoutPage)).ServeHTTP)
	r.Post("/logout", a.handle(a.logout))

	r.Group(func(r chi.Router) {
		r.Use(a.requireUser, a.supportReadOnly)
		r.Get("/", a.handle(a.home))
		r.Get("/agency", a.handle(a.overview))
		r.Get("/switch", a.handle(a.switchAccount))
		// The provider's dialog returns here; the flow's state names the sub-account.
		r.Get("/oauth/{provider}/callback", a.handle(a.oauthCallback))
		r.Get("/settings/notifications", a.handle(a.notificationSettings))
		r.Post("/settings/notifications", a.handle(a.saveNotificationSettings))
		if a.devMail {
			r.Get("/dev/mail", a.handle(a.devMailList))
			r.Get("/dev/mail/{emailID}", a.handle(a.devMailShow))
			r.Get("/dev/mail/{emailID}/html", a.handle(a.devMailHTML))
		}

		r.Route("/accounts/{subAccountID}", func(r chi.Router) {
			r.Use(a.loadTenant)
			r.Get("/", a.handle(a.subAccountHome))
			r.Get("/connections", a.handle(a.connections))
			r.Get("/history", a.handle(a.subAccountHistory))
			r.Get("/connections/{connectionID}/history", a.handle(a.connectionHistory))
			// An email's link lands here; the button on it posts to the route below.
			r.Get("/connections/{connectionID}/reauthenticate", a.handle(a.reauthenticatePage))

			// Changing connections: account admins and agency admins and owners only.
			r.Group(func(r chi.Router) {
				r.Use(a.requireManage)
				r.Post("/connect/{provider}", a.handle(a.connectStart))
				r.Get("/connections/flows/{flowID}", a.handle(a.pickerPage))
				r.Post("/connections/flows/{flowID}", a.handle(a.pickerSubmit))
				r.Get("/connections/{connectionID}/assets", a.handle(a.chooseAssetsPage))
				r.Post("/connections/{connectionID}/assets", a.handle(a.chooseAssetsSubmit))
				r.Post("/connections/{connectionID}/refresh", a.handle(a.refreshAll))
				r.Post("/connections/{connectionID}/check", a.handle(a.checkNow))
				r.Post("/connections/{connectionID}/reauthenticate", a.handle(a.reauthenticate))
				r.Get("/connections/{connectionID}/disconnect", a.handle(a.disconnectPage))
				r.Post("/connections/{connectionID}/disconnect", a.handle(a.disconnect))
				r.Post("/assets/{assetID}/refresh", a.handle(a.refreshAsset))
			})
		})
	})
	return r
}
