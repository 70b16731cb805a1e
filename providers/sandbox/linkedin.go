package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LinkedInDefaultScopes is what the sandbox grants when a dialog asks for no scope.
var LinkedInDefaultScopes = []string{"openid", "profile", "email"}

var (
	liOrgScopes = []string{"rw_organization_admin", "r_organization_admin"}
	liAdsScopes = []string{"r_ads", "rw_ads"}
)

func liError(status, serviceCode int, code, msg string) *response {
	return jsonResp(status, map[string]any{"status": status, "serviceErrorCode": serviceCode, "code": code, "message": msg})
}

func oauthError(status int, code, desc string) *response {
	return jsonResp(status, map[string]any{"error": code, "error_description": desc})
}

var liTokenFaults = []string{"app_removed", "password_changed", "security_checkpoint",
	"unconfirmed_account", "session_invalidated", "token_expired"}

// liTokenFault returns the fault that kills token t, in the order of
// liTokenFaults. token_expired judges the access token itself, not its login: an
// expired access token is what a refresh replaces, so the token the refresh
// issues works, as on LinkedIn, and the refresh token does not expire with it.
// s.mu held.
func (s *Sandbox) liTokenFault(t *token, assets []string) *Fault {
	for _, name := range liTokenFaults {
		seq := t.seq
		if name == "token_expired" {
			if t.kind != "access" {
				continue
			}
			seq = t.own
		}
		if f := s.hit("linkedin", t.user, assets, seq, name); f != nil {
			return f
		}
	}
	return nil
}

