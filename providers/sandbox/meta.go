package sandbox

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const metaAppName = "Relink (sandbox)"

// Scope families: an endpoint fails when the token lacks all of its family, or when
// a missing_permission fault names one of them.
var (
	pageScopes = []string{"pages_show_list", "pages_read_engagement", "pages_manage_metadata", "pages_manage_ads"}
	igScopes   = []string{"instagram_basic", "instagram_manage_insights"}
	adsScopes  = []string{"ads_read", "ads_management", "business_management"}
)

// MetaDefaultScopes is what the sandbox grants when a dialog asks for no scope.
var MetaDefaultScopes = []string{"public_profile", "email"}

func graphError(status, code, subcode int, typ, msg string) *response {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": randomToken("A", 10)}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if code == 2 {
		e["is_transient"] = true
	} else {
		e["is_transient"] = false
	}
	resp := jsonResp(status, map[string]any{"error": e})
	// Graph names the OAuth error only when it concerns the token: invalid_token
	// for the 190 class, insufficient_scope for permission errors.
	challenge := ""
	switch {
	case code == 190 || code == 102:
		challenge = "invalid_token"
	case code == 10 || (code >= 200 && code <= 299):
		challenge = "insufficient_scope"
	}
	if challenge != "" {
		resp.header.Set("WWW-Authenticate", `OAuth "Facebook Platform" "`+challenge+`" "`+strings.ReplaceAll(msg, `"`, `'`)+`"`)
	}
	return resp
}

func (s *Sandbox) serveGraph(w http.ResponseWriter, r *http.Request, path string) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		_ = r.ParseMultipartForm(1 << 20) // how SDKs post a batch with attached files
	}
	_ = r.ParseForm()
	if path == "/" && r.Method == http.MethodPost && r.Form.Has("batch") {
		s.serveBatch(w, r)
		return
	}
	s.write(w, r, s.graphResponse(r, path))
}

// graphResponse answers one Graph request, standalone or as an operation of a batch:
// both go through the same faults, limits and call counts.
func (s *Sandbox) graphResponse(r *http.Request, path string) *response {
	var resp *response
	switch path {
	case "/oauth/access_token":
		resp = s.metaTokenEndpoint(r)
	case "/debug_token":
		resp = s.metaDebugToken(r)
	default:
		resp = s.metaNode(r, path)
	}
	setGraphHeaders(resp)
	return resp
}

// setGraphHeaders adds the headers every Graph answer carries.
func setGraphHeaders(resp *response) {
	resp.header.Set("X-Fb-Trace-Id", randomToken("", 10))
	resp.header.Set("X-Fb-Request-Id", randomToken("A", 12))
	resp.header.Set("Facebook-Api-Version", "v24.0")
}

