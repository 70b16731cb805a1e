package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// dialogRequest is an OAuth authorization request as the dialog receives it.
type dialogRequest struct {
	provider, clientID, redirectURI, state, scope, authType string
	redirect                                                *url.URL // redirectURI, parsed and allowed
}

func (d dialogRequest) hidden() []hiddenField {
	return []hiddenField{{"client_id", d.clientID}, {"redirect_uri", d.redirectURI}, {"state", d.state},
		{"scope", d.scope}, {"auth_type", d.authType}, {"response_type", "code"}}
}

func (d dialogRequest) scopes(defaults []string) []string {
	if sc := splitScopes(d.scope); len(sc) > 0 {
		return sc
	}
	return slices.Clone(defaults)
}

// redirectWith sends the browser back to the app with params (and Facebook's #_=_).
func redirectWith(w http.ResponseWriter, r *http.Request, d dialogRequest, params url.Values) {
	u := *d.redirect
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if d.state != "" {
		q.Set("state", d.state)
	}
	u.RawQuery = q.Encode()
	if d.provider == "meta" {
		u.Fragment = "_=_"
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Sandbox) serveMetaWWW(w http.ResponseWriter, r *http.Request, path string) {
	if path != "/dialog/oauth" {
		s.notFound(w, r, "facebook")
		return
	}
	s.oauthDialog(w, r, "meta")
}

func (s *Sandbox) linkedInDialog(w http.ResponseWriter, r *http.Request) {
	s.oauthDialog(w, r, "linkedin")
}

type dialogUser struct{ ID, Name, Detail, Link string }
type dialogAsset struct{ ID, Name string }

// oauthDialog is the login dialog: pick a user, tick permissions and assets,
// continue or cancel. sandbox_user=<id> approves at once with every scope.
func (s *Sandbox) oauthDialog(w http.ResponseWriter, r *http.Request, provider string) {
	_ = r.ParseForm()
	brand := map[string]string{"meta": "facebook", "linkedin": "LinkedIn"}[provider]
	d := dialogRequest{provider: provider, clientID: r.Form.Get("client_id"), redirectURI: r.Form.Get("redirect_uri"),
		state: r.Form.Get("state"), scope: r.Form.Get("scope"), authType: r.Form.Get("auth_type")}
	appID := map[string]string{"meta": s.opts.MetaAppID, "linkedin": s.opts.LinkedInClientID}[provider]
	if d.clientID != appID {
		if provider == "linkedin" {
			s.renderError(w, http.StatusBadRequest, brand, "Bummer, something went wrong.", "The passed in client_id is invalid \""+d.clientID+"\"")
		} else {
			s.renderError(w, http.StatusBadRequest, brand, "Invalid App ID", "The provided app ID does not look like a valid app ID.")
		}
		return
	}
	u, ok := s.redirectTarget(d.redirectURI)
	if !ok {
		// Each provider's own wording, so that a misconfigured callback reads in the
		// sandbox as it will in production.
		if provider == "meta" {
			s.renderError(w, http.StatusBadRequest, brand, "URL Blocked", "This redirect failed because the redirect URI is not whitelisted in the app’s Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth Redirect URIs.")
		} else {
			s.renderError(w, http.StatusBadRequest, brand, "Bummer, something went wrong.", "The redirect_uri does not match the registered value")
		}
		return
	}
	d.redirect = u
	if rt := r.Form.Get("response_type"); rt != "" && rt != "code" {
		redirectWith(w, r, d, url.Values{"error": {"unsupported_response_type"}, "error_description": {"Only response_type=code is supported"}})
		return
	}
	defaults := map[string][]string{"meta": MetaDefaultScopes, "linkedin": LinkedInDefaultScopes}[provider]
	requested := d.scopes(defaults)

	if r.Method == http.MethodPost && r.Form.Get("action") != "continue" {
		if provider == "meta" {
			redirectWith(w, r, d, url.Values{"error": {"access_denied"}, "error_code": {"200"},
				"error_description": {"Permissions error"}, "error_reason": {"user_denied"}})
		} else {
			redirectWith(w, r, d, url.Values{"error": {"user_cancelled_authorize"},
				"error_description": {"The user cancelled the authorization"}})
		}
		return
	}

	userID := r.Form.Get("sandbox_user")
	auto := userID != ""
	if !auto {
		userID = r.Form.Get("as")
	}
	s.mu.Lock()
	exists := userID != "" && s.userExists(provider, userID)
	s.mu.Unlock()
	if userID != "" && !exists {
		s.renderError(w, http.StatusBadRequest, brand, "Unknown sandbox user", "No sandbox "+brand+" user has the id "+userID+".")
		return
	}

	switch {
	case auto || r.Method == http.MethodPost:
		var granted, pages, accts []string
		s.mu.Lock()
		if auto {
			granted = requested
			if u := s.metaUser(userID); provider == "meta" && u != nil {
				for _, p := range u.Pages {
					pages = append(pages, p.ID)
				}
				for _, a := range u.AdAccounts {
					accts = append(accts, a.ID)
				}
			}
		} else {
			for _, p := range r.Form["perm"] {
				if contains(requested, p) {
					granted = append(granted, p)
				}
			}
			pages = r.Form["page"]
			for _, a := range r.Form["adaccount"] {
				accts = append(accts, trimAct(a))
			}
		}
		code := &authCode{value: randomToken("AQ", 32), provider: provider, user: userID, clientID: d.clientID,
			redirectURI: d.redirectURI, scopes: granted, declined: minus(requested, granted),
			pages: pages, adAccounts: accts, created: s.clock.Now()}
		s.codes[code.value] = code
		s.countCall(provider, "dialog approve", "", userID)
		s.mu.Unlock()
		redirectWith(w, r, d, url.Values{"code": {code.value}})
	case userID == "":
		s.renderChooser(w, r, provider, brand, d)
	default:
		s.renderConsent(w, r, provider, brand, d, userID, requested)
	}
}

func (s *Sandbox) renderChooser(w http.ResponseWriter, r *http.Request, provider, brand string, d dialogRequest) {
	var users []dialogUser
	link := func(id string) string {
		q := r.URL.Query()
		q.Set("as", id)
		return r.URL.Path + "?" + q.Encode()
	}
	s.mu.Lock()
	if provider == "meta" {
		for _, u := range s.metaUsers {
			users = append(users, dialogUser{u.ID, u.Name, fmt.Sprintf("%d Pages · %d ad accounts", len(u.Pages), len(u.AdAccounts)), link(u.ID)})
		}
	} else {
		for _, m := range s.liMembers {
			users = append(users, dialogUser{m.ID, m.Name, fmt.Sprintf("%d organizations · %d ad accounts", len(m.Orgs), len(m.AdAccounts)), link(m.ID)})
		}
	}
	s.mu.Unlock()
	s.render(w, http.StatusOK, "choose.html", struct {
		pageBase
		Users  []dialogUser
		Action string
		Hidden []hiddenField
	}{pageBase{Title: "Log in", Brand: brand, Prefix: s.prefix, AppName: metaAppName}, users, r.URL.Path, d.hidden()})
}

func (s *Sandbox) renderConsent(w http.ResponseWriter, r *http.Request, provider, brand string, d dialogRequest, userID string, requested []string) {
	data := struct {
		pageBase
		UserName          string
		Rerequest         bool
		Scopes            []string
		Pages, AdAccounts []dialogAsset
		Action            string
		Hidden            []hiddenField
	}{pageBase: pageBase{Title: "Continue", Brand: brand, Prefix: s.prefix, AppName: metaAppName},
		Rerequest: d.authType == "rerequest", Scopes: requested, Action: r.URL.Path,
		Hidden: slices.Concat(d.hidden(), []hiddenField{{"as", userID}})}
	s.mu.Lock()
	if u := s.metaUser(userID); provider == "meta" && u != nil {
		data.UserName = u.FirstName
		for _, p := range u.Pages {
			data.Pages = append(data.Pages, dialogAsset{p.ID, p.Name})
		}
		for _, a := range u.AdAccounts {
			data.AdAccounts = append(data.AdAccounts, dialogAsset{"act_" + a.ID, a.Name})
		}
	}
	if m := s.liMember(userID); provider == "linkedin" && m != nil {
		data.UserName = m.GivenName
	}
	s.mu.Unlock()
	s.render(w, http.StatusOK, "consent.html", data)
}
