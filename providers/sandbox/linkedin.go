package sandbox

import (
	"net/http"
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
	case len(parts) == 2 && parts[1] == "adAccountUsers":
		family = liAdsScopes
	case len(parts) == 3 && parts[1] == "adAccounts":
		assets, family = []string{parts[2]}, liAdsScopes
	default:
		return liError(404, 0, "NOT_FOUND", "No virtual resource found")
	}
	if f := s.hit("linkedin", t.user, assets, t.seq, "provider_unavailable", "rate_limited"); f != nil {
		return s.liFaultResponse(f)
	}
	if t.revoked || s.liRevoked(t) {
		return liError(401, 65601, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user")
	}
	if !now.Before(t.expires) {
		return liError(401, 65602, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired")
	}
	if f := s.liTokenFault(t, assets); f != nil {
		return s.liFaultResponse(f)
	}
	if f := s.hit("linkedin", t.user, assets, t.seq, "policy_blocked", "lost_asset_role"); f != nil {
		return s.liFaultResponse(f)
	}
	scopes, declined := s.effectiveScopes("linkedin", t, assets)
	if declined != "" && !contains(family, declined) && !contains(liOrgScopes, declined) && !contains(liAdsScopes, declined) {
		family = append([]string{declined}, family...) // an unknown scope fails every call
	}
	if missing := checkLinkedInScopes(scopes, declined, family); missing {
		resource := map[bool]string{true: "organizationAcls", false: "adAccountsV2"}[contains(liOrgScopes, family[0])]
		return liError(403, 100, "ACCESS_DENIED", "Not enough permissions to access: "+resource+".GET.20250101")
	}
	if f := s.hit("linkedin", t.user, assets, t.seq, "unknown"); f != nil {
		return s.liFaultResponse(f)
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
		for _, o := range m.Orgs {
			if o.ID == parts[2] {
				return jsonResp(200, map[string]any{"id": o.ID, "localizedName": o.Name, "vanityName": o.Vanity,
					"name": map[string]any{"localized": map[string]string{"en_US": o.Name}}})
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
		for _, a := range m.AdAccounts {
			if a.ID == parts[2] {
				status, serving := a.Status, "RUNNABLE"
				if s.assetFault("linkedin", m.ID, a.ID, FaultAccountDisabled) {
					status, serving = "CANCELED", "STOPPED"
				}
				return jsonResp(200, map[string]any{"id": a.ID, "name": a.Name, "currency": a.Currency, "status": status,
					"type": "BUSINESS", "reference": "urn:li:organization:" + a.OrgID, "test": false,
					"servingStatuses": []string{serving}})
			}
		}
		return liError(403, 100, "ACCESS_DENIED", "Caller is not an authorized user of the resource")
	}
	return liError(404, 0, "NOT_FOUND", "No virtual resource found")
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
