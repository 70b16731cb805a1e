package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserSandboxSite is newSandboxSite for a browser test.
func browserSandboxSite(t *testing.T) *site {
	t.Helper()
	findChromium(t)
	t.Parallel()
	return newSandboxSite(t)
}

// click presses the element matching a CSS selector, as a mouse would.
func (b *tab) click(selector string) {
	b.t.Helper()
	b.do(chromedp.Click(selector))
}

// clickAndLoad presses an element that leads to another page and waits for it.
func (b *tab) clickAndLoad(selector string) {
	b.t.Helper()
	b.navigating(chromedp.Click(selector))
}

// throughDialog picks the provider user in the sandbox's login dialog by clicking, unticks
// the Pages given by id, continues with every permission ticked, and lands on Relink's
// asset picker.
func (b *tab) throughDialog(user string, untickPages ...string) {
	b.t.Helper()
	b.waitUntil("the sandbox dialog lists its users", `document.querySelector('[data-testid="sandbox-user"]') !== null`)
	b.clickAndLoad(fmt.Sprintf(`[data-testid="sandbox-user"][data-user-id="%s"]`, user))
	for _, id := range untickPages {
		b.click(fmt.Sprintf(`[data-testid="sandbox-page"][value="%s"]`, id))
	}
	b.clickAndLoad(`[data-testid="sandbox-continue"]`)
	if p := b.path(); !strings.Contains(p, "/connections/flows/") {
		t := b.t
		t.Fatalf("after the dialog the browser is on %s, not the asset picker: %v", p, texts(b, "main"))
	}
}

// rowText is the text of an asset's row, by its external id.
func rowText(external string) string {
	return fmt.Sprintf(`(function () {
  var rows = Array.from(document.querySelectorAll('[data-testid="asset-row"]'));
  var r = rows.find(function (e) { return e.textContent.indexOf(%q) >= 0; });
  return r ? r.textContent.replace(/\s+/g, " ").trim() : "";
})()`, external)
}

