package meta_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

func graphBody(code, subcode int, typ, msg string) string {
	sub := ""
	if subcode != 0 {
		sub = fmt.Sprintf(`,"error_subcode":%d`, subcode)
	}
	return fmt.Sprintf(`{"error":{"message":%q,"type":%q,"code":%d%s,"fbtrace_id":"AbCdEf123"}}`, msg, typ, code, sub)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		op         string
		status     int
		header     http.Header
		body       string
		reason     providers.Reason
		retryable  bool
		retryAfter time.Duration
		scope      string
		detail     providers.Detail
	}{
		{name: "1 wrong client secret", status: 400, body: graphBody(1, 0, "OAuthException", "Error validating client secret."), reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "101 wrong app id", status: 400, body: graphBody(101, 0, "OAuthException", "Error validating application. Invalid application ID."), reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "190 on debug_token's app token", op: "debug_token", status: 400, body: graphBody(190, 0, "OAuthException", "Invalid OAuth access token signature."), reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "100 on debug_token without an app token", op: "debug_token", status: 400, body: graphBody(100, 0, "OAuthException", "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app"), reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "100 invalid appsecret_proof", status: 400, body: graphBody(100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument"), reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "100 appsecret_proof required", status: 400, body: graphBody(100, 0, "GraphMethodException", "API calls from the server require an appsecret_proof argument"), reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "html 401 from a proxy", status: 401, body: "<html><body>Proxy authentication required</body></html>", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "empty body 408", status: 408, body: "", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "190 no subcode invalid token", status: 400, body: graphBody(190, 0, "OAuthException", "Invalid OAuth access token - Cannot parse access token"), reason: providers.ReasonTokenExpired},
		{name: "190/458 app removed", status: 400, body: graphBody(190, 458, "OAuthException", "Error validating access token: The user has not authorized application 1234."), reason: providers.ReasonAppRemoved},
		{name: "190/459 checkpoint", status: 400, body: graphBody(190, 459, "OAuthException", "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given."), reason: providers.ReasonSecurityCheckpoint},
		{name: "190/460 password changed", status: 400, body: graphBody(190, 460, "OAuthException", "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."), reason: providers.ReasonPasswordChanged},
		{name: "190/463 expired", status: 400, body: graphBody(190, 463, "OAuthException", "Error validating access token: Session has expired on Tuesday, 06-Jan-26 10:00:00 PST. The current time is Wednesday, 07-Jan-26 01:00:00 PST."), reason: providers.ReasonTokenExpired},
		{name: "190/464 unconfirmed", status: 400, body: graphBody(190, 464, "OAuthException", "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user."), reason: providers.ReasonUnconfirmedAccount},
		{name: "190/467 logged out", status: 400, body: graphBody(190, 467, "OAuthException", "Error validating access token: The session is invalid because the user logged out."), reason: providers.ReasonSessionInvalidated},
		{name: "190/492 lost page role", status: 400, body: graphBody(190, 492, "OAuthException", "Error validating access token: The user is not an admin, editor, or moderator of the page."), reason: providers.ReasonLostAssetRole},
		{name: "190 unknown subcode", status: 400, body: graphBody(190, 999, "OAuthException", "Error validating access token"), reason: providers.ReasonTokenExpired},
		{name: "190 on exchange means cannot renew", op: meta.OpExchange, status: 400, body: graphBody(190, 0, "OAuthException", "Error validating access token"), reason: providers.ReasonRefreshTokenInvalid},
		{name: "190/463 on exchange stays expired", op: meta.OpExchange, status: 400, body: graphBody(190, 463, "OAuthException", "Session has expired"), reason: providers.ReasonTokenExpired},
		{name: "102 session key", status: 400, body: graphBody(102, 0, "OAuthException", "Session key invalid or no longer valid"), reason: providers.ReasonSessionInvalidated},
		{name: "10 permission denied", status: 403, body: graphBody(10, 0, "OAuthException", "(#10) This endpoint requires the 'pages_read_engagement' permission"), reason: providers.ReasonMissingPermission, scope: "pages_read_engagement"},
		{name: "200 permission", status: 403, body: graphBody(200, 0, "OAuthException", "(#200) Ad account owner has NOT grant ads_management or ads_read permission"), reason: providers.ReasonMissingPermission, scope: "ads_management"},
		{name: "294 ads management", status: 403, body: graphBody(294, 0, "OAuthException", "(#294) Managing advertisements requires the extended permission ads_management"), reason: providers.ReasonMissingPermission, scope: "ads_management"},
		{name: "299 upper bound", status: 403, body: graphBody(299, 0, "OAuthException", "(#299) permission"), reason: providers.ReasonMissingPermission},
		{name: "300 is not a permission code", status: 400, body: graphBody(300, 0, "OAuthException", "edit failure"), reason: providers.ReasonUnknown},
		{name: "1 unknown error is temporary", status: 500, body: graphBody(1, 0, "OAuthException", "An unknown error occurred"), reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "2 service unavailable", status: 503, body: `{"error":{"message":"Service temporarily unavailable","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"A"}}`, reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "4 app limit with usage header", status: 400, header: http.Header{"X-App-Usage": {`{"call_count":100,"total_cputime":20,"total_time":30}`}}, body: graphBody(4, 0, "OAuthException", "(#4) Application request limit reached"), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "17 user limit", status: 400, body: graphBody(17, 0, "OAuthException", "(#17) User request limit reached"), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "32 page limit", status: 400, body: graphBody(32, 0, "OAuthException", "(#32) Page request limit reached"), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "341 app limit", status: 400, body: graphBody(341, 0, "OAuthException", "(#341) Application limit reached"), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "613 calls exceeded", status: 400, body: graphBody(613, 0, "OAuthException", "(#613) Calls to this api have exceeded the rate limit."), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "80000 ads insights buc", status: 400, body: graphBody(80000, 2446079, "OAuthException", "There have been too many calls from this ad-account."), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "80004 with regain estimate", status: 400, header: http.Header{"X-Business-Use-Case-Usage": {`{"200000000000001":[{"type":"ads_management","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":17}]}`}}, body: graphBody(80004, 2446079, "OAuthException", "There have been too many calls to this ad-account. Wait a bit and try again."), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 17 * time.Minute},
		{name: "80014 upper bound", status: 400, body: graphBody(80014, 0, "OAuthException", "too many calls"), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 5 * time.Minute},
		{name: "80015 outside range", status: 400, body: graphBody(80015, 0, "OAuthException", "other"), reason: providers.ReasonUnknown},
		{name: "rate limit with Retry-After header", status: 400, header: http.Header{"Retry-After": {"120"}}, body: graphBody(4, 0, "OAuthException", "(#4) Application request limit reached"), reason: providers.ReasonRateLimited, retryable: true, retryAfter: 2 * time.Minute},
		{name: "368 policy block", status: 400, body: graphBody(368, 1390008, "OAuthException", "The action attempted has been deemed abusive or is otherwise disallowed"), reason: providers.ReasonPolicyBlocked},
		{name: "100/33 object gone", status: 400, body: graphBody(100, 33, "GraphMethodException", "Unsupported get request. Object with ID '110000000000001' does not exist, cannot be loaded due to missing permissions, or does not support this operation."), reason: providers.ReasonLostAssetRole},
		{name: "100 invalid parameter", status: 400, body: graphBody(100, 0, "OAuthException", "(#100) Tried accessing nonexisting field (foo)"), reason: providers.ReasonUnknown},
		{name: "unknown code with is_transient", status: 400, body: `{"error":{"message":"Please retry","type":"OAuthException","code":12345,"is_transient":true}}`, reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "unknown code", status: 400, body: graphBody(987654, 0, "OAuthException", "something new"), reason: providers.ReasonUnknown},
		{name: "unknown code on 500", status: 500, body: graphBody(987654, 0, "OAuthException", "something new"), reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "code as string", status: 400, body: `{"error":{"message":"x","type":"OAuthException","code":"190","error_subcode":"460"}}`, reason: providers.ReasonPasswordChanged},
		{name: "user title and message kept", status: 400, body: `{"error":{"message":"Invalid parameter","type":"OAuthException","code":368,"error_subcode":1404078,"is_transient":false,"error_user_title":"Temporarily Blocked","error_user_msg":"You're temporarily blocked from doing this.","fbtrace_id":"X"}}`, reason: providers.ReasonPolicyBlocked},
		{name: "html proxy 502", status: 502, body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "html on 200", status: 200, body: "<html><body>Please log in to the hotel wifi</body></html>", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "html 403 from proxy", status: 403, body: "<html><body>Forbidden</body></html>", reason: providers.ReasonUnknown},
		{name: "empty body 503", status: 503, body: "", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "empty body 500 with Retry-After", status: 500, header: http.Header{"Retry-After": {"7"}}, body: "", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 7 * time.Second},
		{name: "empty body 400", status: 400, body: "", reason: providers.ReasonUnknown},
		{name: "empty body 401", status: 401, body: "", reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "plain 429", status: 429, body: "slow down", reason: providers.ReasonRateLimited, retryable: true, retryAfter: time.Minute},
		{name: "json without error", status: 500, body: `{"data":[]}`, reason: providers.ReasonProviderUnavailable, retryable: true, retryAfter: 30 * time.Second},
		{name: "error is a string", status: 400, body: `{"error":"invalid_request"}`, reason: providers.ReasonUnknown},
		{name: "truncated json", status: 400, body: `{"error":{"message":"x","code":19`, reason: providers.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := meta.Classify(tt.op, tt.status, tt.header, []byte(tt.body))
			if e.Reason != tt.reason {
				t.Errorf("reason = %s, want %s (%v)", e.Reason, tt.reason, e)
			}
			if e.Retryable != tt.retryable {
				t.Errorf("retryable = %v, want %v", e.Retryable, tt.retryable)
			}
			if e.RetryAfter != tt.retryAfter {
				t.Errorf("retry after = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			if e.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", e.Detail, tt.detail)
			}
			if tt.scope != "" && e.Scope != tt.scope {
				t.Errorf("scope = %q, want %q", e.Scope, tt.scope)
			}
			if e.Provider != "meta" || e.HTTPStatus != tt.status {
				t.Errorf("provider/status = %s/%d", e.Provider, e.HTTPStatus)
			}
		})
	}
}

