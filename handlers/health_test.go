package handlers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers/sandbox"
)

// connectionOf returns the connection card of provider user ext on a page.
func cardOf(t *testing.T, p page, provider string) (status, reason string) {
	t.Helper()
	sel := p.doc.Find(fmt.Sprintf(`[data-testid="connection"][data-provider="%s"]`, provider))
	if sel.Length() != 1 {
		t.Fatalf("%d %s connections on the page", sel.Length(), provider)
	}
	return sel.AttrOr("data-status", ""), sel.AttrOr("data-reason", "")
}

func TestCheckNowShowsTheReason(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("owner@northwind.test")
	sub := s.subs["Bluebird Bakery"]
	b.connectAll(sub, "meta", avery)
	p := b.get(accountPath(sub, "/connections"))
	if p.doc.Find(`[data-testid="check-now"]`).Length() != 1 || p.doc.Find(`[data-testid="next-check"]`).Length() != 1 {
		t.Fatal("no Check now or next check on the card")
	}
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "password_changed"}); err != nil {
		t.Fatal(err)
	}
	id := p.doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
	r := b.post(accountPath(sub, "/connections/"+id+"/check"), nil, "HX-Request", "true")
	if r.status != http.StatusOK {
		t.Fatalf("check now: %d", r.status)
	}
	if st, reason := cardOf(t, r, "meta"); st != "reauth_required" || reason != "password_changed" {
		t.Fatalf("card after Check now: %s/%s", st, reason)
	}
	if r.doc.Find(`[data-testid="check-outcome"]`).Length() != 1 {
		t.Fatal("no outcome of the check on the card")
	}
	if got := r.doc.Find(`[data-testid="reason-title"]`).Text(); !strings.Contains(got, "Password changed — reconnect") {
		t.Fatalf("headline %q", got)
	}
}

func TestCheckNowTenancyAndRoles(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	owner := s.signedIn("owner@northwind.test")
	sub := s.subs["Bluebird Bakery"]
	owner.connectAll(sub, "meta", avery)
	id := owner.get(accountPath(sub, "/connections")).doc.Find(`[data-testid="connection"]`).AttrOr("data-connection-id", "")
	// Another sub-account's path with this connection's id is not found.
	other := s.subs["Cedar Dental"]
	if r := owner.post(accountPath(other, "/connections/"+id+"/check"), nil); r.status != http.StatusNotFound {
		t.Fatalf("foreign connection: %d", r.status)
	}
	// Someone of another sub-account reaching for this one's connection.
	admin := s.signedIn("admin@bluebird.test")
	if r := admin.post(accountPath(s.subs[rivalSubAccount], "/connections/"+id+"/check"), nil); r.status != http.StatusNotFound {
		t.Fatalf("another agency's path: %d", r.status)
	}
	user := s.signedIn("user@bluebird.test")
	if r := user.post(accountPath(sub, "/connections/"+id+"/check"), nil); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Fatalf("read-only user: %d", r.status)
	}
}

// signed builds a signed_request as Meta does, with secret.
func signed(secret, payload string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + p
}

func TestDeauthorizeCallback(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("owner@northwind.test")
	sub := s.subs["Bluebird Bakery"]
	b.connectAll(sub, "meta", avery)
	_, secret := s.sandbox.MetaApp()
	now := s.store.Now().Unix()
	payload := fmt.Sprintf(`{"algorithm":"HMAC-SHA256","issued_at":%d,"user_id":"%s"}`, now, avery)
	anon := s.browser()
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"missing", url.Values{}},
		{"unsigned", url.Values{"signed_request": {"." + base64.RawURLEncoding.EncodeToString([]byte(payload))}}},
		{"forged", url.Values{"signed_request": {signed("not-the-secret", payload)}}},
	} {
		if r := anon.post(handlers.MetaDeauthorizePath, tc.form); r.status != http.StatusBadRequest {
			t.Fatalf("%s: %d", tc.name, r.status)
		}
		if st, _ := cardOf(t, b.get(accountPath(sub, "/connections")), "meta"); st != string(models.StatusHealthy) {
			t.Fatalf("%s changed the connection to %s", tc.name, st)
		}
	}
	if r := anon.post(handlers.MetaDeauthorizePath, url.Values{"signed_request": {signed(secret, payload)}}); r.status != http.StatusOK {
		t.Fatalf("genuine: %d", r.status)
	}
	if st, reason := cardOf(t, b.get(accountPath(sub, "/connections")), "meta"); st != "reauth_required" || reason != "app_removed" {
		t.Fatalf("after the callback: %s/%s", st, reason)
	}
}

func TestSandboxAppRemovedCallsBack(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("owner@northwind.test")
	sub := s.subs["Bluebird Bakery"]
	b.connectAll(sub, "meta", avery)
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "app_removed"}); err != nil {
		t.Fatal(err)
	}
	s.sandbox.WaitCallbacks()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, reason := cardOf(t, b.get(accountPath(sub, "/connections")), "meta")
		if st == "reauth_required" && reason == "app_removed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox's callback did not flag the connection: %s/%s", st, reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIncidentBannerForEveryone(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	if _, _, err := s.store.OpenIncident(t.Context(), "meta", "provider_unavailable", 3, s.store.Now()); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"owner@northwind.test", "user@bluebird.test", "support@relink.test"} {
		p := s.signedIn(who).get("/")
		if p.status == http.StatusSeeOther || p.status == http.StatusFound {
			p = s.signedIn(who).get(p.location())
		}
		got := p.doc.Find(`[data-testid="incident-banner"]`).Text()
		if !strings.Contains(got, "Facebook is not answering since") || !strings.Contains(got, "nothing is lost") {
			t.Fatalf("%s sees %q", who, got)
		}
	}
}
