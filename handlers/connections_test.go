package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/models"
	"github.com/relink/relink/oauth"
	"github.com/relink/relink/providers/sandbox"
)

func TestConnectMetaThroughTheDialog(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]

	empty := b.get(accountPath(bakery, "/connections"))
	if empty.doc.Find(`[data-testid="connect-meta"]`).Length() != 1 || empty.doc.Find(`[data-testid="connect-linkedin"]`).Length() != 1 {
		t.Fatalf("empty page has no Connect buttons:\n%s", empty.body)
	}

	picker := b.connect(bakery, "meta", avery)
	if h := picker.doc.Find("h1").Text(); !strings.Contains(h, "Choose the Pages and ad accounts to connect to Bluebird Bakery") {
		t.Errorf("picker heading %q", h)
	}
	boxes := picker.doc.Find(`input[name="asset"]`)
	if boxes.Length() != 10 {
		t.Errorf("picker offers %d assets, want 10 (3 Pages, 1 Instagram, 4 ad accounts, 2 datasets)", boxes.Length())
	}
	if checked := picker.doc.Find(`input[name="asset"][checked]`).Length(); checked != boxes.Length() {
		t.Errorf("%d of %d preselected", checked, boxes.Length())
	}

	page := b.connectAll(bakery, "meta", avery)
	card := page.doc.Find(`[data-testid="connection"]`)
	if card.Length() != 1 {
		t.Fatalf("%d connection cards, want 1:\n%s", card.Length(), page.body)
	}
	if st, _ := card.Attr("data-status"); st != "healthy" {
		t.Errorf("data-status %q", st)
	}
	if p, _ := card.Attr("data-provider"); p != "meta" {
		t.Errorf("data-provider %q", p)
	}
	if n := page.doc.Find(`[data-testid="asset-row"]`).Length(); n != 10 {
		t.Errorf("%d asset rows, want 10", n)
	}
	if !strings.Contains(page.body, "Connected Facebook account Avery Agency") {
		t.Errorf("no success message")
	}
	if !strings.Contains(card.Text(), "Avery Agency") || !strings.Contains(card.Text(), avery) {
		t.Errorf("card does not name the provider user and id: %s", card.Text())
	}
}

func TestConnectFailuresSaveNothing(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	bakery := s.subs["Bluebird Bakery"]
	tests := []struct {
		name    string
		run     func(b *browser) page
		status  int
		message string
	}{
		{name: "cancel in the dialog", status: http.StatusSeeOther, message: "cancelled", run: func(b *browser) page {
			start := b.post(accountPath(bakery, "/connect/meta"), nil)
			u, _ := url.Parse(start.location())
			form := u.Query()
			form.Set("action", "cancel")
			req, _ := http.NewRequest(http.MethodPost, u.Scheme+"://"+u.Host+u.Path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cb, _ := url.Parse(resp.Header.Get("Location"))
			return b.get(cb.RequestURI())
		}},
		{name: "forged state", status: http.StatusBadRequest, message: "did not start here", run: func(b *browser) page {
			return b.get("/oauth/meta/callback?code=AQxyz&state=forged")
		}},
		{name: "no state", status: http.StatusBadRequest, message: "did not start here", run: func(b *browser) page {
			return b.get("/oauth/meta/callback?code=AQxyz")
		}},
		{name: "replayed callback", status: http.StatusSeeOther, message: "already used", run: func(b *browser) page {
			cb := b.dialog(b.post(accountPath(bakery, "/connect/meta"), nil), avery)
			b.get(cb)
			return b.get(cb)
		}},
		{name: "expired state", status: http.StatusSeeOther, message: "expired", run: func(b *browser) page {
			cb := b.dialog(b.post(accountPath(bakery, "/connect/meta"), nil), avery)
			s.sandbox.Clock().Advance(oauth.DefaultTTL + time.Second)
			return b.get(cb)
		}},
		{name: "another user's callback", status: http.StatusBadRequest, message: "did not start here", run: func(b *browser) page {
			owner := s.signedIn("owner@northwind.test")
			cb := owner.dialog(owner.post(accountPath(bakery, "/connect/meta"), nil), avery)
			return b.get(cb)
		}},
		{name: "provider error", status: http.StatusSeeOther, message: "not responding", run: func(b *browser) page {
			cb := b.dialog(b.post(accountPath(bakery, "/connect/meta"), nil), avery)
			if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "provider_unavailable"}); err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: sandbox.FaultClear})
			}()
			return b.get(cb)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s.signedIn("admin@bluebird.test")
			p := tt.run(b)
			if p.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", p.status, tt.status, p.body)
			}
			text := p.body
			if p.status == http.StatusSeeOther {
				text = b.get(p.location()).body
			}
			if !strings.Contains(text, tt.message) {
				t.Errorf("page does not say %q:\n%s", tt.message, text)
			}
			rows, err := s.store.ConnectionsOf(context.Background(), bakery.ID)
			if err != nil || len(rows) != 0 {
				t.Errorf("%d connections saved (err %v), want none", len(rows), err)
			}
		})
	}
}

