package handlers_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/oauth"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
)

// Sandbox users the connection tests sign in as.
const (
	avery = "10000000000001" // 3 Pages, 4 ad accounts, 2 datasets
	blake = "10000000000002" // 250 ad accounts
	casey = "10000000000003"
	dana  = "lnk-dana-0001"
)

// testConnections is the connection service and OAuth flows over the sandbox, as serve
// wires them, with a fixed token key; transport, when not nil, carries the providers' calls,
// and notifier, when not nil, gets the emails.
func testConnections(t testing.TB, store *models.Store, sb *sandbox.Sandbox, base string, log *slog.Logger, transport http.RoundTripper, notifier connection.Notifier) (*connection.Service, *oauth.Flows) {
	t.Helper()
	cipher, err := models.NewCipher([]byte(strings.Repeat("t", 32)))
	if err != nil {
		t.Fatal(err)
	}
	mc, lc := sb.MetaConfig(base), sb.LinkedInConfig(base)
	mc.Limits = store.ProviderLimits("meta")
	if transport != nil {
		mc.HTTPClient = &http.Client{Transport: transport}
		lc.HTTPClient = &http.Client{Transport: transport}
	}
	provs := []providers.Provider{meta.New(mc), linkedin.New(lc)}
	svc, err := connection.New(connection.Config{Store: store, Cipher: cipher, Providers: provs, Log: log, Notifier: notifier})
	if err != nil {
		t.Fatal(err)
	}
	flows, err := oauth.New(oauth.Config{Store: store, Providers: provs})
	if err != nil {
		t.Fatal(err)
	}
	return svc, flows
}

// newSandboxSite is a test site with the sandbox mounted and connections wired to it.
func newSandboxSite(t *testing.T) *site {
	t.Helper()
	return buildSite(t, siteOptions{sandbox: true})
}

// dialog follows a Connect or Reauthenticate answer to the sandbox's dialog, approves it
// as provider user (extra adds dialog parameters, such as a declined scope) and returns the
// callback path with its code and state, without visiting it.
func (b *browser) dialog(start page, user string, extra ...string) string {
	b.t.Helper()
	if start.status != http.StatusSeeOther {
		b.t.Fatalf("start: status %d, want 303; body %s", start.status, start.body)
	}
	u, err := url.Parse(start.location())
	if err != nil {
		b.t.Fatal(err)
	}
	q := u.Query()
	q.Set("sandbox_user", user)
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	u.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		b.t.Fatalf("dialog: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return cb.RequestURI()
}

// connect runs Connect for provider as user in sub-account sub and returns the picker.
func (b *browser) connect(sub models.SubAccountRef, provider, user string) page {
	b.t.Helper()
	start := b.post(accountPath(sub, "/connect/"+provider), nil)
	cb := b.dialog(start, user)
	back := b.get(cb)
	if back.status != http.StatusSeeOther || !strings.Contains(back.location(), "/connections/flows/") {
		b.t.Fatalf("callback: status %d location %q body %s", back.status, back.location(), back.body)
	}
	picker := b.get(back.location())
	if picker.status != http.StatusOK {
		b.t.Fatalf("picker: status %d", picker.status)
	}
	picker.path = back.location()
	return picker
}

// connectAll connects every asset the picker offers and returns the connections page.
func (b *browser) connectAll(sub models.SubAccountRef, provider, user string) page {
	b.t.Helper()
	picker := b.connect(sub, provider, user)
	form := url.Values{}
	picker.doc.Find(`input[name="asset"]`).Each(func(_ int, s *goquery.Selection) {
		if v, ok := s.Attr("value"); ok {
			form.Add("asset", v)
		}
	})
	done := b.post(picker.path, form)
	if done.status != http.StatusSeeOther {
		b.t.Fatalf("picker submit: status %d body %s", done.status, done.body)
	}
	return b.get(accountPath(sub, "/connections"))
}

func accountPath(sub models.SubAccountRef, rest string) string {
	return "/accounts/" + strconv.FormatInt(sub.ID, 10) + rest
}

// consent answers the sandbox's consent page for a Connect or Reauthenticate answer as a
// person would: as provider user, granting every requested permission but only the Pages
// and ad accounts given (Meta ids). It returns the callback path, without visiting it.
func (b *browser) consent(start page, user string, pages, adAccounts []string) string {
	b.t.Helper()
	u, err := url.Parse(start.location())
	if err != nil || start.status != http.StatusSeeOther {
		b.t.Fatalf("start: status %d location %q", start.status, start.location())
	}
	form := u.Query()
	form.Set("as", user)
	form.Set("action", "continue")
	form["perm"] = strings.Fields(strings.ReplaceAll(form.Get("scope"), ",", " "))
	form["page"] = pages
	form["adaccount"] = adAccounts
	req, _ := http.NewRequest(http.MethodPost, u.Scheme+"://"+u.Host+u.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		b.t.Fatalf("consent: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return cb.RequestURI()
}
