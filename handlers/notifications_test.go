package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/models"
)

func TestNotificationSettingsPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.signedIn("owner@northwind.test")
	cedar, bluebird, rival := s.subs["Cedar Dental"], s.subs["Bluebird Bakery"], s.subs[rivalSubAccount]
	ownerUser, err := s.store.UserByEmail(context.Background(), "owner@northwind.test")
	if err != nil {
		t.Fatal(err)
	}
	prefs := func() models.NotificationPrefs {
		t.Helper()
		p, err := s.store.NotificationPrefsOf(context.Background(), ownerUser.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := owner.get("/settings/notifications")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	if got := p.doc.Find(`input[name="default"][checked]`).AttrOr("value", ""); got != string(models.NotifyImmediate) {
		t.Errorf("default checked %q, want immediate", got)
	}
	rows := p.doc.Find(`[data-testid="notifications-row"]`)
	if rows.Length() != len(models.DemoSubAccounts) || strings.Contains(p.body, rivalSubAccount) {
		t.Errorf("%d rows (want %d); names the rival: %v", rows.Length(), len(models.DemoSubAccounts), strings.Contains(p.body, rivalSubAccount))
	}
	// Every control has a label.
	p.doc.Find("select").Each(func(_ int, sel *goquery.Selection) {
		id := sel.AttrOr("id", "")
		if id == "" || p.doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("select %q has no label", id)
		}
	})

	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		// wantError is the data-testid region's text on a 422; wantInvalid the field marked invalid.
		wantError   string
		wantInvalid string
		want        func() models.NotificationPrefs
	}{
		{
			name: "saved", form: url.Values{"default": {"digest"}, fmt.Sprintf("sub-%d", cedar.ID): {"off"}, fmt.Sprintf("sub-%d", bluebird.ID): {""}},
			wantStatus: http.StatusSeeOther,
			want: func() models.NotificationPrefs {
				return models.NotificationPrefs{Default: models.NotifyDigest, Overrides: map[int64]models.NotificationMode{cedar.ID: models.NotifyOff}}
			},
		},
		{
			name: "an unknown default mode", form: url.Values{"default": {"weekly"}},
			wantStatus: http.StatusUnprocessableEntity, wantError: "Choose right away, daily digest or off.", wantInvalid: "default",
		},
		{
			name: "no default at all", form: url.Values{fmt.Sprintf("sub-%d", cedar.ID): {"off"}},
			wantStatus: http.StatusUnprocessableEntity, wantError: "Choose right away, daily digest or off.", wantInvalid: "default",
		},
		{
			name: "an unknown mode for a sub-account", form: url.Values{"default": {"off"}, fmt.Sprintf("sub-%d", cedar.ID): {"sometimes"}},
			wantStatus: http.StatusUnprocessableEntity, wantError: "Cedar Dental: Choose same as default", wantInvalid: fmt.Sprintf("sub-%d", cedar.ID),
		},
		{
			name: "another agency's sub-account", form: url.Values{"default": {"off"}, fmt.Sprintf("sub-%d", rival.ID): {"off"}},
			wantStatus: http.StatusUnprocessableEntity, wantError: "names a sub-account you cannot reach",
		},
		{
			name: "a malformed sub-account field", form: url.Values{"default": {"off"}, "sub-01": {"off"}},
			wantStatus: http.StatusUnprocessableEntity, wantError: "could not be read",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := prefs()
			p := owner.post("/settings/notifications", tt.form)
			if p.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", p.status, tt.wantStatus, p.body)
			}
			if tt.wantStatus == http.StatusSeeOther {
				if p.location() != "/settings/notifications" {
					t.Fatalf("redirect to %q", p.location())
				}
				if got, want := prefs(), tt.want(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("saved %+v, want %+v", got, want)
				}
				after := owner.get("/settings/notifications")
				if !strings.Contains(after.doc.Find(".flash").Text(), "saved") {
					t.Errorf("no saved flash: %q", after.doc.Find(".flash").Text())
				}
				if got := after.doc.Find(`input[name="default"][checked]`).AttrOr("value", ""); got != "digest" {
					t.Errorf("default shown %q after saving digest", got)
				}
				if got := after.doc.Find(fmt.Sprintf(`select[name="sub-%d"] option[selected]`, cedar.ID)).AttrOr("value", "?"); got != "off" {
					t.Errorf("Cedar shown %q after saving off", got)
				}
				return
			}
			if got := p.doc.Find(`[data-testid="notifications-errors"]`).Text(); !strings.Contains(got, tt.wantError) {
				t.Errorf("errors %q, want %q", got, tt.wantError)
			}
			if tt.wantInvalid != "" && p.doc.Find(`[name="`+tt.wantInvalid+`"][aria-invalid="true"]`).Length() == 0 {
				t.Errorf("%s is not marked invalid", tt.wantInvalid)
			}
			if got := prefs(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("a refused form changed the settings: %+v, was %+v", got, before)
			}
		})
	}

	t.Run("signed out goes to sign in and back", func(t *testing.T) {
		p := s.browser().get("/settings/notifications")
		if p.status != http.StatusSeeOther || p.location() != "/login?next=%2Fsettings%2Fnotifications" {
			t.Fatalf("status %d to %q", p.status, p.location())
		}
	})
	t.Run("support gets no form and cannot post", func(t *testing.T) {
		b := s.signedIn("support@relink.test")
		p := b.get("/settings/notifications")
		if p.status != http.StatusOK || p.doc.Find(`[data-testid="notifications-support"]`).Length() != 1 || p.doc.Find("form[data-testid=notifications-form]").Length() != 0 {
			t.Fatalf("support's page: %d", p.status)
		}
		if p := b.post("/settings/notifications", url.Values{"default": {"off"}}); p.status != http.StatusForbidden {
			t.Fatalf("support's post: %d, want 403", p.status)
		}
	})
	t.Run("a read-only role is told it gets no emails", func(t *testing.T) {
		p := s.signedIn("user@bluebird.test").get("/settings/notifications")
		if p.status != http.StatusOK || !strings.Contains(p.doc.Find(`[data-testid="notifications-row"]`).Text(), "read-only") {
			t.Fatalf("account user's page: %d %q", p.status, p.doc.Find(`[data-testid="notifications-row"]`).Text())
		}
	})
}