func TestRefreshAssetSwapsTheRow(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	page := b.connectAll(bakery, "meta", avery)
	row := page.doc.Find(`[data-testid="asset-row"][data-kind="ad_account"]`).First()
	id, _ := row.Attr("data-asset-id")

	frag := b.post(accountPath(bakery, "/assets/"+id+"/refresh"), nil, "HX-Request", "true")
	if frag.status != http.StatusOK {
		t.Fatalf("htmx refresh: %d %s", frag.status, frag.body)
	}
	// A bare <tr> is dropped by an HTML parser outside a table, so count the markup.
	if strings.Contains(frag.body, "<html") || strings.Count(frag.body, `data-testid="asset-row"`) != 1 || !strings.HasPrefix(frag.body, "<tr") {
		t.Errorf("htmx refresh did not answer with one row:\n%s", frag.body)
	}
	if !strings.Contains(frag.body, "Updated just now") {
		t.Errorf("no outcome in the row:\n%s", frag.body)
	}

	plain := b.post(accountPath(bakery, "/assets/"+id+"/refresh"), nil)
	if plain.status != http.StatusSeeOther || !strings.Contains(plain.location(), "/connections") {
		t.Errorf("plain refresh: %d %q", plain.status, plain.location())
	}

	// A dead token: the card comes back with the reason and the emphasised Reauthenticate.
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "password_changed"}); err != nil {
		t.Fatal(err)
	}
	dead := b.post(accountPath(bakery, "/assets/"+id+"/refresh"), nil, "HX-Request", "true")
	card := dead.doc.Find(`[data-testid="connection"]`)
	if st, _ := card.Attr("data-status"); st != "reauth_required" {
		t.Fatalf("after password change: card status %q\n%s", st, dead.body)
	}
	if r, _ := card.Attr("data-reason"); r != "password_changed" {
		t.Errorf("data-reason %q", r)
	}
	if !strings.Contains(dead.body, "Refreshing did not help") {
		t.Errorf("card does not say refreshing did not help")
	}
	if dead.header.Get("HX-Retarget") == "" {
		t.Errorf("card answer without HX-Retarget")
	}
	full := b.get(accountPath(bakery, "/connections"))
	if full.doc.Find(`[data-testid="connection-banner"]`).Length() != 1 {
		t.Errorf("no banner after the token died")
	}
	// The banner shows on every page of the sub-account.
	hist := b.get(accountPath(bakery, "/history"))
	if hist.doc.Find(`[data-testid="connection-banner"]`).Length() != 1 {
		t.Errorf("no banner on the history page")
	}
}

func TestProviderDownIsNeverExpired(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	page := b.connectAll(bakery, "meta", avery)
	id, _ := page.doc.Find(`[data-testid="asset-row"][data-kind="ad_account"]`).First().Attr("data-asset-id")
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "provider_unavailable"}); err != nil {
		t.Fatal(err)
	}
	p := b.post(accountPath(bakery, "/assets/"+id+"/refresh"), nil, "HX-Request", "true")
	text := strings.ToLower(p.body)
	if !strings.Contains(text, "nothing is lost") || strings.Contains(text, "expired") {
		t.Errorf("outage answer:\n%s", p.body)
	}
	after := b.get(accountPath(bakery, "/connections"))
	if st, _ := after.doc.Find(`[data-testid="connection"]`).Attr("data-status"); st != "degraded" {
		t.Errorf("status %q, want degraded", st)
	}
	if after.doc.Find(`[data-testid="connection-banner"]`).Length() != 0 {
		t.Errorf("an outage raised the action-needed banner")
	}
}

