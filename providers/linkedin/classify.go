package linkedin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/relink/relink/providers"
)

// Ops that change how a failure is read.
const (
	OpRefresh      = "refresh_token"
	OpRefreshAsset = "refresh_asset"
)

type apiError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode"`
	Code             string `json:"code"`
	Message          string `json:"message"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// Classify maps a LinkedIn response to a classified error: OAuth errors
// (invalid_grant → refresh_token_invalid), REST errors (401 → token invalid,
// 403 → permission or role, 429 → rate limited) and 5xx or non-JSON bodies
// (provider_unavailable). It never panics.
func Classify(op string, status int, header http.Header, body []byte) *providers.Error {
	e := &providers.Error{Provider: "linkedin", Op: op, HTTPStatus: status, Reason: providers.ReasonUnknown}
	if header != nil {
		e.RequestID = header.Get("X-Li-Uuid")
	}
	var ae apiError
	isJSON := len(body) > 0 && json.Unmarshal(body, &ae) == nil
	if isJSON {
		e.Code = ae.ServiceErrorCode
		e.Type = firstNonEmpty(ae.Error, ae.Code)
		e.Message = truncate(firstNonEmpty(ae.ErrorDescription, ae.Message), 500)
	} else {
		e.Message = truncate(strings.Join(strings.Fields(string(body)), " "), 200)
	}
	switch {
	case ae.Error == "invalid_grant" && (op == OpRefresh || strings.Contains(strings.ToLower(ae.ErrorDescription), "refresh token")):
		e.Reason = providers.ReasonRefreshTokenInvalid
	case ae.Error != "":
		e.Reason = providers.ReasonUnknown
	case status == http.StatusUnauthorized:
		switch ae.Code {
		case "EXPIRED_ACCESS_TOKEN":
			e.Reason = providers.ReasonTokenExpired
		case "REVOKED_ACCESS_TOKEN":
			e.Reason = providers.ReasonAppRemoved
		default:
			e.Reason = providers.ReasonSessionInvalidated
		}
	case status == http.StatusForbidden:
		switch {
		case ae.Code == "ACCOUNT_RESTRICTED":
			e.Reason = providers.ReasonPolicyBlocked
		case strings.HasPrefix(ae.Message, "Not enough permissions"):
			e.Reason = providers.ReasonMissingPermission
		case op == OpRefreshAsset || ae.Code == "ACCESS_DENIED":
			e.Reason = providers.ReasonLostAssetRole
		}
	case status == http.StatusTooManyRequests:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonRateLimited, true, time.Hour
	case status >= 500, status >= 200 && status < 300 && !isJSON:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
	}
	if ra := header.Get("Retry-After"); ra != "" && e.Retryable {
		if secs, err := strconv.Atoi(ra); err == nil && secs > 0 && secs < 86400 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

// ClassifyTransport maps a failure to reach LinkedIn to provider_unavailable.
func ClassifyTransport(op string, err error) *providers.Error {
	if pe, ok := providers.AsError(err); ok {
		return pe
	}
	e := &providers.Error{Provider: "linkedin", Op: op, Reason: providers.ReasonProviderUnavailable,
		Retryable: true, RetryAfter: 30 * time.Second, Err: providers.SanitizeErr(err)}
	var ne net.Error
	switch {
	case err == nil:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonUnknown, false, 0
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Message = "timed out"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.Message = "connection reset"
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
