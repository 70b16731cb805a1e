package handlers

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

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

// loginSubmit checks the credentials. Every attempt is counted per client IP and per email
// before its password is checked, and only a bounded number of checks run at once.
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
	ctx := r.Context()
	ip := middleware.GetClientIP(ctx)
	// A browser this account has signed in from before has attempts of its own: strangers
	// using up the email's attempts do not lock its owner out.
	emailLimiter, emailKey := a.emailAttempts, "email:"+email
	if d := a.device(r); d.knows(email) {
		emailLimiter, emailKey = a.deviceAttempts, "device:"+d.ID+":"+email
	}
	ipTry, wait, ok := a.ipAttempts.take("ip:" + ip)
	if !ok {
		return a.tooManyAttempts(w, r, form, wait)
	}
	emailTry, wait, ok := emailLimiter.take(emailKey)
	if !ok {
		a.ipAttempts.refund(ipTry)
		return a.tooManyAttempts(w, r, form, wait)
	}
	// Attempts that are not evaluated, or that succeed, do not count.
	refund := func() {
		a.ipAttempts.refund(ipTry)
		emailLimiter.refund(emailTry)
	}
	if !a.checks.acquire(ctx) {
		refund()
		a.log.Warn("sign-in refused: too many password checks at once", "request_id", RequestID(ctx), "ip", ip)
		w.Header().Set("Retry-After", "5")
		form.Error = "Relink is busy signing people in. Try again in a few seconds."
		a.render(w, r, http.StatusServiceUnavailable, pages.Login(layouts.Page{Title: "Sign in"}, form))
		return nil
	}
	u, err := a.store.Authenticate(ctx, email, password)
	a.checks.release()
	if errors.Is(err, models.ErrBadCredentials) {
		a.log.Warn("sign-in failed", "request_id", RequestID(ctx), "ip", ip)
		form.Error = badLogin
		a.render(w, r, http.StatusUnprocessableEntity, pages.Login(layouts.Page{Title: "Sign in"}, form))
		return nil
	}
	refund()
	if err != nil {
		return err
	}
	if err := a.rememberDevice(w, r, email); err != nil {
		return err
	}
	if err := a.startSession(w, r, u.ID); err != nil {
		return err
	}
	a.log.Info("signed in", "user_id", u.ID, "request_id", RequestID(ctx))
	http.Redirect(w, r, safeNext(form.Next), http.StatusSeeOther)
	return nil
}

// tooManyAttempts answers 429 with the sign-in form again and how long to wait.
func (a *App) tooManyAttempts(w http.ResponseWriter, r *http.Request, form pages.LoginForm, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	a.log.Warn("sign-in rate limited", "request_id", RequestID(r.Context()), "ip", middleware.GetClientIP(r.Context()), "retry_after", secs)
	form.Error = "Too many sign-in attempts. Try again " + inAbout(wait) + "."
	a.render(w, r, http.StatusTooManyRequests, pages.Login(layouts.Page{Title: "Sign in"}, form))
	return nil
}

// inAbout says a short wait the way people say it: "in a minute", "in 12 minutes".
func inAbout(d time.Duration) string {
	m := int(math.Ceil(d.Minutes()))
	if m <= 1 {
		return "in a minute"
	}
	return "in " + strconv.Itoa(m) + " minutes"
}

// logoutPage is what a typed /logout shows: a button that signs out, since signing out is a
// POST (a link or an image elsewhere must not be able to sign anyone out).
func (a *App) logoutPage(w http.ResponseWriter, r *http.Request) error {
	if principalFrom(r.Context()) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	page, err := a.page(w, r, "Sign out", "")
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.Logout(page))
	return nil
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
