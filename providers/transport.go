package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

// Detail refines a Reason where one reason covers situations that need different
// words for the people reading them.
type Detail string

// The details an Error may carry.
const (
	// DetailAppMisconfigured: the provider rejected Relink's own app credentials
	// (app id or secret), so no user can fix it and retrying cannot help.
	DetailAppMisconfigured Detail = "app_misconfigured"
	// DetailCanceled: the caller's context was cancelled (shutdown, the user went
	// away). The provider did not fail; nothing should be recorded against it.
	DetailCanceled Detail = "canceled"
	// DetailLoginCanceled: the user cancelled the login dialog or declined the
	// permissions it asked for.
	DetailLoginCanceled Detail = "login_canceled"
)

var detailTexts = map[Detail]reasonText{
	DetailAppMisconfigured: {
		"The provider rejected Relink's app credentials, so Relink cannot reach this account until they are corrected.",
		"An administrator must check the app id and app secret in Relink's configuration; reauthenticating will not help.",
	},
	DetailCanceled: {
		"The request was stopped before the provider answered.",
		"Nothing to do: the next check runs as usual.",
	},
	DetailLoginCanceled: {
		"The login was cancelled or the requested permissions were declined.",
		"Click Connect or Reauthenticate again, choose Continue and keep every requested permission ticked.",
	},
}

// Explain returns the plain-language message and fix for end users: the detail's
// when it has one, otherwise the reason's.
func (e *Error) Explain() (message, fix string) {
	if t, ok := detailTexts[e.Detail]; ok {
		return t.message, t.fix
	}
	return e.Reason.Message(), e.Reason.Fix()
}

// IsCanceled reports whether err comes from a context the caller cancelled. Such
// an error is not a provider failure: callers (health checks, jobs shutting down)
// should record nothing against the connection. errors.Is(err, context.Canceled)
// says the same.
func IsCanceled(err error) bool {
	return errors.Is(err, context.Canceled)
}

// ClassifyTransport maps a failure to reach the provider at all (timeout, reset,
// refused, DNS, cut-off body) to a retryable provider_unavailable. A context the
// caller cancelled is not the provider's fault: it comes back as a retryable
// unknown with DetailCanceled, and errors.Is(err, context.Canceled) still holds.
// An error that already is an *Error passes through. The cause kept inside is
// redacted.
func ClassifyTransport(provider, op string, err error) *Error {
	if pe, ok := AsError(err); ok {
		return pe
	}
	if err == nil {
		return &Error{Provider: provider, Op: op, Reason: ReasonUnknown}
	}
	e := &Error{Provider: provider, Op: op, Reason: ReasonProviderUnavailable,
		Retryable: true, RetryAfter: 30 * time.Second, Err: SanitizeErr(err)}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		e.Reason, e.RetryAfter, e.Detail = ReasonUnknown, 0, DetailCanceled
		e.Message = "cancelled by the caller"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Message = "timed out"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Message = "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Message = "connection refused"
	}
	return e
}

// ClassifyTransportCtx is ClassifyTransport for a call made with ctx: when ctx has
// ended, its error (context.Canceled, context.DeadlineExceeded) joins err's chain.
// golang.org/x/oauth2 wraps some transport failures with %v, which drops it, and
// without it a cancelled call would read as the provider's failure.
func ClassifyTransportCtx(ctx context.Context, provider, op string, err error) *Error {
	if cerr := ctx.Err(); cerr != nil && err != nil && !errors.Is(err, cerr) {
		if _, ok := AsError(err); !ok {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
	}
	return ClassifyTransport(provider, op, err)
}

// UnexpectedResponse is the error for a successful response whose body does not
// have the expected shape: something other than the provider answered (a proxy,
// a portal) or the provider changed. It carries no part of the body, which may
// hold tokens.
func UnexpectedResponse(provider, op string, status int) *Error {
	return &Error{Provider: provider, Op: op, Reason: ReasonProviderUnavailable, Retryable: true,
		RetryAfter: 30 * time.Second, HTTPStatus: status, Message: "the response did not have the expected shape"}
}

// OAuthContext is the context for golang.org/x/oauth2 calls of a goth provider
// (whose interface takes no context): it carries the configured HTTP client and is
// bounded by timeout.
func OAuthContext(hc *http.Client, timeout time.Duration) (context.Context, context.CancelFunc) {
	return WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, hc), timeout)
}

// LoginError classifies the error parameters of an OAuth callback. A cancelled
// dialog or declined permissions (Meta's access_denied, LinkedIn's
// user_cancelled_login and user_cancelled_authorize) is a non-retryable
// missing_permission with DetailLoginCanceled; anything else is unknown.
func LoginError(provider, code, description string) *Error {
	switch code {
	case "access_denied", "user_cancelled_login", "user_cancelled_authorize":
		return &Error{Provider: provider, Op: "authorize", Reason: ReasonMissingPermission, Detail: DetailLoginCanceled,
			Type: code, Message: "the user cancelled the login or declined the permissions"}
	}
	e := NewError(provider, "authorize", ReasonUnknown, "login not completed: "+code+" "+description)
	e.Type = Excerpt(code, 100)
	return e
}

// HTTPDefaults fills the settings every provider client shares: an HTTP client,
// DefaultTimeout and the system clock.
func HTTPDefaults(hc *http.Client, timeout time.Duration, clock Clock) (*http.Client, time.Duration, Clock) {
	if hc == nil {
		hc = &http.Client{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return hc, timeout, clock
}

// CodeExchange is what a goth session's Authorize needs to finish an OAuth callback:
// the same steps for every provider, with the provider's own error classifier.
type CodeExchange struct {
	Provider   string
	OAuth      *oauth2.Config
	HTTPClient *http.Client
	Timeout    time.Duration
	// DetailParam names the callback parameter that explains an error
	// ("error_reason" for Meta, "error_description" for LinkedIn).
	DetailParam string
	// Classify turns the token endpoint's error response into a classified error.
	Classify func(op string, status int, header http.Header, body []byte) *Error
}

// Exchange checks the callback's parameters and trades its code for a token. A cancelled
// dialog is LoginError's missing_permission; every other failure is a classified *Error.
func (c CodeExchange) Exchange(params interface{ Get(string) string }) (*oauth2.Token, error) {
	if e := params.Get("error"); e != "" {
		return nil, LoginError(c.Provider, e, params.Get(c.DetailParam))
	}
	code := params.Get("code")
	if code == "" {
		return nil, NewError(c.Provider, "authorize", ReasonUnknown, "the callback has no code")
	}
	ctx, cancel := OAuthContext(c.HTTPClient, c.Timeout)
	defer cancel()
	tok, err := c.OAuth.Exchange(ctx, code)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return nil, c.Classify("exchange_code", re.Response.StatusCode, re.Response.Header, re.Body)
		}
		return nil, ClassifyTransportCtx(ctx, c.Provider, "exchange_code", err)
	}
	return tok, nil
}