func (s *Sandbox) liFaultResponse(f *Fault) *response {
	switch f.Fault {
	case "provider_unavailable":
		r := liError(503, 0, "SERVICE_UNAVAILABLE", "Service Unavailable")
		if f.Mode != ModeUnavailable {
			r.mode = f.Mode
		}
		return r
	case "rate_limited":
		r := liError(429, 0, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")
		r.header.Set("Retry-After", "3600")
		return r
	case "token_expired":
		return liError(401, 65602, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired")
	case "app_removed":
		return liError(401, 65601, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user")
	case "password_changed", "session_invalidated", "security_checkpoint", "unconfirmed_account":
		return liError(401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
	case "policy_blocked":
		return liError(403, 100, "ACCOUNT_RESTRICTED", "Member is restricted from this action")
	case "lost_asset_role":
		return liError(403, 100, "ACCESS_DENIED", "Caller is not an authorized user of the resource")
	case "unknown":
		return liError(400, 0, "ILLEGAL_ARGUMENT", "Unexpected error in request processing")
	}
	return nil
}

func (s *Sandbox) serveLinkedInAPI(w http.ResponseWriter, r *http.Request, path string) {
	_ = r.ParseForm()
	resp := s.linkedInAPI(r, path)
	resp.header.Set("X-Li-Uuid", randomToken("", 16))
	resp.header.Set("X-RestLi-Protocol-Version", "2.0.0")
	s.write(w, r, resp)
}

func (s *Sandbox) linkedInAPI(r *http.Request, path string) *response {
	tokStr := bearerToken(r)
	if tokStr == "" {
		tokStr = r.Form.Get("oauth2_access_token")
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
	s.countCall("linkedin", endpoint, tokStr, user)
	if len(r.URL.RawQuery) > liMaxQuery {
		return liError(414, 0, "REQUEST_URI_TOO_LONG", "The query string is longer than 4 KB; send it in the body with X-HTTP-Method-Override: GET")
	}
	if t == nil || t.provider != "linkedin" || t.kind != "access" {
		return liError(401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
	}
	if len(parts) > 0 && parts[0] == "rest" && r.Header.Get("LinkedIn-Version") == "" {
		return liError(400, 0, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
	}
	m := s.liMember(t.user)
	var assets, family []string
	switch {
	case len(parts) == 2 && (parts[1] == "userinfo" || parts[1] == "me"):
	case len(parts) == 2 && parts[1] == "organizationAcls":
		family = liOrgScopes
	case len(parts) == 3 && parts[1] == "organizations":
		assets, family = []string{parts[2]}, liOrgScopes
	case len(parts) == 2 && parts[1] == "organizations":
		// BATCH_GET: user-wide faults fail the call, each organization's own
		// faults only its entry (liOrganizationsBatch).
		family = liOrgScopes
	case len(parts) == 2 && parts[1] == "adAccounts":
		// The search finder: a list, so per-account faults shape its elements
		// (liSearchAdAccounts) rather than fail it.
		family = liAdsScopes
	case len(parts) == 2 && parts[1] == "adAccountUsers":
		family = liAdsScopes
	case len(parts) == 3 && parts[1] == "adAccounts":
		assets, family = []string{parts[2]}, liAdsScopes
	default:
		return liError(404, 0, "NOT_FOUND", "No virtual resource found")
	}
	scopes, refused := s.liRefusal(t, assets, family, now)
	if refused != nil {
		return refused
	}
	personURN := "urn:li:person:" + m.ID
	switch parts[1] {
	case "userinfo":
		obj := map[string]any{"sub": m.ID, "name": m.Name, "given_name": m.GivenName, "family_name": m.FamilyName,
			"locale": map[string]string{"country": "US", "language": "en"}, "picture": baseURL(r) + s.prefix + "/static/avatar.png"}
		if contains(scopes, "email") {
			obj["email"], obj["email_verified"] = m.Email, true
		}
		return jsonResp(200, obj)
	case "me":
		return jsonResp(200, map[string]any{"id": m.ID, "localizedFirstName": m.GivenName, "localizedLastName": m.FamilyName})
	case "organizationAcls":
		var els []map[string]any
		for _, o := range m.Orgs {
			if !s.assetFault("linkedin", m.ID, o.ID, "lost_asset_role") {
				els = append(els, map[string]any{"role": o.Role, "state": "APPROVED", "roleAssignee": personURN,
					"organization": "urn:li:organization:" + o.ID})
			}
		}
		return liPage(r, els)
	case "organizations":
		if len(parts) == 2 {
			return s.liOrganizationsBatch(r, t, m, now)
		}
		for _, o := range m.Orgs {
			if o.ID == parts[2] {
				return jsonResp(200, liOrgObject(o))
			}
		}
		return liError(403, 100, "ACCESS_DENIED", "Caller is not an authorized user of the resource")
	case "adAccountUsers":
		var els []map[string]any
		for _, a := range m.AdAccounts {
			if !s.assetFault("linkedin", m.ID, a.ID, "lost_asset_role") {
				els = append(els, map[string]any{"account": "urn:li:sponsoredAccount:" + a.ID, "role": a.Role, "user": personURN})
			}
		}
		return liPage(r, els)
	case "adAccounts":
		if len(parts) == 2 {
			return s.liSearchAdAccounts(r, m)
		}
		for _, a := range m.AdAccounts {
			if a.ID == parts[2] {
				return jsonResp(200, s.liAdAccountObject(m, a))
			}
		}
		return liError(403, 100, "ACCESS_DENIED", "Caller is not an authorized user of the resource")
	}
	return liError(404, 0, "NOT_FOUND", "No virtual resource found")
}

// liRefusal is LinkedIn's answer to a call of t that touches assets and needs one
// of family's scopes, when the token's state or a fault refuses it, in the order
// LinkedIn meets them; nil when the call goes through. scopes is what t grants.
// A batch entry goes through it too, so that it fails as the single read would.
// s.mu held.
func (s *Sandbox) liRefusal(t *token, assets, family []string, now time.Time) (scopes []string, refused *response) {
	if f := s.hit("linkedin", t.user, assets, t.seq, "provider_unavailable", "rate_limited"); f != nil {
		return nil, s.liFaultResponse(f)
	}
	if t.revoked || s.liRevoked(t) {
		return nil, liError(401, 65601, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user")
	}
	if !now.Before(t.expires) {
		return nil, liError(401, 65602, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired")
	}
	if f := s.liTokenFault(t, assets); f != nil {
		return nil, s.liFaultResponse(f)
	}
	if f := s.hit("linkedin", t.user, assets, t.seq, "policy_blocked", "lost_asset_role"); f != nil {
		return nil, s.liFaultResponse(f)
	}
	scopes, declined := s.effectiveScopes("linkedin", t, assets)
	if declined != "" && !contains(family, declined) && !contains(liOrgScopes, declined) && !contains(liAdsScopes, declined) {
		family = append([]string{declined}, family...) // an unknown scope fails every call
	}
	if missing := checkLinkedInScopes(scopes, declined, family); missing {
		resource := map[bool]string{true: "organizationAcls", false: "adAccountsV2"}[contains(liOrgScopes, family[0])]
		return nil, liError(403, 100, "ACCESS_DENIED", "Not enough permissions to access: "+resource+".GET.20250101")
	}
	if f := s.hit("linkedin", t.user, assets, t.seq, "unknown"); f != nil {
		return nil, s.liFaultResponse(f)
	}
	return scopes, nil
}

// liMaxQuery is LinkedIn's documented limit on the query string (Query Tunneling,
// "Query String 4 KB max length"); past it LinkedIn answers 414.
const liMaxQuery = 4096

// liRestli refuses a request to an endpoint whose parameters only mean something
// in Rest.li protocol 2.0 (List(…) and the (key:value) objects): without the
// header LinkedIn parses them the 1.0 way and rejects them. An X-RestLi-Method
// header naming another method than the request's is refused too.
func liRestli(r *http.Request, method string) *response {
	if r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
		return liError(400, 0, "ILLEGAL_ARGUMENT", "This request needs Rest.li protocol 2.0.0: send X-Restli-Protocol-Version: 2.0.0")
	}
	if m := r.Header.Get("X-RestLi-Method"); m != "" && !strings.EqualFold(m, method) {
		return liError(400, 0, "ILLEGAL_ARGUMENT", "X-RestLi-Method "+m+" does not match the request, a "+method)
	}
	return nil
}

// rawParam returns the raw (still escaped) value of the query parameter name, as
// Rest.li 2.0 reads it: the structure of List(…) and (k:v) must be literal, only
// the keys and values inside escaped. It reports whether the parameter is there.
func rawParam(rawQuery, name string) (string, bool) {
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}

// restliList parses a Rest.li 2.0 List(a,b,…) into its unescaped items.
func restliList(raw string) ([]string, bool) {
	inner, ok := strings.CutPrefix(raw, "List(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, false
	}
	inner = strings.TrimSuffix(inner, ")")
	if inner == "" {
		return []string{}, true
	}
	var out []string
	for _, item := range strings.Split(inner, ",") {
		v, err := url.PathUnescape(item)
		if err != nil || v == "" || strings.ContainsAny(item, "()") {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// liOrganizationsBatch answers GET /rest/organizations?ids=List(…), the BATCH_GET
// of organizations, in Rest.li's batch shape: results, statuses and errors keyed
// by id, with 200 for the call however its entries fared. An organization the
// member does not administer, or one with a fault of its own, gets the error its
// single GET would have answered with (liRefusal). s.mu held.
func (s *Sandbox) liOrganizationsBatch(r *http.Request, t *token, m *linkedInMember, now time.Time) *response {
	if bad := liRestli(r, "BATCH_GET"); bad != nil {
		return bad
	}
	if r.Form.Has("q") {
		return liError(400, 0, "ILLEGAL_ARGUMENT", "The sandbox serves no finder of organizations; use ids=List(…)")
	}
	raw, ok := rawParam(r.URL.RawQuery, "ids")
	ids, valid := restliList(raw)
	if !ok || !valid {
		return liError(400, 0, "ILLEGAL_ARGUMENT", "Invalid value for param 'ids': expected List(id,…)")
	}
	results, statuses, errs := map[string]any{}, map[string]int{}, map[string]any{}
	for _, id := range ids {
		if _, e := s.liRefusal(t, []string{id}, liOrgScopes, now); e != nil {
			statuses[id], errs[id] = e.status, e.body
			continue
		}
		var org *linkedInOrg
		for _, o := range m.Orgs {
			if o.ID == id {
				org = o
			}
		}
		if org == nil {
			e := liError(403, 100, "ACCESS_DENIED", "Caller is not an authorized user of the resource")
			statuses[id], errs[id] = e.status, e.body
			continue
		}
		results[id], statuses[id] = liOrgObject(org), 200
	}
	return jsonResp(200, map[string]any{"results": results, "statuses": statuses, "errors": errs})
}

// liOrgObject is an organization as LinkedIn shows it, in a single read and in a
// batch alike: its id a number, as LinkedIn's are.
func liOrgObject(o *linkedInOrg) map[string]any {
	return map[string]any{"id": json.Number(o.ID), "localizedName": o.Name, "vanityName": o.Vanity,
		"name": map[string]any{"localized": map[string]string{"en_US": o.Name}}}
}

// liAdAccountObject is an ad account as GET /rest/adAccounts/{id} and the search
// show it, its id a number, with account_disabled applied. s.mu held.
func (s *Sandbox) liAdAccountObject(m *linkedInMember, a *linkedInAdAccount) map[string]any {
	status, serving := a.Status, "RUNNABLE"
	if s.assetFault("linkedin", m.ID, a.ID, FaultAccountDisabled) {
		status, serving = "CANCELED", "STOPPED"
	}
	return map[string]any{"id": json.Number(a.ID), "name": a.Name, "currency": a.Currency, "status": status,
		"type": "BUSINESS", "reference": "urn:li:organization:" + a.OrgID, "test": false,
		"servingStatuses": []string{serving}}
}

// liSearchPageMax is the largest pageSize the search accepts, as for count on the
// other ads APIs (a 400 above it).
const liSearchPageMax = 1000

// liSearchAdAccounts answers GET /rest/adAccounts?q=search, with LinkedIn's cursor
// paging of the ads search finders (LinkedIn-Version 202401 on): pageSize (default
// 100) and pageToken in, metadata.nextPageToken out, absent on the last page. An
// account the member lost their role on (lost_asset_role) is left out, as LinkedIn
// leaves out of a search what the member cannot reach, instead of failing the
// search; account_disabled shows as CANCELED; other faults set on one account only
// fail reads of that account. s.mu held.
func (s *Sandbox) liSearchAdAccounts(r *http.Request, m *linkedInMember) *response {
	if bad := liRestli(r, "FINDER"); bad != nil {
		return bad
	}
	if q := r.Form.Get("q"); q != "search" {
		return liError(400, 0, "ILLEGAL_ARGUMENT", "The sandbox serves only the search finder of adAccounts (q=search), not q="+q)
	}
	raw, _ := rawParam(r.URL.RawQuery, "search")
	match, ok := liAdAccountCriteria(raw)
	if !ok {
		return liError(400, 0, "ILLEGAL_ARGUMENT", "Invalid value for param 'search'")
	}
	size := 100
	if v := r.Form.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > liSearchPageMax {
			return liError(400, 100, "ILLEGAL_ARGUMENT", "Invalid value for param 'pageSize': between 1 and 1000")
		}
		size = n
	}
	from := 0
	if v := r.Form.Get("pageToken"); v != "" {
		n, ok := liPageOffset(v, m.ID)
		if !ok {
			return liError(400, 100, "ILLEGAL_ARGUMENT", "Invalid value for param 'pageToken'")
		}
		from = n
	}
	els := []map[string]any{}
	for _, a := range m.AdAccounts {
		if s.assetFault("linkedin", m.ID, a.ID, "lost_asset_role") {
			continue
		}
		if obj := s.liAdAccountObject(m, a); match(obj) {
			els = append(els, obj)
		}
	}
	from = min(from, len(els))
	to := from + min(size, len(els)-from)
	meta := map[string]any{}
	if to < len(els) {
		meta["nextPageToken"] = liPageToken(to, m.ID)
	}
	return jsonResp(200, map[string]any{"elements": els[from:to], "metadata": meta})
}

// liPageToken is an opaque cursor: the offset of the next page, bound to the member
// so that one member's cursor does not page through another's accounts.
func liPageToken(offset int, member string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("adAccounts|" + member + "|" + strconv.Itoa(offset)))
}

func liPageOffset(tok, member string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "adAccounts|"+member+"|")
	n, err := strconv.Atoi(rest)
	return n, ok && err == nil && n >= 0
}

// liAdAccountCriteria parses the search parameter of the ad account search, a
// Rest.li 2.0 object such as (status:(values:List(ACTIVE,DRAFT)),test:false), into
// a filter on the objects liAdAccountObject builds. The fields LinkedIn documents
// are served: id, name (a case-insensitive substring), reference, type and status
// by values:List(…), test by true or false. An empty parameter matches all.
func liAdAccountCriteria(raw string) (func(map[string]any) bool, bool) {
	if raw == "" {
		return func(map[string]any) bool { return true }, true
	}
	body, ok := strings.CutPrefix(raw, "(")
	if !ok || !strings.HasSuffix(body, ")") {
		return nil, false
	}
	body = strings.TrimSuffix(body, ")")
	var checks []func(map[string]any) bool
	for _, field := range splitTop(body) {
		name, value, ok := strings.Cut(field, ":")
		if !ok {
			return nil, false
		}
		if name == "test" {
			if value != "true" && value != "false" {
				return nil, false
			}
			want := value == "true"
			checks = append(checks, func(o map[string]any) bool { return o["test"] == want })
			continue
		}
		inner, ok := strings.CutPrefix(value, "(values:")
		if !ok || !strings.HasSuffix(inner, ")") {
			return nil, false
		}
		values, ok := restliList(strings.TrimSuffix(inner, ")"))
		if !ok || len(values) == 0 {
			return nil, false
		}
		switch name {
		case "id", "reference", "type", "status":
			checks = append(checks, func(o map[string]any) bool {
				got := fmt.Sprint(o[name])
				for _, v := range values {
					if v == got || (name == "id" && strings.TrimPrefix(v, "urn:li:sponsoredAccount:") == got) {
						return true
					}
				}
				return false
			})
		case "name":
			checks = append(checks, func(o map[string]any) bool {
				for _, v := range values {
					if strings.Contains(strings.ToLower(fmt.Sprint(o["name"])), strings.ToLower(v)) {
						return true
					}
				}
				return false
			})
		default:
			return nil, false
		}
	}
	return func(o map[string]any) bool {
		for _, c := range checks {
			if !c(o) {
				return false
			}
		}
		return true
	}, true
}

// splitTop splits s at the commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// liPage answers one page of a collection for start and count. A value that is
// not a non-negative integer gets LinkedIn's 400; count is capped at 1000, and a
// start past the end gives an empty page.
func liPage(r *http.Request, els []map[string]any) *response {
	start, count := 0, 10
	for _, p := range []struct {
		name string
		v    *int
	}{{"start", &start}, {"count", &count}} {
		raw := r.Form.Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return liError(400, 100, "ILLEGAL_ARGUMENT", "Invalid value for param '"+p.name+"'")
		}
		*p.v = n
	}
	count = min(count, 1000)
	from := min(start, len(els))
	to := from + min(count, len(els)-from)
	page := make([]map[string]any, 0, to-from)
	page = append(page, els[from:to]...)
	return jsonResp(200, map[string]any{"elements": page, "paging": map[string]any{"start": start, "count": count, "total": len(els), "links": []any{}}})
}

func checkLinkedInScopes(scopes []string, declined string, family []string) bool {
	if len(family) == 0 {
		return false
	}
	if declined != "" && contains(family, declined) {
		return true
	}
	for _, f := range family {
		if contains(scopes, f) {
			return false
		}
	}
	return true
}

// liRevoked reports whether the member's grant was revoked after t was issued. s.mu held.
func (s *Sandbox) liRevoked(t *token) bool {
	g := s.grantFor("linkedin", t.user)
	return g == nil || t.seq < g.removedSeq
}

// serveLinkedInWWW serves www.linkedin.com: the authorization dialog and the
// accessToken, introspectToken and revoke endpoints.
func (s *Sandbox) serveLinkedInWWW(w http.ResponseWriter, r *http.Request, path string) {
	_ = r.ParseForm()
	switch path {
	case "/oauth/v2/authorization":
		s.linkedInDialog(w, r)
		return
	case "/oauth/v2/accessToken":
		s.write(w, r, s.linkedInToken(r))
	case "/oauth/v2/introspectToken":
		s.write(w, r, s.linkedInIntrospect(r))
	case "/oauth/v2/revoke":
		s.write(w, r, s.linkedInRevoke(r))
	default:
		s.notFound(w, r, "LinkedIn")
	}
}

func (s *Sandbox) linkedInClientOK(r *http.Request) *response {
	id, secret := clientCredentials(r)
	if id != s.opts.LinkedInClientID || secret != s.opts.LinkedInClientSecret {
		return oauthError(401, "invalid_client", "Client authentication failed")
	}
	return nil
}

func (s *Sandbox) linkedInToken(r *http.Request) *response {
	if r.Method != http.MethodPost {
		return oauthError(405, "invalid_request", "The request method must be POST")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	grantType := r.Form.Get("grant_type")
	if bad := s.linkedInClientOK(r); bad != nil {
		s.countCall("linkedin", "POST /oauth/v2/accessToken", "", "")
		return bad
	}
	switch grantType {
	case "authorization_code":
		code := r.Form.Get("code")
		c := s.codes[code]
		user := ""
		if c != nil {
			user = c.user
		}
		s.countCall("linkedin", "POST /oauth/v2/accessToken authorization_code", "", user)
		switch {
		case c == nil || c.provider != "linkedin" || c.used || !now.Before(c.created.Add(AuthorizationCodeTTL)) || c.redirectURI != r.Form.Get("redirect_uri"):
			return oauthError(400, "invalid_grant", "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists")
		}
		if f := s.hit("linkedin", c.user, nil, 0, "provider_unavailable"); f != nil {
			return s.liFaultResponse(f)
		}
		c.used = true
		s.recordLogin(c, now)
		rt := s.issue(&token{value: randomToken("AQX", 40), provider: "linkedin", kind: "refresh", user: c.user,
			issued: now, expires: now.Add(LinkedInRefreshLife), scopes: c.scopes})
		at := s.issue(&token{value: randomToken("AQV", 48), provider: "linkedin", kind: "access", user: c.user,
			issued: now, expires: now.Add(LinkedInAccessLife), scopes: c.scopes, refresh: rt.value})
		at.seq = rt.seq
		return s.liTokenResponse(at, rt, now)
	case "refresh_token":
		in := r.Form.Get("refresh_token")
		rt := s.tokens[in]
		user := ""
		if rt != nil {
			user = rt.user
		}
		s.countCall("linkedin", "POST /oauth/v2/accessToken refresh_token", in, user)
		if rt == nil || rt.kind != "refresh" {
			return oauthError(400, "invalid_grant", "The provided authorization grant or refresh token is invalid, expired or revoked")
		}
		if f := s.hit("linkedin", rt.user, nil, rt.seq, "provider_unavailable", "rate_limited"); f != nil {
			return s.liFaultResponse(f)
		}
		// Every fault that kills the member's tokens refuses the refresh too, so it
		// never answers 200 with an access token the API rejects at once: a client
		// that refreshes on 401 would loop. (token_expired does not: the refresh
		// is its cure.)
		if rt.revoked || s.liRevoked(rt) || !now.Before(rt.expires) ||
			s.hit("linkedin", rt.user, nil, rt.seq, "refresh_token_invalid") != nil || s.liTokenFault(rt, nil) != nil {
			return oauthError(400, "invalid_grant", "The provided authorization grant or refresh token is invalid, expired or revoked")
		}
		at := s.issue(&token{value: randomToken("AQV", 48), provider: "linkedin", kind: "access", user: rt.user,
			issued: now, expires: now.Add(LinkedInAccessLife), scopes: rt.scopes, refresh: rt.value})
		at.seq = rt.seq
		return s.liTokenResponse(at, rt, now)
	}
	s.countCall("linkedin", "POST /oauth/v2/accessToken", "", "")
	return oauthError(400, "unsupported_grant_type", "The grant_type is not supported")
}

func (s *Sandbox) liTokenResponse(at, rt *token, now time.Time) *response {
	return jsonResp(200, map[string]any{
		"access_token": at.value, "expires_in": int64(at.expires.Sub(now) / time.Second),
		"refresh_token": rt.value, "refresh_token_expires_in": int64(rt.expires.Sub(now) / time.Second),
		"scope": strings.Join(at.scopes, ","), "token_type": "Bearer",
	})
}

func (s *Sandbox) linkedInIntrospect(r *http.Request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	in := r.Form.Get("token")
	t := s.tokens[in]
	user := ""
	if t != nil {
		user = t.user
	}
	s.countCall("linkedin", "POST /oauth/v2/introspectToken", in, user)
	if bad := s.linkedInClientOK(r); bad != nil {
		return bad
	}
	if t == nil || t.provider != "linkedin" {
		return jsonResp(200, map[string]any{"active": false})
	}
	if f := s.hit("linkedin", t.user, nil, t.seq, "provider_unavailable", "rate_limited"); f != nil {
		return s.liFaultResponse(f)
	}
	// status is optional and only ever active, expired or revoked. A token the
	// member's password change, logout, checkpoint or unconfirmed account ended is
	// inactive without a status, as the API's 401 INVALID_ACCESS_TOKEN does not say
	// which either.
	status := "active"
	f := s.liTokenFault(t, nil)
	switch {
	case t.revoked || s.liRevoked(t):
		status = "revoked"
	case !now.Before(t.expires):
		status = "expired"
	case f != nil && f.Fault == "token_expired":
		status = "expired"
	case f != nil && f.Fault == "app_removed":
		status = "revoked"
	case f != nil:
		status = ""
	case t.kind == "refresh" && s.hit("linkedin", t.user, nil, t.seq, "refresh_token_invalid") != nil:
		status = "revoked"
	}
	scopes, _ := s.effectiveScopes("linkedin", t, nil)
	g := s.grantFor("linkedin", t.user)
	authorized := t.issued
	if g != nil {
		authorized = g.grantedAt
	}
	body := map[string]any{"active": status == "active",
		"client_id": s.opts.LinkedInClientID, "authorized_at": authorized.Unix(), "created_at": t.issued.Unix(),
		"expires_at": t.expires.Unix(), "scope": strings.Join(scopes, ","), "auth_type": "3L"}
	if status != "" {
		body["status"] = status
	}
	return jsonResp(200, body)
}

func (s *Sandbox) linkedInRevoke(r *http.Request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := r.Form.Get("token")
	t := s.tokens[in]
	user := ""
	if t != nil {
		user = t.user
	}
	s.countCall("linkedin", "POST /oauth/v2/revoke", in, user)
	if bad := s.linkedInClientOK(r); bad != nil {
		return bad
	}
	if t != nil && t.provider == "linkedin" {
		t.revoked = true
		if rt := s.tokens[t.refresh]; rt != nil {
			rt.revoked = true
		}
	}
	return &response{status: 200, header: http.Header{}}
}
