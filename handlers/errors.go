package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/layouts"
	"github.com/relink/relink/views/pages"
)

// handlerFunc is how every Relink handler is written: it returns an error instead of
// writing an error response itself, and one place turns that error into a page.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Error is an error with a status and a message safe to show; the wrapped error is only logged.
type Error struct {
	Status  int
	Title   string
	Message string
	Err     error
}

// Error is the internal message, for logs only.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying error, so errors.Is sees through an *Error.
func (e *Error) Unwrap() error { return e.Err }

// errNotFound is the page for anything missing or belonging to another tenant.
func errNotFound(err error) *Error {
	return &Error{Status: http.StatusNotFound, Title: "Page not found",
		Message: "This page does not exist, or you do not have access to it.", Err: err}
}

// errSupportReadOnly refuses every change by platform support.
var errSupportReadOnly = errForbidden("Support access is read-only.")

func errForbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Title: "Not allowed", Message: msg}
}

// notFound answers a path no route matches; support's unsafe requests are refused as
// everywhere else, so they never learn which paths exist.
func (a *App) notFound(w http.ResponseWriter, r *http.Request) error {
	if supportWrites(r) {
		return errSupportReadOnly
	}
	return errNotFound(nil)
}

// methodNotAllowed answers a route that exists but not for this method.
func (a *App) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	if supportWrites(r) {
		return errSupportReadOnly
	}
	return &Error{Status: http.StatusMethodNotAllowed, Title: "Not allowed", Message: "This page does not accept that kind of request."}
}

// toError maps any error to the status and safe message shown to the user.
func toError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, models.ErrNotFound):
		return errNotFound(err)
	default:
		return &Error{Status: http.StatusInternalServerError, Title: "Something went wrong",
			Message: "Relink could not complete this request. Please try again in a moment.", Err: err}
	}
}

// handle adapts a handlerFunc: errors are logged (5xx at Error, 4xx at Warn) and rendered as
// the error page; a request the client cancelled is neither.
func (a *App) handle(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return
		}
		a.renderError(w, r, toError(err))
	}
}

// renderError logs e and writes the error page with its status.
func (a *App) renderError(w http.ResponseWriter, r *http.Request, e *Error) {
	ctx := r.Context()
	level := slog.LevelWarn
	if e.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.Int("status", e.Status), slog.String("request_id", RequestID(ctx))}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	a.log.LogAttrs(ctx, level, e.Title, attrs...)

	// A signed-in user keeps the header, so an error page is never a dead end. A failure to
	// build it (the database may be the very thing that failed) leaves a plainer header.
	p := layouts.Page{Title: e.Title}
	if principalFrom(ctx) != nil {
		p, _ = a.frame(r, e.Title, "")
		// An error page under a sub-account's URL names it in the header: support's view
		// of it is audited like any other page's, unless the page already was.
		if t, info := tenantFrom(ctx), requestInfoFrom(ctx); t != nil && (info == nil || !info.audited) {
			if err := a.auditSupport(r, []int64{t.SubAccount.ID}, fmt.Sprintf("saw a %d page at %s", e.Status, r.URL.Path)); err != nil {
				a.log.Error("audit support view", "error", err, "request_id", RequestID(ctx))
				p = layouts.Page{Title: e.Title}
			}
		}
	}
	view := pages.ErrorView{Status: e.Status, Title: e.Title, Message: e.Message, RequestID: RequestID(ctx)}
	a.render(w, r, e.Status, pages.Error(p, view))
}