func TestReauthenticateDisconnectAndHistory(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	page := b.connectAll(bakery, "meta", avery)
	card := page.doc.Find(`[data-testid="connection"]`)
	connID := strings.TrimPrefix(card.AttrOr("id", ""), "connection-")
	id, _ := page.doc.Find(`[data-testid="asset-row"][data-kind="ad_account"]`).First().Attr("data-asset-id")
	if err := s.sandbox.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "password_changed"}); err != nil {
		t.Fatal(err)
	}
	b.post(accountPath(bakery, "/assets/"+id+"/refresh"), nil, "HX-Request", "true")

	start := b.post(accountPath(bakery, "/connections/"+connID+"/reauthenticate"), nil)
	back := b.get(b.dialog(start, avery))
	picker := b.get(back.location())
	form := url.Values{}
	picker.doc.Find(`input[name="asset"][checked]`).Each(func(_ int, sel *goquery.Selection) { form.Add("asset", sel.AttrOr("value", "")) })
	if done := b.post(back.location(), form); done.status != http.StatusSeeOther {
		t.Fatalf("save reauthentication: %d %s", done.status, done.body)
	}
	healthy := b.get(accountPath(bakery, "/connections"))
	if st, _ := healthy.doc.Find(`[data-testid="connection"]`).Attr("data-status"); st != "healthy" {
		t.Errorf("after reauthentication: %q", st)
	}

	confirm := b.get(accountPath(bakery, "/connections/"+connID+"/disconnect"))
	if confirm.status != http.StatusOK || confirm.doc.Find(`[data-testid="confirm-disconnect"]`).Length() != 1 {
		t.Fatalf("disconnect confirmation: %d", confirm.status)
	}
	gone := b.post(accountPath(bakery, "/connections/"+connID+"/disconnect"), nil)
	if gone.status != http.StatusSeeOther {
		t.Fatalf("disconnect: %d", gone.status)
	}
	after := b.get(gone.location())
	if st, _ := after.doc.Find(`[data-testid="connection"]`).Attr("data-status"); st != "disconnected" {
		t.Errorf("after disconnect: %q", st)
	}
	if after.doc.Find(`[data-testid="refresh-asset"]`).Length() != 0 || after.doc.Find(`[data-testid="reauthenticate"]`).Length() != 0 {
		t.Errorf("a disconnected connection still offers refresh or reauthenticate")
	}

	hist := b.get(accountPath(bakery, "/connections/"+connID+"/history"))
	events := hist.doc.Find(`[data-testid="history-event"]`)
	text := events.Text()
	for _, want := range []string{"Disconnected", "Reauthenticated", "Refresh failed", "Connected"} {
		if !strings.Contains(text, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if first := events.First().Text(); !strings.Contains(first, "Disconnected") {
		t.Errorf("newest event is not the disconnect: %s", first)
	}
	filtered := b.get(accountPath(bakery, "/history?kind="+models.EventDisconnected))
	if n := filtered.doc.Find(`[data-testid="history-event"]`).Length(); n != 1 {
		t.Errorf("filter by kind shows %d events, want 1", n)
	}
}

func TestReauthenticateFlagsVanishedAssetsAndKeepsThem(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	page := b.connectAll(bakery, "meta", avery)
	connID := strings.TrimPrefix(page.doc.Find(`[data-testid="connection"]`).AttrOr("id", ""), "connection-")

	// This time the person grants two of the three Pages and every ad account.
	start := b.post(accountPath(bakery, "/connections/"+connID+"/reauthenticate"), nil)
	cb := b.consent(start, avery, []string{"110000000000001", "110000000000002"},
		[]string{"act_200000000000001", "act_200000000000002", "act_200000000000003", "act_200000000000004"})
	back := b.get(cb)
	picker := b.get(back.location())
	if n := picker.doc.Find(`input[name="asset"]`).Length(); n != 9 {
		t.Errorf("the picker offers %d assets, want 9 (one Page no longer granted)", n)
	}
	form := url.Values{}
	picker.doc.Find(`input[name="asset"][checked]`).Each(func(_ int, sel *goquery.Selection) { form.Add("asset", sel.AttrOr("value", "")) })
	if done := b.post(back.location(), form); done.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", done.status, done.body)
	}
	after := b.get(accountPath(bakery, "/connections"))
	lumen := after.doc.Find(`[data-testid="asset-row"]`).FilterFunction(func(_ int, sel *goquery.Selection) bool {
		return strings.Contains(sel.Text(), "110000000000003")
	})
	if lumen.Length() != 1 {
		t.Fatalf("the Page no longer granted was deleted instead of flagged")
	}
	if lumen.Find(`[data-testid="asset-unreachable"]`).Length() != 1 {
		t.Errorf("the Page no longer granted is not flagged as unreachable: %s", lumen.Text())
	}
	hist := b.get(accountPath(bakery, "/history?kind="+models.EventAssetUnreachable))
	if n := hist.doc.Find(`[data-testid="history-event"]`).Length(); n != 1 {
		t.Errorf("%d asset_unreachable events, want 1", n)
	}
}

