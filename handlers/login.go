package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/components"
	"github.com/relink/relink/views/layouts"
	"github.com/relink/relink/views/pages"
)

// badLogin is the one message for an unknown email and a wrong password alike.
const badLogin = "That email and password do not match an account."

// loginPage shows the sign-in form, or sends a signed-in user on.
func (a *App) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := a.currentPrincipal(r); err != nil {
		return err
	} else if ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	p := layouts.Page{Title: "Sign in", Flashes: a.takeFlashes(w, r)}
	a.render(w, r, http.StatusOK, pages.Login(p, pages.LoginForm{Next: r.URL.Query().Get("next")}))
	return nil
}

// loginSubmit checks the credentials, rate-limited per client IP and per email.
func (a *App) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Title: "Bad request", Message: "The form could not be read.", Err: err}
	}
	form := pages.LoginForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: r.PostForm.Get("next")}
	email, _ := models.NormalizeEmail(form.Email)
	password := r.PostForm.Get("password")
	if email == "" || password == "" {
		form.Error = "Enter your email and password."
		a.render(w, r, http.StatusUnprocessableEntity, pages.Login(layouts.Page{Title: "Sign in"}, form))
		return nil
	}
	// Only failed attempts count, so an office of colleagues behind one address is never
	// locked out by signing in successfully.
	ipKey, emailKey := "ip:"+middleware.GetClientIP(r.Context()), "email:"+email
	if limited(a.ipLimiter, ipKey, a.limits.PerIP) || limited(a.emailLimiter, emailKey, a.limits.PerEmail) {
		return &Error{Status: http.StatusTooManyRequests, Title: "Too many sign-in attempts",
			Message: "Too many sign-in attempts. Wait a few minutes, then try again."}
	}
	u, err := a.store.Authenticate(r.Context(), email, password)
	if errors.Is(err, models.ErrBadCredentials) {
		a.ipLimiter.OnLimit(w, r, ipKey)
		a.emailLimiter.OnLimit(w, r, emailKey)
		a.log.Warn("sign-in failed", "request_id", RequestID(r.Context()), "ip", middleware.GetClientIP(r.Context()))
		form.Error = badLogin
		a.render(w, r, http.StatusUnprocessableEntity, pages.Login(layouts.Page{Title: "Sign in"}, form))
		return nil
	}
	if err != nil {
		return err
	}
	if err := a.startSession(w, r, u.ID); err != nil {
		return err
	}
	a.log.Info("signed in", "user_id", u.ID, "request_id", RequestID(r.Context()))
	http.Redirect(w, r, safeNext(form.Next), http.StatusSeeOther)
	return nil
}

// limited reports whether key has used up its attempts in l's sliding window.
func limited(l *httprate.RateLimiter, key string, max int) bool {
	_, rate, err := l.Status(key)
	return err == nil && rate >= float64(max)
}

// logout ends the session.
func (a *App) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.endSession(w, r, &components.Flash{Kind: "info", Message: "You are signed out."}); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-login redirect on this site: a local path, never "//host", a URL,
// or anything with a control character or backslash, which browsers strip or fold into "/"
// ("/\t/evil.example" would otherwise land on evil.example).
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}
