package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// brokenConnection stores a Facebook connection of sub-account sub that needs
// reauthentication because the password changed.
func brokenConnection(t *testing.T, s *site, sub models.SubAccountRef, extID, name string) models.Connection {
	t.Helper()
	c, err := s.store.CreateConnection(context.Background(), sub.ID, models.Connection{Provider: "meta",
		ExternalUserID: extID, ExternalUserName: name, Status: models.StatusReauthRequired, Reason: providers.ReasonPasswordChanged})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reauthPath(sub, conn int64) string {
	return fmt.Sprintf("/accounts/%d/connections/%d/reauthenticate", sub, conn)
}

func TestReauthenticateLandingPage(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	bluebird, cedar := s.subs["Bluebird Bakery"], s.subs["Cedar Dental"]
	conn := brokenConnection(t, s, bluebird, "10000000000001", "Avery Agency")
	other := brokenConnection(t, s, cedar, "10000000000003", "Casey")
	path := reauthPath(bluebird.ID, conn.ID)

	tests := []struct {
		name   string
		email  string
		manage bool
	}{
		{name: "account admin may reconnect", email: "admin@bluebird.test", manage: true},
		{name: "agency owner may reconnect", email: "owner@northwind.test", manage: true},
		{name: "account user is told who can", email: "user@bluebird.test"},
		{name: "support is told who can", email: "support@relink.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.signedIn(tt.email).get(path)
			if p.status != http.StatusOK {
				t.Fatalf("status %d", p.status)
			}
			page := p.doc.Find(`[data-testid="reauthenticate-page"]`)
			for _, want := range []string{"Facebook", "Avery Agency", "10000000000001", "Bluebird Bakery",
				models.StatusReauthRequired.Label(), providers.ReasonPasswordChanged.Message(), providers.ReasonPasswordChanged.Fix()} {
				if !strings.Contains(page.Text(), want) {
					t.Errorf("page lacks %q", want)
				}
			}
			button := p.doc.Find(`[data-testid="reauthenticate"]`)
			who := p.doc.Find(`[data-testid="reauthenticate-who"]`)
			if tt.manage {
				form := button.Closest("form")
				if button.Length() != 1 || form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != path {
					t.Fatalf("no Reauthenticate form posting to %s", path)
				}
				if who.Length() != 0 {
					t.Error("a manager is told who can")
				}
				return
			}
			if button.Length() != 0 {
				t.Fatal("a read-only role sees the Reauthenticate button")
			}
			for _, want := range []string{"admin@bluebird.test", "owner@northwind.test", "account admin of Bluebird Bakery"} {
				if !strings.Contains(who.Text(), want) {
					t.Errorf("who-can lacks %q: %q", want, who.Text())
				}
			}
			if strings.Contains(who.Text(), "user@bluebird.test") {
				t.Error("who-can names a read-only user")
			}
		})
	}

	t.Run("the button starts the provider's dialog", func(t *testing.T) {
		b := s.signedIn("admin@bluebird.test")
		p := b.post(path, nil)
		if p.status != http.StatusSeeOther || !strings.Contains(p.location(), "/sandbox/") {
			t.Fatalf("status %d to %q, want the sandbox's dialog", p.status, p.location())
		}
	})
	t.Run("foreign and unknown connections are 404", func(t *testing.T) {
		b := s.signedIn("owner@northwind.test")
		for _, path := range []string{
			reauthPath(bluebird.ID, other.ID), // Cedar's connection under Bluebird's address
			reauthPath(bluebird.ID, 999999),
			reauthPath(s.subs[rivalSubAccount].ID, conn.ID),
		} {
			if p := b.get(path); p.status != http.StatusNotFound || strings.Contains(p.body, "Avery Agency") || strings.Contains(p.body, "Casey") {
				t.Errorf("%s: %d, want 404", path, p.status)
			}
		}
		if p := s.signedIn("admin@bluebird.test").get(reauthPath(cedar.ID, other.ID)); p.status != http.StatusNotFound {
			t.Errorf("another sub-account's page: %d, want 404", p.status)
		}
	})
	t.Run("signed out, sign-in brings them back", func(t *testing.T) {
		b := s.browser()
		p := b.get(path)
		want := "/login?next=" + url.QueryEscape(path)
		if p.status != http.StatusSeeOther || p.location() != want {
			t.Fatalf("status %d to %q, want %q", p.status, p.location(), want)
		}
		login := b.get(p.location())
		next := login.doc.Find(`input[name="next"]`).AttrOr("value", "")
		p = b.post("/login", url.Values{"email": {"admin@bluebird.test"}, "password": {demoPassword}, "next": {next}})
		if p.status != http.StatusSeeOther || p.location() != path {
			t.Fatalf("after sign-in: %d to %q, want %q", p.status, p.location(), path)
		}
		if p := b.get(path); p.status != http.StatusOK || p.doc.Find(`[data-testid="reauthenticate"]`).Length() != 1 {
			t.Fatalf("back on the page: %d", p.status)
		}
	})
	t.Run("a disconnected connection offers no button", func(t *testing.T) {
		gone := brokenConnection(t, s, bluebird, "10000000000002", "Blake")
		gone.Status = models.StatusDisconnected
		if err := s.store.UpdateConnection(context.Background(), bluebird.ID, gone); err != nil {
			t.Fatal(err)
		}
		p := s.signedIn("admin@bluebird.test").get(reauthPath(bluebird.ID, gone.ID))
		if p.status != http.StatusOK || p.doc.Find(`[data-testid="reauthenticate"]`).Length() != 0 ||
			!strings.Contains(p.doc.Find(`[data-testid="reauthenticate-reason"]`).Text(), "disconnected") {
			t.Fatalf("disconnected: %d", p.status)
		}
	})
}
