package linkedin

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
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
// (invalid_grant → refresh_token_invalid, invalid_client → the app's credentials
// are wrong), REST errors (401 → token invalid, read from code or from the older
// serviceErrorCode: 65600 invalid, 65601 revoked, 65602 expired; 403 → permission
// or role; 429 → rate limited) and 5xx, 408, non-JSON bodies or a 401 with neither
// code, which come from something other than LinkedIn (provider_unavailable, never
// a dead token). It never panics.
func Classify(op string, status int, header http.Header, body []byte) *providers.Error {
	e := &providers.Error{Provider: "linkedin", Op: op, HTTPStatus: status, Reason: providers.ReasonUnknown}
	e.RequestID = header.Get("X-Li-Uuid")
	var ae apiError
	isJSON := len(body) > 0 && json.Unmarshal(body, &ae) == nil && (ae.Error != "" || ae.Code != "" || ae.Message != "" || ae.Status != 0)
	if isJSON {
		e.Code = ae.ServiceErrorCode
		e.Type = providers.Excerpt(cmp.Or(ae.Error, ae.Code), 100)
		e.Message = providers.Excerpt(cmp.Or(ae.ErrorDescription, ae.Message), 500)
	} else {
		e.Message = providers.Excerpt(string(body), 200)
	}
	switch {
	case status >= 500, status == 0, status == http.StatusRequestTimeout:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
	case status == http.StatusTooManyRequests:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonRateLimited, true, time.Hour
	case !isJSON:
		if status == http.StatusUnauthorized || status < 300 {
			e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
		}
	case ae.Error == "invalid_client":
		e.Detail = providers.DetailAppMisconfigured
	case ae.Error == "invalid_grant" && (op == OpRefresh || strings.Contains(strings.ToLower(ae.ErrorDescription), "refresh token")):
		e.Reason = providers.ReasonRefreshTokenInvalid
	case ae.Error != "":
		e.Reason = providers.ReasonUnknown
	case status == http.StatusUnauthorized:
		switch {
		case ae.Code == "EXPIRED_ACCESS_TOKEN", ae.Code == "" && ae.ServiceErrorCode == 65602:
			e.Reason = providers.ReasonTokenExpired
		case ae.Code == "REVOKED_ACCESS_TOKEN", ae.Code == "" && ae.ServiceErrorCode == 65601:
			e.Reason = providers.ReasonAppRemoved
		case ae.Code == "" && ae.ServiceErrorCode == 0:
			// Neither LinkedIn's code nor its serviceErrorCode: a gateway or proxy
			// answered, which says nothing about the token (as for Meta).
			e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
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
	}
	if ra := header.Get("Retry-After"); ra != "" && e.Retryable {
		if secs, err := strconv.Atoi(ra); err == nil && secs > 0 && secs < 86400 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}
