package providers

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Error is a classified provider failure. Every provider call returns one (wrapped or
// not) when it fails. It carries what support staff need (codes, trace ids) and never
// a token: Error() and the provider message are redacted.
type Error struct {
	// Provider is "meta" or "linkedin".
	Provider string
	// Op names the call that failed, such as "debug_token" or "refresh_asset".
	Op string
	// Reason is the provider-independent explanation.
	Reason Reason
	// Retryable says whether trying the same call later may succeed.
	Retryable bool
	// RetryAfter is how long to wait before retrying, when the provider said so.
	RetryAfter time.Duration
	// HTTPStatus is the response status, 0 for network failures.
	HTTPStatus int
	// Code and Subcode are the provider's error code and subcode (Graph's error.code
	// and error.error_subcode; LinkedIn's serviceErrorCode).
	Code    int
	Subcode int
	// Type is the provider's error type (OAuthException, invalid_grant, ...).
	Type string
	// Message is the provider's technical message, redacted.
	Message string
	// UserTitle and UserMessage are Meta's error_user_title and error_user_msg.
	UserTitle   string
	UserMessage string
	// Transient is Graph's is_transient flag.
	Transient bool
	// Scope names the missing permission when the provider said which.
	Scope string
	// FBTraceID is Meta's fbtrace_id; RequestID is the provider's request id header.
	FBTraceID string
	RequestID string
	// Err is the underlying cause (network error), with URLs redacted.
	Err error
}

// Error describes the failure for logs. It never includes a token.
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(string(e.Reason))
	var details []string
	if e.HTTPStatus != 0 {
		details = append(details, fmt.Sprintf("http %d", e.HTTPStatus))
	}
	if e.Code != 0 {
		c := fmt.Sprintf("code %d", e.Code)
		if e.Subcode != 0 {
			c += fmt.Sprintf("/%d", e.Subcode)
		}
		details = append(details, c)
	}
	if e.Type != "" {
		details = append(details, e.Type)
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(Redact(e.Message))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(Redact(e.Err.Error()))
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " [fbtrace_id %s]", e.FBTraceID)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// AsError finds the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// ReasonOf returns the reason of the *Error in err's chain, or ReasonUnknown.
func ReasonOf(err error) Reason {
	if pe, ok := AsError(err); ok && pe.Reason != "" {
		return pe.Reason
	}
	return ReasonUnknown
}

// secretParam matches query or form parameters that carry secrets.
var secretParam = regexp.MustCompile(`(?i)((?:access_token|input_token|fb_exchange_token|refresh_token|client_secret|appsecret_proof|code|token|id_token)=)[^&\s"']*`)

// bearer matches a bearer credential in a header dump.
var bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=|-]+`)

// Redact removes secret query parameters and bearer credentials from s. It is applied
// to every string an Error prints.
func Redact(s string) string {
	s = secretParam.ReplaceAllString(s, "${1}REDACTED")
	return bearer.ReplaceAllString(s, "${1}REDACTED")
}

// SanitizeErr returns err with any request URL inside a *url.Error redacted, so that
// wrapping a transport error never leaks the access token from the query string.
func SanitizeErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: Redact(ue.URL), Err: ue.Err}
	}
	return err
}