func TestBrowserConnectionLifeCycle(t *testing.T) {
	s := browserSandboxSite(t)
	bakery := s.subs["Bluebird Bakery"]
	b := s.openTab(t, tabOptions{})
	b.signIn("admin@bluebird.test")
	if p, want := b.path(), accountPath(bakery, "/connections"); p != want {
		t.Fatalf("signing in lands on %s, want %s", p, want)
	}
	b.screenshot("connections-1-empty")

	// Connect Facebook, choosing the user and the Pages by clicking: Lumen Yoga Studio's
	// Page is left out.
	b.clickAndLoad(`[data-testid="connect-meta"]`)
	b.throughDialog(avery, "110000000000003")
	if h := texts(b, "main h1"); len(h) == 0 || h[0] != "Choose the Pages and ad accounts to connect to Bluebird Bakery" {
		t.Errorf("picker heading %v", h)
	}
	b.screenshot("connections-2-picker")
	b.click(`[data-testid="picker-filter"]`)
	b.press("harbor")
	b.waitUntil("the filter leaves the Harbor assets",
		`Array.from(document.querySelectorAll('[data-testid="picker-asset"]')).filter(function (e) { return e.offsetParent !== null; }).length === 3`)
	for range "harbor" {
		b.press("\b")
	}
	b.waitUntil("clearing the filter shows every asset again",
		`Array.from(document.querySelectorAll('[data-testid="picker-asset"]')).filter(function (e) { return e.offsetParent !== null; }).length === 9`)
	b.clickAndLoad(`[data-testid="picker-submit"]`)
	b.waitUntil("the connection is listed without the Page left out",
		`document.querySelectorAll('[data-testid="asset-row"]').length === 9 && document.body.textContent.indexOf("Lumen Yoga Studio") < 0`)
	if st := eval[string](b, `document.querySelector('[data-testid="connection"]').dataset.status`); st != "healthy" {
		t.Errorf("new connection is %q", st)
	}
	b.screenshot("connections-3-connected")

	// Refresh one ad account after three days of spending: its row shows the new spend.
	// htmx loads deferred: a click before it is ready would submit the plain form instead.
	b.waitUntil("htmx is ready", `typeof htmx !== "undefined"`)
	const northwindAds = "act_200000000000001"
	before := eval[string](b, rowText(northwindAds))
	s.sandbox.Clock().Advance(72 * time.Hour)
	b.click(`[data-testid="refresh-asset"][aria-label*="Northwind Bakery Ads"]`)
	b.waitUntil("the row says it was updated", fmt.Sprintf(`%s.indexOf("Updated just now") >= 0`, rowText(northwindAds)))
	after := eval[string](b, rowText(northwindAds))
	if before == after || !strings.Contains(after, "$12,633.00") {
		t.Errorf("the row did not show the new spend:\nbefore %s\nafter  %s", before, after)
	}

	// The password changes at Facebook; refreshing says so and offers Reauthenticate.
	resp, err := http.Post(s.server.URL+"/sandbox/api/faults", "application/json",
		strings.NewReader(`{"provider":"meta","user":"`+avery+`","fault":"password_changed"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("inject through the sandbox API: %v %v", err, resp)
	}
	resp.Body.Close()
	b.click(`[data-testid="refresh-asset"][aria-label*="Northwind Bakery Ads"]`)
	b.waitUntil("the connection needs reauthentication",
		`document.querySelector('[data-testid="connection"]').dataset.status === "reauth_required"`)
	card := eval[string](b, `document.querySelector('[data-testid="connection"]').textContent`)
	if !strings.Contains(card, "password was changed") || !strings.Contains(card, "Refreshing did not help") {
		t.Errorf("the card does not explain the failure: %s", strings.Join(strings.Fields(card), " "))
	}
	if !eval[bool](b, `document.querySelector('[data-testid="reauthenticate"]').classList.contains("primary")`) {
		t.Errorf("Reauthenticate is not the emphasised button")
	}
	b.waitUntil("the banner names the connection", `document.querySelector('[data-testid="connection-banner"]') !== null`)
	b.screenshot("connections-4-reauth-required")

	// Reauthenticate in place, granting the Page left out before: it is offered as new.
	b.clickAndLoad(`[data-testid="reauthenticate"]`)
	b.throughDialog(avery)
	if n := texts(b, `[data-testid="picker-new"]`); len(n) != 1 {
		t.Errorf("the picker marks %d assets as new, want 1 (Lumen Yoga Studio)", len(n))
	}
	b.screenshot("connections-4b-reauth-picker")
	b.clickAndLoad(`[data-testid="picker-submit"]`)
	b.waitUntil("the connection is healthy again",
		`document.querySelector('[data-testid="connection"]').dataset.status === "healthy"`)
	if n := eval[int](b, `document.querySelectorAll('[data-testid="connection-banner"]').length`); n != 0 {
		t.Errorf("%d banners after reauthenticating", n)
	}

	// The history tells each step, newest first.
	b.clickAndLoad(`[data-testid="connection-history"]`)
	events := strings.Join(texts(b, `[data-testid="history-event"]`), "\n")
	for _, step := range []string{"Reauthenticated", "Refresh failed", "Refreshed", "Connected"} {
		if !strings.Contains(events, step) {
			t.Errorf("the history does not show %q", step)
		}
	}
	b.screenshot("connections-5-history")

	// LinkedIn the same way.
	b.open(accountPath(bakery, "/connections"))
	b.clickAndLoad(`[data-testid="connect-linkedin"]`)
	b.throughDialog(dana)
	b.clickAndLoad(`[data-testid="picker-submit"]`)
	b.waitUntil("the LinkedIn connection is listed",
		`document.querySelector('[data-testid="connection"][data-provider="linkedin"][data-status="healthy"]') !== null`)
	b.screenshot("connections-6-both")

	b.settle()
	if p := b.problems(); len(p) > 0 {
		t.Errorf("the browser reported problems:\n%s", strings.Join(p, "\n"))
	}

	// On a phone the same page stays within the screen.
	m := s.openTab(t, tabOptions{viewport: phone})
	m.signIn("admin@bluebird.test")
	m.waitUntil("the assets are listed", `document.querySelectorAll('[data-testid="asset-row"]').length > 0`)
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > int(phone.width) {
		t.Errorf("the phone page is %d px wide, wider than the %d px screen", w, phone.width)
	}
	if h := eval[float64](m, `document.querySelector('[data-testid="asset-row"]').getBoundingClientRect().height`); h > 600 {
		t.Errorf("one asset takes %.0f px of height on a phone", h)
	}
	m.screenshot("connections-7-phone")
}