func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "OAuth ", "bearer "} {
		if strings.HasPrefix(h, p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

// metaTokenProblem says why a token is invalid regardless of faults. s.mu held.
func (s *Sandbox) metaTokenProblem(t *token, now time.Time) (code, subcode int, msg string) {
	if t.kind == "app" {
		return 0, 0, ""
	}
	g := s.grantFor("meta", t.user)
	if g == nil || t.seq < g.removedSeq || t.revoked {
		return 190, 458, "Error validating access token: The user has not authorized application " + s.opts.MetaAppID + "."
	}
	if !t.expires.IsZero() && !now.Before(t.expires) {
		return 190, 463, "Error validating access token: Session has expired on " + fbTime(t.expires) + ". The current time is " + fbTime(now) + "."
	}
	if !now.Before(g.grantedAt.Add(MetaDataAccess)) {
		return 190, 463, "Error validating access token: Data access has expired for this user on " + fbTime(g.grantedAt.Add(MetaDataAccess)) + ". The current time is " + fbTime(now) + "."
	}
	return 0, 0, ""
}

func fbTime(t time.Time) string {
	return t.UTC().Format("Monday, 02-Jan-06 15:04:05 MST")
}

// metaTokenFaults lists the faults that make a token invalid, in precedence order.
var metaTokenFaults = []string{"app_removed", "password_changed", "security_checkpoint",
	"unconfirmed_account", "session_invalidated", "token_expired"}

func (s *Sandbox) metaFaultResponse(f *Fault, now time.Time) *response {
	switch f.Fault {
	case "provider_unavailable":
		r := graphError(503, 2, 0, "OAuthException", "Service temporarily unavailable")
		if f.Mode != ModeUnavailable {
			r.mode = f.Mode
		}
		return r
	case "rate_limited":
		if f.Asset != "" && s.isMetaAdAccount(f.User, f.Asset) {
			r := graphError(400, 80004, 2446079, "OAuthException", "There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.")
			r.header.Set("X-Business-Use-Case-Usage", `{"`+f.Asset+`":[{"type":"ads_management","call_count":100,"total_cputime":42,"total_time":57,"estimated_time_to_regain_access":15}]}`)
			return r
		}
		if f.Asset != "" {
			r := graphError(400, 32, 0, "OAuthException", "(#32) Page request limit reached")
			r.header.Set("X-Business-Use-Case-Usage", `{"`+f.Asset+`":[{"type":"pages","call_count":100,"total_cputime":30,"total_time":40,"estimated_time_to_regain_access":10}]}`)
			return r
		}
		// A user's limit: x-app-usage (added by metaNode) keeps reporting the app's
		// own usage, which this user alone does not exhaust.
		return graphError(400, 17, 0, "OAuthException", "(#17) User request limit reached")
	case "app_removed":
		return graphError(400, 190, 458, "OAuthException", "Error validating access token: The user has not authorized application "+s.opts.MetaAppID+".")
	case "password_changed":
		return graphError(400, 190, 460, "OAuthException", "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.")
	case "security_checkpoint":
		return graphError(400, 190, 459, "OAuthException", "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.")
	case "unconfirmed_account":
		return graphError(400, 190, 464, "OAuthException", "Error validating access token: Sessions for the user  are not allowed because the user is not a confirmed user.")
	case "session_invalidated":
		return graphError(400, 190, 467, "OAuthException", "Error validating access token: The session is invalid because the user logged out.")
	case "token_expired":
		return graphError(400, 190, 463, "OAuthException", "Error validating access token: Session has expired on "+fbTime(f.At)+". The current time is "+fbTime(now)+".")
	case "policy_blocked":
		r := graphError(400, 368, 1404078, "OAuthException", "The action attempted has been deemed abusive or is otherwise disallowed")
		body := r.body.(map[string]any)["error"].(map[string]any)
		body["error_user_title"] = "Temporarily Blocked"
		body["error_user_msg"] = "This account is temporarily restricted because of activity that goes against Meta's Advertising Standards. Review Account Quality to learn more."
		return r
	case "lost_asset_role":
		if s.isMetaAdAccount(f.User, f.Asset) {
			return objectMissing("act_" + f.Asset)
		}
		return graphError(400, 190, 492, "OAuthException", "Error validating access token: The user is not an admin, editor, or moderator of the page "+f.Asset+".")
	case "refresh_token_invalid":
		return graphError(400, 190, 0, "OAuthException", "Error validating access token: This access token can no longer be exchanged; the user must log in again.")
	case "unknown":
		return graphError(400, 3, 0, "OAuthException", "(#3) Application does not have the capability to make this API call.")
	}
	return nil
}

func objectMissing(id string) *response {
	return graphError(400, 100, 33, "GraphMethodException", "Unsupported get request. Object with ID '"+id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api")
}

func missingPermission(scope string) *response {
	if strings.HasPrefix(scope, "pages_") || strings.HasPrefix(scope, "instagram_") {
		return graphError(403, 10, 0, "OAuthException", "(#10) This endpoint requires the '"+scope+"' permission.")
	}
	return graphError(403, 200, 0, "OAuthException", "(#200) Requires "+scope+" permission to manage the object")
}

func (s *Sandbox) isMetaAdAccount(user, id string) bool {
	u := s.metaUser(user)
	if u == nil {
		for _, u := range s.metaUsers {
			if findAdAccount(u, id) != nil {
				return true
			}
		}
		return false
	}
	return findAdAccount(u, id) != nil
}

func findAdAccount(u *metaUser, id string) *metaAdAccount {
	id = trimAct(id)
	for _, a := range u.AdAccounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func findPage(u *metaUser, id string) *metaPage {
	for _, p := range u.Pages {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// effectiveScopes is what the token grants now: the scopes of its own login that
// the user still grants (a later login may have declined some, DELETE
// /me/permissions/{name} removed others), minus any missing_permission fault that
// hits it. s.mu held.
func (s *Sandbox) effectiveScopes(provider string, t *token, assets []string) (scopes []string, declined string) {
	scopes = t.scopes
	if g := s.grantFor(provider, t.user); g != nil {
		scopes = minus(scopes, g.revoked)
		scopes = minus(scopes, minus(scopes, g.scopes)) // keep only what the latest grant holds
	}
	if f := s.hit(provider, t.user, assets, t.seq, "missing_permission"); f != nil {
		return minus(scopes, []string{f.Scope}), f.Scope
	}
	return scopes, ""
}

// checkScopes fails the call when the token lacks every scope of family, or a
// missing_permission fault names one of them (or names a scope no family covers).
func checkScopes(scopes []string, declined string, family []string) string {
	if declined != "" && (contains(family, declined) || (!contains(pageScopes, declined) && !contains(igScopes, declined) && !contains(adsScopes, declined) && declined != "email" && declined != "public_profile")) {
		return declined
	}
	if len(family) == 0 {
		return ""
	}
	for _, f := range family {
		if contains(scopes, f) {
			return ""
		}
	}
	return family[0]
}

// metaNode serves authenticated Graph reads: /me, /me/permissions, /me/accounts,
// /me/adaccounts, /act_{id}, /act_{id}/adspixels and /{page|instagram|dataset id}.
func (s *Sandbox) metaNode(r *http.Request, path string) (resp *response) {
	tokStr := r.Form.Get("access_token")
	if tokStr == "" {
		tokStr = bearerToken(r)
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	endpoint := r.Method + " " + normalizeGraph(parts)

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	t := s.tokens[tokStr]
	user := ""
	if t != nil {
		user = t.user
	}
	s.countCall("meta", endpoint, tokStr, user)
	defer func() {
		if user != "" && resp.header.Get("X-App-Usage") == "" {
			resp.header.Set("X-App-Usage", s.appUsageHeader(now))
		}
	}()
	if tokStr == "" {
		return graphError(400, 2500, 0, "OAuthException", "An active access token must be used to query information about the current user.")
	}
	if t == nil || t.provider != "meta" {
		return graphError(400, 190, 0, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
	}
	if t.kind == "app" {
		return graphError(400, 2500, 0, "OAuthException", "An active access token must be used to query information about the current user.")
	}
	if proof := r.Form.Get("appsecret_proof"); proof != "" {
		if !hmac.Equal([]byte(proof), []byte(AppSecretProof(s.opts.MetaAppSecret, tokStr))) {
			return graphError(400, 100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument")
		}
	} else if !s.opts.AllowMissingAppSecretProof {
		return graphError(400, 100, 0, "GraphMethodException", "API calls from the server require an appsecret_proof argument")
	}
	if resp := s.metaUsageCheck(t.user, now); resp != nil {
		return resp
	}
	u := s.metaUser(t.user)
	g := s.grantFor("meta", t.user)

	// What the call touches, and which scopes it needs.
	var assets []string
	var family []string
	target := parts[0]
	if target == "me" || target == u.ID {
		target = "me"
		if t.kind == "page" {
			target = t.page
		}
	}
	switch {
	case target == "me" && len(parts) == 1:
	case target == "me" && parts[1] == "permissions":
	case target == "me" && parts[1] == "accounts":
		family = pageScopes
	case target == "me" && parts[1] == "adaccounts":
		family = adsScopes
	case strings.HasPrefix(target, "act_"):
		assets, family = []string{trimAct(target)}, adsScopes
	default:
		assets = []string{target}
		family = pageScopes
		for _, p := range u.Pages {
			if p.IG != nil && p.IG.ID == target {
				assets, family = []string{target, p.ID}, igScopes
			}
		}
		for _, a := range u.AdAccounts {
			for _, d := range a.Datasets {
				if d.ID == target {
					assets, family = []string{target, a.ID}, adsScopes
				}
			}
		}
	}
	if t.kind == "page" {
		assets = append(assets, t.page)
	}

	if f := s.hit("meta", t.user, assets, t.seq, "provider_unavailable", "rate_limited"); f != nil {
		return s.metaFaultResponse(f, now)
	}
	if code, sub, msg := s.metaTokenProblem(t, now); code != 0 {
		return graphError(400, code, sub, "OAuthException", msg)
	}
	if f := s.hit("meta", t.user, assets, t.seq, slices.Concat(metaTokenFaults, []string{"policy_blocked", "lost_asset_role"})...); f != nil {
		return s.metaFaultResponse(f, now)
	}
	scopes, declined := s.effectiveScopes("meta", t, assets)
	if missing := checkScopes(scopes, declined, family); missing != "" {
		return missingPermission(missing)
	}
	if f := s.hit("meta", t.user, assets, t.seq, "unknown"); f != nil {
		return s.metaFaultResponse(f, now)
	}

	fields := r.Form.Get("fields")
	switch {
	case target == "me" && len(parts) == 1:
		if r.Method != http.MethodGet {
			break
		}
		obj := map[string]any{"id": u.ID, "name": u.Name, "first_name": u.FirstName, "last_name": u.LastName,
			"short_name": u.FirstName,
			"picture": map[string]any{"data": map[string]any{"height": 50, "width": 50, "is_silhouette": true,
				"url": baseURL(r) + s.prefix + "/static/avatar.png"}}}
		if contains(scopes, "email") {
			obj["email"] = u.Email
		}
		return jsonResp(200, filter(obj, fields, "id", "name"))
	case target == "me" && parts[1] == "permissions":
		if r.Method == http.MethodDelete {
			if len(parts) == 2 {
				g.removedSeq, g.removed = s.nextSeq(), true
				return jsonResp(200, map[string]any{"success": true})
			}
			if !contains(g.revoked, parts[2]) {
				g.revoked = append(g.revoked, parts[2])
			}
			return jsonResp(200, map[string]any{"success": true})
		}
		var data []map[string]any
		granted, _ := s.effectiveScopes("meta", t, assets)
		for _, sc := range t.scopes {
			status := "granted"
			if sc == declined || !contains(granted, sc) {
				status = "declined"
			}
			data = append(data, map[string]any{"permission": sc, "status": status})
		}
		for _, sc := range g.declined {
			if !contains(t.scopes, sc) {
				data = append(data, map[string]any{"permission": sc, "status": "declined"})
			}
		}
		return jsonResp(200, map[string]any{"data": data})
	case target == "me" && parts[1] == "accounts" && r.Method == http.MethodGet:
		var items []map[string]any
		for _, p := range u.Pages {
			if contains(g.pages, p.ID) && !s.assetFault("meta", u.ID, p.ID, "lost_asset_role") {
				obj := s.pageJSON(p)
				obj["access_token"] = s.pageToken(t, p.ID)
				obj["tasks"] = p.Tasks
				items = append(items, obj)
			}
		}
		return jsonResp(200, pageOf(r, items, fields, "id", "name", "access_token", "category", "tasks"))
	case target == "me" && parts[1] == "adaccounts" && r.Method == http.MethodGet:
		var items []map[string]any
		for _, a := range u.AdAccounts {
			if contains(g.adAccounts, a.ID) && !s.assetFault("meta", u.ID, a.ID, "lost_asset_role") {
				items = append(items, s.adAccountJSON(u, a, now))
			}
		}
		return jsonResp(200, pageOf(r, items, fields, "id", "account_id"))
	case strings.HasPrefix(target, "act_") && r.Method == http.MethodGet:
		a := findAdAccount(u, target)
		if a == nil || !contains(g.adAccounts, a.ID) || t.kind == "page" {
			return objectMissing(target)
		}
		if len(parts) == 1 {
			return jsonResp(200, filter(s.adAccountJSON(u, a, now), fields, "id"))
		}
		if parts[1] == "adspixels" {
			var items []map[string]any
			for _, d := range a.Datasets {
				items = append(items, s.datasetJSON(d))
			}
			return jsonResp(200, pageOf(r, items, fields, "id"))
		}
	case r.Method == http.MethodGet && len(parts) == 1:
		for _, p := range u.Pages {
			visible := contains(g.pages, p.ID) && (t.kind != "page" || t.page == p.ID)
			if p.ID == target && visible {
				return jsonResp(200, filter(s.pageJSON(p), fields, "id", "name"))
			}
			if p.IG != nil && p.IG.ID == target && visible {
				return jsonResp(200, filter(map[string]any{"id": p.IG.ID, "username": p.IG.Username, "name": p.IG.Name,
					"followers_count": p.IG.Followers, "media_count": 42}, fields, "id"))
			}
		}
		for _, a := range u.AdAccounts {
			for _, d := range a.Datasets {
				if d.ID == target && contains(g.adAccounts, a.ID) && t.kind != "page" {
					return jsonResp(200, filter(s.datasetJSON(d), fields, "id", "name"))
				}
			}
		}
		return objectMissing(target)
	}
	return graphError(400, 100, 0, "GraphMethodException", "Unsupported "+strings.ToLower(r.Method)+" request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api")
}

// knownSegments are the path segments the call counts keep as they are: the
// endpoint names of the Graph and LinkedIn APIs the sandbox serves, and the
// permission names of DELETE /me/permissions/{permission}.
var knownSegments = func() map[string]bool {
	m := map[string]bool{}
	for _, list := range [][]string{
		{"me", "permissions", "accounts", "adaccounts", "adspixels", "debug_token", "oauth", "access_token",
			"v2", "rest", "userinfo", "organizationAcls", "organizations", "adAccountUsers", "adAccounts"},
		pageScopes, igScopes, adsScopes, MetaDefaultScopes, LinkedInDefaultScopes, liOrgScopes, liAdsScopes,
	} {
		for _, s := range list {
			m[s] = true
		}
	}
	return m
}()

// otherEndpoint is the call-count bucket of every path with a segment that is
// neither an id nor a known name, such as a token pasted into the path.
const otherEndpoint = "other"

// normalizeGraph turns a request path into the endpoint its calls are counted
// under: ids become {id}, and a path with any unknown segment (which may be a
// token) folds into otherEndpoint, so no secret reaches the call counts or the
// panel and their number stays bounded.
func normalizeGraph(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
		case strings.Trim(p, "0123456789") == "":
			out[i] = "{id}"
		case strings.HasPrefix(p, "act_") && len(p) > 4 && strings.Trim(p[4:], "0123456789") == "":
			out[i] = "act_{id}"
		case knownSegments[p]:
			out[i] = p
		default:
			return otherEndpoint
		}
	}
	return "/" + strings.Join(out, "/")
}

// metaUsageCheck counts the call against the user's hourly budget (sandbox clock) and
// refuses it when the budget is enforced and spent. s.mu held.
func (s *Sandbox) metaUsageCheck(user string, now time.Time) *response {
	hour := now.Unix() / 3600
	w := s.usage[user]
	if w == nil || w.hour != hour {
		w = &usageWindow{hour: hour}
		s.usage[user] = w
	}
	w.calls++
	if s.opts.EnforceCallBudget && w.calls > s.opts.MetaCallsPerHour {
		return graphError(400, 17, 0, "OAuthException", "(#17) User request limit reached")
	}
	return nil
}

// appUsageHeader is x-app-usage: the app's calls this hour against its budget,
// MetaCallsPerHour times the number of users (Meta allows 200 calls per user per
// hour, spent by any user). It is app-wide, whoever calls. s.mu held.
func (s *Sandbox) appUsageHeader(now time.Time) string {
	hour, calls := now.Unix()/3600, 0
	for _, w := range s.usage {
		if w.hour == hour {
			calls += w.calls
		}
	}
	pct := min(100, calls*100/(s.opts.MetaCallsPerHour*max(1, len(s.metaUsers))))
	return fmt.Sprintf(`{"call_count":%d,"total_cputime":%d,"total_time":%d}`, pct, pct/2, pct/2)
}

func (s *Sandbox) pageJSON(p *metaPage) map[string]any {
	obj := map[string]any{"id": p.ID, "name": p.Name, "category": p.Category,
		"category_list":   []map[string]string{{"id": "2200", "name": p.Category}},
		"followers_count": p.Followers, "fan_count": p.Followers, "link": "https://www.facebook.com/" + p.ID}
	if p.IG != nil {
		obj["instagram_business_account"] = map[string]any{"id": p.IG.ID, "username": p.IG.Username, "name": p.IG.Name}
	}
	return obj
}

func (s *Sandbox) datasetJSON(d *metaDataset) map[string]any {
	return map[string]any{"id": d.ID, "name": d.Name, "is_unavailable": false,
		"creation_time":   s.started.Add(-400 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05-0700"),
		"last_fired_time": s.started.Add(-time.Duration(d.FiredHoursAgo) * time.Hour).UTC().Format("2006-01-02T15:04:05-0700")}
}

// adAccountJSON renders an ad account with Graph's field names. Spend grows with the
// sandbox clock. s.mu held.
func (s *Sandbox) adAccountJSON(u *metaUser, a *metaAdAccount, now time.Time) map[string]any {
	status, reason := a.Status, a.DisableReason
	if s.assetFault("meta", u.ID, a.ID, FaultAccountDisabled) {
		status, reason = 2, 1
	}
	tos := map[string]int{}
	if a.TOSAccepted && !s.assetFault("meta", u.ID, a.ID, FaultTermsRevoked) {
		tos = map[string]int{"web_custom_audience_tos": 1, "custom_audience_tos": 1}
	}
	hours := int64(now.Sub(s.started) / time.Hour)
	spent := a.SpendBase + a.SpendPerHour*max(hours, 0)
	obj := map[string]any{
		"id": "act_" + a.ID, "account_id": a.ID, "name": a.Name, "currency": a.Currency,
		"account_status": status, "disable_reason": reason,
		"amount_spent": strconv.FormatInt(spent, 10), "spend_cap": strconv.FormatInt(a.SpendCap, 10),
		"balance": strconv.FormatInt(a.Balance, 10), "timezone_name": a.TZ,
		"user_tasks": a.Tasks, "tos_accepted": tos, "user_tos_accepted": tos,
		"owner": u.ID,
	}
	pixels := make([]map[string]any, 0, len(a.Datasets))
	for _, d := range a.Datasets {
		pixels = append(pixels, s.datasetJSON(d))
	}
	obj["adspixels"] = map[string]any{"data": pixels}
	if a.BusinessID != "" {
		obj["business"] = map[string]any{"id": a.BusinessID, "name": a.BusinessName}
	}
	if a.Funding {
		obj["funding_source_details"] = map[string]any{"id": "4000" + a.ID[len(a.ID)-6:], "display_string": "Visa *4242", "type": 1}
	}
	return obj
}

// pageToken returns the Page token derived from a user token: it never expires when
// the user token is long-lived. s.mu held.
func (s *Sandbox) pageToken(user *token, pageID string) string {
	key := user.value + "|" + pageID
	if v, ok := s.pageToks[key]; ok {
		return v
	}
	t := &token{value: randomToken("EAAP", 40), provider: "meta", kind: "page", user: user.user, page: pageID,
		issued: s.clock.Now(), scopes: user.scopes, long: user.long}
	if !user.long {
		t.expires = user.expires
	}
	s.issue(t)
	t.seq = user.seq // faults judge a Page token by the login it came from
	s.pageToks[key] = t.value
	return t.value
}

// metaTokenEndpoint serves /oauth/access_token: code exchange, fb_exchange_token and
// client_credentials.
func (s *Sandbox) metaTokenEndpoint(r *http.Request) *response {
	id, secret := clientCredentials(r)
	grantType := r.Form.Get("grant_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if id != s.opts.MetaAppID {
		s.countCall("meta", r.Method+" /oauth/access_token", "", "")
		return graphError(400, 101, 0, "OAuthException", "Error validating application. Invalid application ID.")
	}
	if secret != s.opts.MetaAppSecret {
		s.countCall("meta", r.Method+" /oauth/access_token", "", "")
		return graphError(400, 1, 0, "OAuthException", "Error validating client secret.")
	}
	switch grantType {
	case "client_credentials":
		s.countCall("meta", r.Method+" /oauth/access_token client_credentials", "", "")
		t := s.issue(&token{value: s.opts.MetaAppID + "|" + randomToken("", 20), provider: "meta", kind: "app", issued: now})
		return jsonResp(200, map[string]any{"access_token": t.value, "token_type": "bearer"})
	case "fb_exchange_token":
		in := r.Form.Get("fb_exchange_token")
		t := s.tokens[in]
		user := ""
		if t != nil {
			user = t.user
		}
		s.countCall("meta", r.Method+" /oauth/access_token fb_exchange_token", in, user)
		if t == nil || t.provider != "meta" || t.kind != "user" {
			return graphError(400, 190, 0, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
		}
		if f := s.hit("meta", t.user, nil, t.seq, "provider_unavailable", "rate_limited"); f != nil {
			return s.metaFaultResponse(f, now)
		}
		if code, sub, msg := s.metaTokenProblem(t, now); code != 0 {
			return graphError(400, code, sub, "OAuthException", msg)
		}
		if f := s.hit("meta", t.user, nil, t.seq, slices.Concat(metaTokenFaults, []string{"refresh_token_invalid"})...); f != nil {
			return s.metaFaultResponse(f, now)
		}
		expires := now.Add(MetaLongLived)
		if t.long {
			expires = t.expires // Meta does not extend a long-lived token by exchange
		}
		nt := s.issue(&token{value: randomToken("EAAL", 48), provider: "meta", kind: "user", user: t.user, long: true,
			issued: now, expires: expires, scopes: t.scopes})
		nt.seq = t.seq // same login: faults judge it as the token it came from
		return jsonResp(200, map[string]any{"access_token": nt.value, "token_type": "bearer",
			"expires_in": int64(expires.Sub(now) / time.Second)})
	case "", "authorization_code":
		code := r.Form.Get("code")
		c := s.codes[code]
		user := ""
		if c != nil {
			user = c.user
		}
		s.countCall("meta", r.Method+" /oauth/access_token code", "", user)
		switch {
		case code == "":
			return graphError(400, 100, 0, "OAuthException", "Missing authorization code")
		case c == nil || c.provider != "meta":
			return graphError(400, 100, 0, "OAuthException", "Invalid verification code format.")
		case c.used:
			return graphError(400, 100, 36009, "OAuthException", "This authorization code has been used.")
		case !now.Before(c.created.Add(AuthorizationCodeTTL)):
			return graphError(400, 100, 36007, "OAuthException", "This authorization code has expired.")
		case r.Form.Get("redirect_uri") != c.redirectURI:
			return graphError(400, 100, 36008, "OAuthException", "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request")
		}
		if f := s.hit("meta", c.user, nil, 0, "provider_unavailable"); f != nil {
			return s.metaFaultResponse(f, now)
		}
		c.used = true
		s.recordLogin(c, now)
		// The token carries every permission granted so far, not only this login's.
		g := s.grantFor("meta", c.user)
		t := s.issue(&token{value: randomToken("EAAS", 48), provider: "meta", kind: "user", user: c.user,
			issued: now, expires: now.Add(MetaShortLived), scopes: minus(g.scopes, g.revoked)})
		return jsonResp(200, map[string]any{"access_token": t.value, "token_type": "bearer",
			"expires_in": int64(MetaShortLived / time.Second)})
	}
	s.countCall("meta", r.Method+" /oauth/access_token", "", "")
	return graphError(400, 100, 0, "OAuthException", "Unsupported grant_type")
}

// metaDebugToken serves GET /debug_token?input_token=…&access_token={app token}.
func (s *Sandbox) metaDebugToken(r *http.Request) *response {
	in := r.Form.Get("input_token")
	app := r.Form.Get("access_token")
	if app == "" {
		app = bearerToken(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	t := s.tokens[in]
	user := ""
	if t != nil {
		user = t.user
	}
	s.countCall("meta", "GET /debug_token", in, user)
	if at := s.tokens[app]; app != s.opts.MetaAppID+"|"+s.opts.MetaAppSecret && (at == nil || at.kind != "app") {
		if strings.Contains(app, "|") { // an app token "{app-id}|{secret}" of another app or with a wrong secret
			return graphError(400, 190, 0, "OAuthException", "Invalid OAuth access token signature.")
		}
		return graphError(400, 100, 0, "OAuthException", "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app")
	}
	if in == "" {
		return graphError(400, 100, 0, "OAuthException", "(#100) The parameter input_token is required")
	}
	if t == nil || t.provider != "meta" {
		return jsonResp(200, map[string]any{"data": map[string]any{"is_valid": false, "scopes": []string{},
			"error": map[string]any{"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}}})
	}
	if f := s.hit("meta", t.user, nil, t.seq, "provider_unavailable"); f != nil {
		return s.metaFaultResponse(f, now)
	}
	if f := s.hit("meta", t.user, nil, t.seq, "rate_limited"); f != nil {
		// The user's limit, as on every other call: 17, with the app's own usage,
		// which one user alone does not exhaust.
		r := s.metaFaultResponse(f, now)
		r.header.Set("X-App-Usage", s.appUsageHeader(now))
		return r
	}
	data := map[string]any{"app_id": s.opts.MetaAppID, "application": metaAppName, "is_valid": true,
		"issued_at": t.issued.Unix()}
	switch t.kind {
	case "app":
		data["type"] = "APP"
		data["scopes"] = []string{}
		return jsonResp(200, map[string]any{"data": data})
	case "page":
		data["type"] = "PAGE"
		data["profile_id"] = t.page
	default:
		data["type"] = "USER"
	}
	g := s.grantFor("meta", t.user)
	data["user_id"] = t.user
	data["expires_at"] = int64(0)
	if !t.expires.IsZero() {
		data["expires_at"] = t.expires.Unix()
	}
	if g != nil {
		data["data_access_expires_at"] = g.grantedAt.Add(MetaDataAccess).Unix()
	}
	scopes, _ := s.effectiveScopes("meta", t, nil)
	data["scopes"] = scopes
	var granular []map[string]any
	if g != nil {
		// Empty, not null, when every object is gone: the scope reaches nothing,
		// which is not the same as a scope granted without targets.
		pages, accts := []string{}, []string{}
		for _, p := range g.pages {
			if !s.assetFault("meta", t.user, p, "lost_asset_role") {
				pages = append(pages, p)
			}
		}
		for _, a := range g.adAccounts {
			if !s.assetFault("meta", t.user, a, "lost_asset_role") {
				accts = append(accts, a)
			}
		}
		for _, sc := range scopes {
			switch {
			case contains(pageScopes, sc):
				granular = append(granular, map[string]any{"scope": sc, "target_ids": pages})
			case contains(adsScopes, sc):
				granular = append(granular, map[string]any{"scope": sc, "target_ids": accts})
			default:
				granular = append(granular, map[string]any{"scope": sc})
			}
		}
	}
	data["granular_scopes"] = granular
	code, sub, msg := s.metaTokenProblem(t, now)
	if code == 0 {
		if f := s.hit("meta", t.user, nil, t.seq, metaTokenFaults...); f != nil {
			e := s.metaFaultResponse(f, now).body.(map[string]any)["error"].(map[string]any)
			code, msg = 190, e["message"].(string)
			sub, _ = e["error_subcode"].(int)
		}
	}
	if code != 0 {
		data["is_valid"] = false
		e := map[string]any{"code": code, "message": msg}
		if sub != 0 {
			e["subcode"] = sub
		}
		data["error"] = e
	}
	return jsonResp(200, map[string]any{"data": data})
}
