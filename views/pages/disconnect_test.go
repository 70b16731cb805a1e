package pages_test

import (
	"strings"
	"testing"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/layouts"
	"github.com/relink/relink/views/pages"
)

func TestDisconnectConfirm(t *testing.T) {
	v := pages.DisconnectView{SubAccount: cedar, Connection: metaConnection(models.StatusHealthy, ""), Assets: 12}
	doc := render(t, pages.DisconnectConfirm(page, v))
	if got := text(one(t, doc, "main h1")); got != "Disconnect Facebook account Avery Agency?" {
		t.Errorf("heading %q", got)
	}
	words := text(one(t, doc, "[data-testid=disconnect-confirm]"))
	for _, want := range []string{"remove its access", "deletes the tokens", "12 assets stops", "kept, read-only", "connect it again"} {
		if !strings.Contains(words, want) {
			t.Errorf("the confirmation %q does not say %q", words, want)
		}
	}
	b := one(t, doc, "button[data-testid=confirm-disconnect]")
	if text(b) != "Disconnect" || !b.HasClass("danger") {
		t.Errorf("the button says %q with class %q", text(b), attr(b, "class"))
	}
	form := b.Closest("form")
	if attr(form, "method") != "post" || attr(form, "action") != "/accounts/3/connections/7/disconnect" {
		t.Errorf("the form posts %q to %q", attr(form, "method"), attr(form, "action"))
	}
	if got := attr(one(t, doc, "[data-testid=cancel-disconnect]"), "href"); got != "/accounts/3/connections#connection-7" {
		t.Errorf("Cancel leads to %q", got)
	}

	v.Assets = 1
	if words := text(render(t, pages.DisconnectConfirm(page, v)).Find("main")); !strings.Contains(words, "its 1 asset stops") {
		t.Errorf("one asset reads %q", words)
	}
}

func TestBanners(t *testing.T) {
	p := page
	p.Banners = []layouts.Banner{{ConnectionID: 7, Provider: "Facebook", Account: "Avery Agency", Status: models.StatusReauthRequired,
		Message: "The account's password was changed.", Fix: "Click Reauthenticate.", FixURL: "/accounts/3/connections#connection-7"}}
	doc := render(t, pages.Connections(p, connectionsView(true)))
	box := one(t, doc, "main > #connection-banners")
	b := one(t, doc, "[data-testid=connection-banner]")
	if attr(b, "role") != "alert" || !b.HasClass("connection-banner") {
		t.Errorf("banner role %q class %q", attr(b, "role"), attr(b, "class"))
	}
	if got := text(b); got != "The Facebook connection of Avery Agency needs attention: The account's password was changed. Click Reauthenticate. Fix it" {
		t.Errorf("the banner reads %q", got)
	}
	if got := attr(b.Find("a"), "href"); got != "/accounts/3/connections#connection-7" || text(b.Find("a")) != "Fix it" {
		t.Errorf("Fix it leads to %q", got)
	}
	// The banners come before the page's own content.
	if box.Next().Length() == 0 || box.Prev().Length() != 0 {
		t.Error("the banners are not first in <main>")
	}

	doc = render(t, pages.Connections(page, connectionsView(true)))
	empty := one(t, doc, "#connection-banners")
	if empty.Children().Length() != 0 || strings.TrimSpace(empty.Text()) != "" {
		t.Error("no banners still render something")
	}
	if _, oob := empty.Attr("hx-swap-oob"); oob {
		t.Error("a full page's banners are marked out-of-band")
	}

	doc = render(t, layouts.BannersOOB(p.Banners))
	oob := one(t, doc, "#connection-banners")
	if attr(oob, "hx-swap-oob") != "true" || oob.Find("[data-testid=connection-banner]").Length() != 1 {
		t.Errorf("the out-of-band banners: hx-swap-oob %q, %d banners", attr(oob, "hx-swap-oob"), oob.Find("[data-testid=connection-banner]").Length())
	}
	if doc := render(t, layouts.BannersOOB(nil)); one(t, doc, "#connection-banners[hx-swap-oob=true]").Children().Length() != 0 {
		t.Error("clearing the banners out of band leaves one")
	}
}

func TestDisconnectConfirmWithoutAssets(t *testing.T) {
	v := pages.DisconnectView{SubAccount: cedar, Connection: metaConnection(models.StatusHealthy, ""), Assets: 0}
	words := text(render(t, pages.DisconnectConfirm(page, v)).Find(".confirm-list"))
	if strings.Contains(words, "0 assets") || strings.Contains(words, "Ad syncing") {
		t.Errorf("a connection without assets reads %q", words)
	}
}
