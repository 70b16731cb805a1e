package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/handlers"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/notify"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/sandbox"
)

// newDevMailSite is the site of buildSite (demo and rival agencies) with /dev/mail mounted
// or not, as the wiring mounts it in sandbox mode without SMTP_URL.
func newDevMailSite(t *testing.T, devMail bool) *site {
	t.Helper()
	ctx := context.Background()
	store := storetest.Open(t)
	if _, err := store.SeedDemo(ctx, demoPassword); err != nil {
		t.Fatal(err)
	}
	rival, err := store.CreateAgency(ctx, "Rival Agency")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateSubAccount(ctx, rival.ID, rivalSubAccount); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(store)
	cfg.DevMail = devMail
	a, err := handlers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Routes())
	t.Cleanup(srv.Close)
	s := &site{t: t, store: store, server: srv, subs: map[string]models.SubAccountRef{}}
	support, err := store.UserByEmail(ctx, "support@relink.test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := store.LoadPrincipal(ctx, support.ID)
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.SearchSubAccounts(ctx, p, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all.Results {
		s.subs[r.Name] = r
	}
	return s
}

// queueIncident breaks a new Facebook connection of sub-account sub and queues its
// emails through the outbox, as the connection service does; it returns the connection.
func queueIncident(t *testing.T, s *site, sub models.SubAccountRef, name string) models.Connection {
	t.Helper()
	ctx := context.Background()
	c, err := s.store.CreateConnection(ctx, sub.ID, models.Connection{Provider: "meta", ExternalUserID: "ext-" + name,
		ExternalUserName: name, Status: models.StatusReauthRequired, Reason: providers.ReasonPasswordChanged})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(s.server.URL)
	ob, err := notify.New(notify.Config{Store: s.store, BaseURL: base, Log: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		n, err := ob.Queue(ctx, tx, connection.Notice{Kind: connection.NoticeIncident, Connection: c, Since: time.Now()})
		if err == nil && n == 0 {
			err = fmt.Errorf("no email queued for %s", sub.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// emailIDs are the ids of the outbox emails about sub-account sub.
func emailIDs(t *testing.T, s *site, sub models.SubAccountRef) []int64 {
	t.Helper()
	ctx := context.Background()
	u, err := s.store.UserByEmail(ctx, "support@relink.test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.store.LoadPrincipal(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.store.EmailsFor(ctx, p, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range all {
		if e.SubAccountID != nil && *e.SubAccountID == sub.ID {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no email about %s", sub.Name)
	}
	return ids
}

func TestDevMail(t *testing.T) {
	t.Parallel()
	s := newDevMailSite(t, true)
	ctx := context.Background()
	rival := s.subs[rivalSubAccount]
	if _, err := s.store.CreateUser(ctx, models.NewUser{Email: "boss@rival.test", Password: demoPassword,
		Role: models.RoleAgencyOwner, AgencyID: rival.AgencyID}); err != nil {
		t.Fatal(err)
	}
	queueIncident(t, s, s.subs["Bluebird Bakery"], "Avery Agency")
	queueIncident(t, s, s.subs["Cedar Dental"], "Casey Cedar")
	queueIncident(t, s, rival, "Rival Person")
	bluebird, cedar, foreign := emailIDs(t, s, s.subs["Bluebird Bakery"]), emailIDs(t, s, s.subs["Cedar Dental"]), emailIDs(t, s, rival)

	tests := []struct {
		name     string
		email    string
		readable [][]int64
		hidden   [][]int64
	}{
		{name: "agency owner", email: "owner@northwind.test", readable: [][]int64{bluebird, cedar}, hidden: [][]int64{foreign}},
		{name: "account user reads their sub-account's", email: "user@bluebird.test", readable: [][]int64{bluebird}, hidden: [][]int64{cedar, foreign}},
		{name: "another agency", email: "boss@rival.test", readable: [][]int64{foreign}, hidden: [][]int64{bluebird, cedar}},
		{name: "support reads every one", email: "support@relink.test", readable: [][]int64{bluebird, cedar, foreign}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s.signedIn(tt.email)
			list := b.get("/dev/mail?all=1")
			if list.status != http.StatusOK {
				t.Fatalf("list: %d", list.status)
			}
			listed := map[string]bool{}
			list.doc.Find(`[data-testid="devmail-row"]`).Each(func(_ int, row *goquery.Selection) {
				listed[row.AttrOr("data-email-id", "")] = true
			})
			for _, group := range tt.readable {
				for _, id := range group {
					if !listed[fmt.Sprint(id)] {
						t.Errorf("email %d is not listed", id)
					}
					p := b.get(fmt.Sprintf("/dev/mail/%d", id))
					if p.status != http.StatusOK || !strings.Contains(p.doc.Find(`[data-testid="devmail-text"]`).Text(), "Reauthenticate") {
						t.Errorf("email %d: status %d", id, p.status)
					}
					if src := p.doc.Find(`iframe[data-testid="devmail-frame"]`); src.AttrOr("sandbox", "missing") != "" || src.AttrOr("src", "") != fmt.Sprintf("/dev/mail/%d/html", id) {
						t.Errorf("email %d: frame %v", id, src.Nodes)
					}
					h := b.get(fmt.Sprintf("/dev/mail/%d/html", id))
					csp := h.header.Get("Content-Security-Policy")
					if h.status != http.StatusOK || !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") ||
						!strings.Contains(h.body, "<html") || !strings.Contains(h.header.Get("Content-Type"), "text/html") {
						t.Errorf("email %d's HTML: status %d, CSP %q", id, h.status, csp)
					}
				}
			}
			for _, group := range tt.hidden {
				for _, id := range group {
					if listed[fmt.Sprint(id)] {
						t.Errorf("foreign email %d is listed", id)
					}
					for _, path := range []string{fmt.Sprintf("/dev/mail/%d", id), fmt.Sprintf("/dev/mail/%d/html", id)} {
						if p := b.get(path); p.status != http.StatusNotFound || strings.Contains(p.body, "Reauthenticate") {
							t.Errorf("%s: status %d, want 404", path, p.status)
						}
					}
				}
			}
		})
	}
	t.Run("an unknown or malformed id is 404", func(t *testing.T) {
		b := s.signedIn("owner@northwind.test")
		for _, path := range []string{"/dev/mail/999999", "/dev/mail/abc", "/dev/mail/01", "/dev/mail/999999/html"} {
			if p := b.get(path); p.status != http.StatusNotFound {
				t.Errorf("%s: %d", path, p.status)
			}
		}
	})
	t.Run("signed out goes to sign in", func(t *testing.T) {
		p := s.browser().get(fmt.Sprintf("/dev/mail/%d", bluebird[0]))
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login?next=") {
			t.Fatalf("status %d to %q", p.status, p.location())
		}
	})
	t.Run("support's reads are in the history", func(t *testing.T) {
		b := s.signedIn("support@relink.test")
		b.get(fmt.Sprintf("/dev/mail/%d", foreign[0]))
		events, err := s.store.EventsOf(ctx, rival.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events {
			found = found || (e.Kind == models.EventSupportView && strings.Contains(e.Detail, "/dev/mail/"))
		}
		if !found {
			t.Error("no support_view event for the email support read")
		}
	})
}

func TestDevMailIsNotMountedWithoutTheFlag(t *testing.T) {
	t.Parallel()
	s := newDevMailSite(t, false)
	queueIncident(t, s, s.subs["Bluebird Bakery"], "Avery Agency")
	id := emailIDs(t, s, s.subs["Bluebird Bakery"])[0]
	b := s.signedIn("support@relink.test")
	for _, path := range []string{"/dev/mail", fmt.Sprintf("/dev/mail/%d", id), fmt.Sprintf("/dev/mail/%d/html", id)} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.status)
		}
	}
}

// TestDevMailOpensOnTheViewersInbox: the outbox shows the viewer's own emails first, as an
// inbox would; everyone's they may read are one link away.
func TestDevMailOpensOnTheViewersInbox(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	b.connectAll(s.subs["Bluebird Bakery"], "meta", avery)
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "password_changed"}); err != nil {
		t.Fatal(err)
	}
	s.sandbox.Clock().Advance(time.Hour) // the connection's check comes due
	if _, err := s.conns.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows := func(path string) []string {
		var out []string
		b.get(path).doc.Find(`[data-testid="devmail-row"]`).Each(func(_ int, r *goquery.Selection) {
			out = append(out, strings.Join(strings.Fields(r.Text()), " "))
		})
		return out
	}
	mine := rows("/dev/mail")
	if len(mine) != 1 || !strings.Contains(mine[0], "admin@bluebird.test") {
		t.Fatalf("the admin's inbox: %q", mine)
	}
	if all := rows("/dev/mail?all=1"); len(all) != 2 {
		t.Fatalf("everyone's: %q", all)
	}
}
