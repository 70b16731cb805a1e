package meta

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relink/relink/providers"
)

// GraphError is the "error" object of a Graph API error response.
type GraphError struct {
	Message     string          `json:"message"`
	Type        string          `json:"type"`
	Code        int             `json:"code"`
	Subcode     int             `json:"error_subcode"`
	IsTransient bool            `json:"is_transient"`
	UserTitle   string          `json:"error_user_title"`
	UserMessage string          `json:"error_user_msg"`
	FBTraceID   string          `json:"fbtrace_id"`
	ErrorData   json.RawMessage `json:"error_data,omitempty"`
	codePresent bool
}

// UnmarshalJSON accepts codes sent as numbers or numeric strings, as proxies sometimes do.
func (g *GraphError) UnmarshalJSON(b []byte) error {
	var raw struct {
		Message      string          `json:"message"`
		Type         string          `json:"type"`
		Code         json.RawMessage `json:"code"`
		Subcode      json.RawMessage `json:"error_subcode"`
		DebugSubcode json.RawMessage `json:"subcode"`
		IsTransient  json.RawMessage `json:"is_transient"`
		UserTitle    string          `json:"error_user_title"`
		UserMessage  string          `json:"error_user_msg"`
		FBTraceID    string          `json:"fbtrace_id"`
		ErrorData    json.RawMessage `json:"error_data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*g = GraphError{Message: raw.Message, Type: raw.Type, UserTitle: raw.UserTitle,
		UserMessage: raw.UserMessage, FBTraceID: raw.FBTraceID, ErrorData: raw.ErrorData}
	g.Code, g.codePresent = jsonInt(raw.Code)
	g.Subcode, _ = jsonInt(raw.Subcode)
	if g.Subcode == 0 { // debug_token's data.error names it "subcode"
		g.Subcode, _ = jsonInt(raw.DebugSubcode)
	}
	s := strings.Trim(string(raw.IsTransient), `"`)
	g.IsTransient = s == "true" || s == "1"
	return nil
}

func jsonInt(raw json.RawMessage) (int, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > -1e9 && f < 1e9 {
		return int(f), true
	}
	return 0, false
}

// Ops that change how an error is read: an invalid input to the long-lived exchange
// means the token can no longer be renewed; a top-level token error on debug_token
// concerns the app token Relink sent, not the token inspected.
const (
	OpExchange   = "exchange_token"
	OpDebugToken = "debug_token"
)

var scopeInMessage = regexp.MustCompile(`\b(ads_management|ads_read|business_management|pages_[a-z_]+|instagram_[a-z_]+|read_insights|leads_retrieval|catalog_management|public_profile|email)\b`)

// Classify maps a Graph API response (status, headers, body) to a classified error.
// It never panics, whatever the body holds.
func Classify(op string, status int, header http.Header, body []byte) *providers.Error {
	e := &providers.Error{Provider: "meta", Op: op, HTTPStatus: status, Reason: providers.ReasonUnknown}
	if header != nil {
		e.RequestID = header.Get("X-FB-Request-ID")
		if e.RequestID == "" {
			e.RequestID = header.Get("x-fb-trace-id")
		}
	}
	var env struct {
		Error *GraphError `json:"error"`
	}
	if len(body) > 0 && json.Unmarshal(body, &env) == nil && env.Error != nil && (env.Error.codePresent || env.Error.Message != "") {
		ApplyGraphError(e, *env.Error)
		statusOutranksCode(e, env.Error.codePresent)
	} else {
		classifyStatus(e, status, body)
	}
	applyUsageHeaders(e, header)
	return e
}

// ApplyGraphError fills e from a Graph error object (the response's "error" or
// debug_token's data.error) and names the reason.
func ApplyGraphError(e *providers.Error, g GraphError) {
	e.Code, e.Subcode, e.Type = g.Code, g.Subcode, providers.Excerpt(g.Type, 100)
	e.Message = providers.Excerpt(g.Message, 500)
	e.UserTitle, e.UserMessage = providers.Excerpt(g.UserTitle, 200), providers.Excerpt(g.UserMessage, 500)
	e.FBTraceID = providers.Excerpt(g.FBTraceID, 64)
	e.Transient = g.IsTransient
	if appCredentialError(e.Op, g) {
		e.Reason, e.Retryable, e.Detail = providers.ReasonUnknown, false, providers.DetailAppMisconfigured
		return
	}
	e.Reason, e.Retryable = reasonForCode(e.Op, g.Code, g.Subcode, g.IsTransient)
	if e.Reason == providers.ReasonMissingPermission {
		e.Scope = scopeInMessage.FindString(g.Message)
	}
	if e.Reason == providers.ReasonUnknown && e.HTTPStatus >= 500 {
		e.Reason, e.Retryable = providers.ReasonProviderUnavailable, true
	}
	switch e.Reason {
	case providers.ReasonRateLimited:
		e.RetryAfter = 5 * time.Minute
	case providers.ReasonProviderUnavailable:
		e.RetryAfter = 30 * time.Second
	}
}

// statusOutranksCode corrects what a Graph-shaped error body says when the status
// tells more: a 5xx or 408 is an outage and a 429 a rate limit, whatever code a
// gateway or a failing backend put in the body (Meta's own rate limits stay rate
// limits). A 401 without a code came from something other than Graph. None of them
// is ever read as a dead token.
func statusOutranksCode(e *providers.Error, codePresent bool) {
	unavailable := func() {
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
		e.Detail, e.Scope = "", ""
	}
	switch {
	case e.HTTPStatus == http.StatusTooManyRequests:
		if e.Reason != providers.ReasonRateLimited {
			e.Reason, e.Retryable, e.RetryAfter = providers.ReasonRateLimited, true, time.Minute
			e.Detail, e.Scope = "", ""
		}
	case e.HTTPStatus >= 500, e.HTTPStatus == http.StatusRequestTimeout:
		if !e.Reason.Transient() {
			unavailable()
		}
	case e.HTTPStatus == http.StatusUnauthorized && !codePresent:
		unavailable()
	}
}

// appCredentialError reports whether Graph rejected Relink's own app id or secret:
// a wrong secret on the token endpoint (code 1, "Error validating client secret"),
// an unknown app id (101), an appsecret_proof made with a wrong secret or missing
// (100 naming appsecret_proof), or the app token of a debug_token call (190, or
// 100 asking for an app token). Retrying cannot help and no user can fix it.
func appCredentialError(op string, g GraphError) bool {
	msg := strings.ToLower(g.Message)
	switch {
	case g.Code == 101:
		return true
	case g.Code == 1 && strings.Contains(msg, "client secret"):
		return true
	case op == OpDebugToken && g.Code == 190:
		return true
	case op == OpDebugToken && g.Code == 100 && strings.Contains(msg, "app access token"):
		return true
	case g.Code == 100 && strings.Contains(msg, "appsecret_proof"):
		// The proof is derived from the app secret: a wrong one, or a missing one
		// when the app requires it, is Relink's configuration.
		return true
	}
	return false
}

func reasonForCode(op string, code, subcode int, transient bool) (providers.Reason, bool) {
	switch {
	case code == 190 || code == 102:
		switch subcode {
		case 458:
			return providers.ReasonAppRemoved, false
		case 459:
			return providers.ReasonSecurityCheckpoint, false
		case 460:
			return providers.ReasonPasswordChanged, false
		case 463:
			return providers.ReasonTokenExpired, false
		case 464:
			return providers.ReasonUnconfirmedAccount, false
		case 467:
			return providers.ReasonSessionInvalidated, false
		case 492:
			return providers.ReasonLostAssetRole, false
		}
		if op == OpExchange {
			return providers.ReasonRefreshTokenInvalid, false
		}
		if code == 102 {
			return providers.ReasonSessionInvalidated, false
		}
		return providers.ReasonTokenExpired, false
	case code == 10 || (code >= 200 && code <= 299):
		return providers.ReasonMissingPermission, false
	case code == 100 && subcode == 33:
		// "Object with ID ... does not exist, cannot be loaded due to missing permissions"
		return providers.ReasonLostAssetRole, false
	case code == 1 || code == 2:
		return providers.ReasonProviderUnavailable, true
	case code == 4 || code == 17 || code == 32 || code == 341 || code == 613 || (code >= 80000 && code <= 80014):
		return providers.ReasonRateLimited, true
	case code == 368:
		return providers.ReasonPolicyBlocked, false
	case transient:
		return providers.ReasonProviderUnavailable, true
	}
	return providers.ReasonUnknown, false
}

// classifyStatus reads a response without a Graph error object: a proxy, a load
// balancer or a captive portal answered, not Meta. Such failures are never read as
// a dead token.
func classifyStatus(e *providers.Error, status int, body []byte) {
	e.Message = providers.Excerpt(string(body), 200)
	switch {
	case status == http.StatusTooManyRequests:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonRateLimited, true, time.Minute
	case status >= 500 || status == 0 || status == http.StatusRequestTimeout || status == http.StatusUnauthorized:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
	case status >= 200 && status < 300:
		e.Reason, e.Retryable, e.RetryAfter = providers.ReasonProviderUnavailable, true, 30*time.Second
	}
}

// Usage is what Meta's usage headers say: Percent is the highest percentage of any
// header (x-app-usage, x-ad-account-usage, x-business-use-case-usage), App the
// app-wide one, Objects the per business object (ad account, Page) ones.
type Usage struct {
	Percent    int
	RegainWait time.Duration
	App        int
	Objects    map[string]ObjectUsage
}

// ObjectUsage is the usage of one business object from x-business-use-case-usage.
type ObjectUsage struct {
	Percent    int
	RegainWait time.Duration
}

// ParseUsage reads Meta's usage headers. Unknown or malformed headers read as zero.
func ParseUsage(h http.Header) Usage {
	var u Usage
	if h == nil {
		return u
	}
	for _, name := range []string{"X-App-Usage", "X-Ad-Account-Usage"} {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(h.Get(name)), &m) == nil {
			for k, v := range m {
				n, _ := jsonInt(v)
				if k == "acc_id_util_pct" || k == "call_count" || k == "total_cputime" || k == "total_time" {
					u.Percent = max(u.Percent, n)
					if name == "X-App-Usage" {
						u.App = max(u.App, n)
					}
				}
			}
		}
	}
	var buc map[string][]map[string]json.RawMessage
	if json.Unmarshal([]byte(h.Get("X-Business-Use-Case-Usage")), &buc) == nil {
		for id, list := range buc {
			var ou ObjectUsage
			for _, m := range list {
				for _, k := range []string{"call_count", "total_cputime", "total_time"} {
					n, _ := jsonInt(m[k])
					ou.Percent = max(ou.Percent, n)
				}
				mins, _ := jsonInt(m["estimated_time_to_regain_access"])
				if d := time.Duration(mins) * time.Minute; d > ou.RegainWait {
					ou.RegainWait = d
				}
			}
			ou.Percent, ou.RegainWait = max(ou.Percent, 0), max(ou.RegainWait, 0)
			if u.Objects == nil {
				u.Objects = map[string]ObjectUsage{}
			}
			u.Objects[id] = ou
			u.Percent = max(u.Percent, ou.Percent)
			u.RegainWait = max(u.RegainWait, ou.RegainWait)
		}
	}
	u.Percent, u.App, u.RegainWait = max(u.Percent, 0), max(u.App, 0), max(u.RegainWait, 0)
	return u
}

func applyUsageHeaders(e *providers.Error, h http.Header) {
	if h == nil {
		return
	}
	u := ParseUsage(h)
	if u.RegainWait > 0 && e.Reason == providers.ReasonRateLimited {
		e.RetryAfter = u.RegainWait
	}
	if ra := h.Get("Retry-After"); ra != "" && e.Retryable {
		if secs, err := strconv.Atoi(ra); err == nil && secs > 0 && secs < 86400 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
}
