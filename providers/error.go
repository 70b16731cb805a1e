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
	// Detail refines the reason (DetailAppMisconfigured, DetailCanceled, ...).
	Detail Detail
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
	// Message is the provider's technical message, redacted when the Error is built
	// (NewError, Excerpt) and again when it is printed.
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
	if e.Detail != "" {
		b.WriteString(" [" + string(e.Detail) + "]")
	}
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

// secretNames are the parameter and JSON field names that carry secrets.
const secretNames = `access_token|input_token|fb_exchange_token|refresh_token|client_secret|appsecret_proof|code|token|id_token`

// secretParam matches query or form parameters that carry secrets, also inside a
// URL-encoded URL (%3Faccess_token%3D…). The \b keeps names such as error_code
// readable.
var secretParam = regexp.MustCompile(`(?i)((?:\b|%3F|%26)(?:` + secretNames + `)(?:=|%3D))[^&\s"'\\]*`)

// fieldNames adds the spellings of other languages and of Go structs (AccessToken,
// RefreshToken, ClientSecret) to secretNames.
const fieldNames = secretNames + `|accesstoken|refreshtoken|clientsecret|app_?secret`

// secretField matches JSON (or single-quoted) fields that carry secrets, also
// inside an escaped JSON string (\"access_token\":\"…\").
var secretField = regexp.MustCompile(`(?i)(\\?["'](?:` + fieldNames + `)\\?["']\s*:\s*\\?["'])[^"'\\]*`)

// secretKV matches key: value and key=value pairs with an unquoted value (YAML,
// logfmt, Go's %+v). It leaves out code and token, which Graph's messages use as
// plain words ("access token: Session has expired").
var secretKV = regexp.MustCompile(`(?i)(\b(?:access_?token|refresh_?token|input_token|fb_exchange_token|id_token|client_?secret|app_?secret|appsecret_proof)["']?\s*[:=]\s*["']?)[^\s"',;&}\\]+`)

// authorization matches an Authorization header with any scheme (Bearer, OAuth,
// Basic) or none.
var authorization = regexp.MustCompile(`(?i)(\bauthorization["']?\s*[:=]\s*["']?(?:(?:bearer|oauth|basic|token)\s+)?)[^\s"',;]+`)

// bearer matches a bearer credential in a header dump.
var bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=|-]+`)

// appToken matches Meta's app token "{app-id}|{app-secret}" (also URL-encoded),
// keeping the app id.
var appToken = regexp.MustCompile(`(?i)(\b\d{5,20}(?:\||%7C))[A-Za-z0-9_-]{16,}`)

// bareToken matches Meta (EAA…) and LinkedIn (AQ…) tokens wherever they stand,
// also right after an underscore (token_AQV…), where \b does not apply.
var bareToken = regexp.MustCompile(`(^|[^A-Za-z0-9])(?:EAA[A-Za-z0-9]{20,}|AQ[A-Za-z0-9_-]{30,})`)

// Redact removes secret parameters and fields (in query strings, encoded URLs,
// JSON, YAML and Go's %+v), Authorization credentials, app tokens and bare Meta and
// LinkedIn tokens from s.
func Redact(s string) string {
	s = secretParam.ReplaceAllString(s, "${1}REDACTED")
	s = secretField.ReplaceAllString(s, "${1}REDACTED")
	s = secretKV.ReplaceAllString(s, "${1}REDACTED")
	s = authorization.ReplaceAllString(s, "${1}REDACTED")
	s = bearer.ReplaceAllString(s, "${1}REDACTED")
	s = appToken.ReplaceAllString(s, "${1}REDACTED")
	return bareToken.ReplaceAllString(s, "${1}REDACTED")
}

var tags = regexp.MustCompile(`<[^>]*>`)

// Excerpt turns a provider's text (an error message, a proxy's HTML page) into a
// short, redacted, single-line excerpt of at most n bytes plus an ellipsis. Every
// provider text that goes into an Error passes through it.
func Excerpt(s string, n int) string {
	if len(s) > 4096 {
		s = s[:4096]
	}
	s = strings.Join(strings.Fields(tags.ReplaceAllString(s, " ")), " ")
	s = Redact(s)
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// NewError returns an Error whose message is already redacted and shortened, and
// which is retryable when the reason is transient.
func NewError(provider, op string, reason Reason, message string) *Error {
	return &Error{Provider: provider, Op: op, Reason: reason, Retryable: reason.Transient(),
		Message: Excerpt(message, 500)}
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