func TestConnectLinkedInKeepsBothClocks(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	page := b.connectAll(bakery, "linkedin", dana)
	card := page.doc.Find(`[data-testid="connection"][data-provider="linkedin"]`)
	if st, _ := card.Attr("data-status"); st != "healthy" {
		t.Fatalf("LinkedIn connection is %q", st)
	}
	rows, err := s.store.ConnectionsOf(context.Background(), bakery.ID)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d connections (err %v)", len(rows), err)
	}
	now := s.store.Now()
	if c := rows[0]; c.TokenExpiresAt == nil || c.RefreshExpiresAt == nil || c.RefreshExpiresAt.Sub(now) < 300*24*time.Hour {
		t.Errorf("LinkedIn expiries: access %v, refresh %v; want the refresh token's year kept", c.TokenExpiresAt, c.RefreshExpiresAt)
	}
	if !strings.Contains(card.Text(), "Renewable until") {
		t.Errorf("the card does not say until when the token can be renewed: %s", strings.Join(strings.Fields(card.Text()), " "))
	}
}

func TestAssetsLeftOutAreOfferedLater(t *testing.T) {
	t.Parallel()
	s := newSandboxSite(t)
	b := s.signedIn("admin@bluebird.test")
	bakery := s.subs["Bluebird Bakery"]
	picker := b.connect(bakery, "meta", avery)
	form := url.Values{}
	picker.doc.Find(`input[name="asset"]`).Slice(0, 4).Each(func(_ int, sel *goquery.Selection) { form.Add("asset", sel.AttrOr("value", "")) })
	if done := b.post(picker.path, form); done.status != http.StatusSeeOther {
		t.Fatalf("save: %d", done.status)
	}
	page := b.get(accountPath(bakery, "/connections"))
	if n := page.doc.Find(`[data-testid="asset-row"]`).Length(); n != 4 {
		t.Errorf("%d asset rows, want the 4 chosen", n)
	}
	if got := strings.Join(strings.Fields(page.doc.Find(`[data-testid="unchosen"]`).Text()), " "); !strings.Contains(got, "6 more assets available") {
		t.Errorf("the card says %q about the 6 assets left out", got)
	}
	// Refresh all answers with the card, which says the same.
	connID := strings.TrimPrefix(page.doc.Find(`[data-testid="connection"]`).AttrOr("id", ""), "connection-")
	card := b.post(accountPath(bakery, "/connections/"+connID+"/refresh"), nil, "HX-Request", "true")
	if !strings.Contains(strings.Join(strings.Fields(card.body), " "), "6 more assets available") {
		t.Errorf("the refreshed card does not offer the 6 assets left out")
	}
}