func TestClassifyKeepsSupportFields(t *testing.T) {
	body := `{"error":{"message":"Temporarily blocked","type":"OAuthException","code":368,"error_subcode":1404078,"is_transient":false,"error_user_title":"Blocked","error_user_msg":"You're temporarily blocked.","fbtrace_id":"AzB9"}}`
	e := meta.Classify("me", 400, http.Header{"X-Fb-Request-Id": {"req-1"}}, []byte(body))
	if e.Code != 368 || e.Subcode != 1404078 || e.Type != "OAuthException" || e.FBTraceID != "AzB9" ||
		e.UserTitle != "Blocked" || e.UserMessage != "You're temporarily blocked." || e.RequestID != "req-1" {
		t.Errorf("fields not kept: %+v", *e)
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		name    string
		header  http.Header
		percent int
		wait    time.Duration
	}{
		{name: "none", header: http.Header{}},
		{name: "app usage", header: http.Header{"X-App-Usage": {`{"call_count":81,"total_cputime":5,"total_time":12}`}}, percent: 81},
		{name: "ad account usage", header: http.Header{"X-Ad-Account-Usage": {`{"acc_id_util_pct":92.5}`}}, percent: 92},
		{name: "buc", header: http.Header{"X-Business-Use-Case-Usage": {`{"123":[{"type":"ads_insights","call_count":40,"total_cputime":95,"total_time":3,"estimated_time_to_regain_access":3}]}`}}, percent: 95, wait: 3 * time.Minute},
		{name: "garbage", header: http.Header{"X-App-Usage": {`nope`}, "X-Business-Use-Case-Usage": {`[1,2]`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := meta.ParseUsage(tt.header)
			if tt.name == "buc" && (u.Objects["123"].Percent != 95 || u.App != 0) {
				t.Errorf("per-object usage: %+v", u)
			}
			if u.Percent != tt.percent || u.RegainWait != tt.wait {
				t.Errorf("got %+v, want %d%% %v", u, tt.percent, tt.wait)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(400, `{"error":{"code":190,"error_subcode":463}}`, `{"call_count":100}`, `{"1":[{"estimated_time_to_regain_access":5}]}`, "60")
	f.Add(502, "<html>bad gateway</html>", "", "", "")
	f.Add(200, "", "x", "y", "-1")
	f.Add(400, `{"error":{"code":"1e400","error_subcode":null,"is_transient":"yes","message":7}}`, `{"call_count":"a"}`, `{"a":"b"}`, "99999999999999999999")
	f.Add(400, `{"error":{"code":-9223372036854775808,"error_subcode":1.5e300}}`, "", "", "")
	f.Fuzz(func(t *testing.T, status int, body, appUsage, buc, retryAfter string) {
		h := http.Header{}
		h.Set("X-App-Usage", appUsage)
		h.Set("X-Business-Use-Case-Usage", buc)
		h.Set("Retry-After", retryAfter)
		e := meta.Classify("op", status, h, []byte(body))
		if e == nil || !e.Reason.Valid() {
			t.Fatalf("invalid result %v", e)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative retry after %v", e.RetryAfter)
		}
		_ = e.Error()
	})
}
