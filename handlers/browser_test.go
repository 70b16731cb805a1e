package handlers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relink/relink/models"
)

func TestBrowserSignInShowsTheOverview(t *testing.T) {
	s := browserSite(t)
	b := s.openTab(t, tabOptions{})
	b.signIn("owner@northwind.test")

	if p := b.path(); p != "/agency" {
		t.Fatalf("signing in lands on %s, want /agency", p)
	}
	if h := texts(b, "main h1"); !slices.Equal(h, []string{"Overview"}) {
		t.Errorf("page heading %v, want Overview", h)
	}
	if got := texts(b, "table.overview-table [data-testid=overview-row] th a"); !slices.Equal(got, models.DemoSubAccounts) {
		t.Errorf("the overview lists %v, want %v", got, models.DemoSubAccounts)
	}
	if got := texts(b, "table.overview-table thead th"); !slices.Contains(got, "Healthy") || !slices.Contains(got, "Total") {
		t.Errorf("the overview's columns are %v", got)
	}
}

// switcherNames is the sub-accounts the header dropdown lists right now.
const switcherNames = `Array.from(document.querySelectorAll("#switcher-results .switcher-item-name"), function (e) { return e.textContent.trim(); })`

// switcherShows is a JavaScript test that the dropdown lists exactly these names.
func switcherShows(names ...string) string {
	want := `["` + strings.Join(names, `","`) + `"]`
	if len(names) == 0 {
		want = "[]"
	}
	return fmt.Sprintf(`JSON.stringify(%s) === %q`, switcherNames, want)
}

const (
	switcherOpen     = `document.querySelector("[data-testid=account-switcher] details").open`
	switcherClosed   = `!` + switcherOpen
	focusOnSummary   = `document.activeElement === document.querySelector("[data-testid=account-switcher] summary")`
	focusOnSearchBox = `document.activeElement && document.activeElement.id === "switcher-q"`
)

func TestBrowserSwitcherByKeyboard(t *testing.T) {
	s := browserSite(t)
	cedar, harbor := s.subs["Cedar Dental"], s.subs["Harbor Fitness"]
	b := s.openTab(t, tabOptions{})
	b.signIn("owner@northwind.test")
	b.open("/agency")

	// From the top of the page the switcher is the second stop, right after the logo.
	for i := 0; i < 2 && !eval[bool](b, focusOnSummary); i++ {
		b.press(kb.Tab)
	}
	if !eval[bool](b, focusOnSummary) {
		t.Fatalf("two Tabs from the top reach %s, not the switcher", b.focused())
	}
	b.press(kb.Enter)
	b.waitUntil("Enter opens the switcher and focuses its search box", switcherOpen+" && "+focusOnSearchBox)

	b.press("ced")
	b.waitUntil("typing filters the list to Cedar Dental", switcherShows("Cedar Dental"))
	b.press(kb.ArrowDown)
	if f := b.focused(); !strings.Contains(f, "switcher-item") || !strings.Contains(f, "Cedar Dental") {
		t.Fatalf("ArrowDown focuses %s, want the Cedar Dental link", f)
	}
	b.navigating(keyboard(kb.Enter))
	if p, want := b.path(), fmt.Sprintf("/accounts/%d/connections", cedar.ID); p != want {
		t.Fatalf("Enter on the result goes to %s, want %s", p, want)
	}
	if h := texts(b, "main h1"); !slices.Equal(h, []string{"Cedar Dental"}) {
		t.Errorf("the page heading is %v, want Cedar Dental", h)
	}

	t.Run("slash opens it, Escape closes it and returns focus", func(t *testing.T) {
		b := b.in(t)
		b.press("/")
		b.waitUntil("/ opens the switcher with the focus in its search box", switcherOpen+" && "+focusOnSearchBox)
		b.press(kb.Escape)
		b.waitUntil("Escape closes the switcher", switcherClosed)
		if !eval[bool](b, focusOnSummary) {
			t.Errorf("after Escape the focus is on %s, want the switcher's summary", b.focused())
		}
	})

	t.Run("Space opens it, Escape from a result closes it", func(t *testing.T) {
		b := b.in(t)
		b.press(" ")
		b.waitUntil("Space opens the switcher", switcherOpen+" && "+focusOnSearchBox)
		b.press(kb.ArrowDown)
		if f := b.focused(); !strings.Contains(f, "switcher-item") {
			t.Fatalf("ArrowDown focuses %s, want the first result", f)
		}
		b.press(kb.ArrowUp)
		if !eval[bool](b, focusOnSearchBox) {
			t.Errorf("ArrowUp from the first result focuses %s, want the search box", b.focused())
		}
		b.press(kb.ArrowDown)
		b.press(kb.Escape)
		b.waitUntil("Escape closes the switcher", switcherClosed)
		if !eval[bool](b, focusOnSummary) {
			t.Errorf("after Escape the focus is on %s, want the switcher's summary", b.focused())
		}
	})

	t.Run("reopening selects the last search, so typing starts a new one", func(t *testing.T) {
		b := b.in(t)
		b.press("/")
		b.waitUntil("/ opens the switcher", switcherOpen+" && "+focusOnSearchBox)
		b.press("harb")
		b.waitUntil("the list filters to Harbor Fitness", switcherShows("Harbor Fitness"))
		b.press(kb.Escape)
		b.press("/")
		b.waitUntil("/ opens the switcher again", switcherOpen+" && "+focusOnSearchBox)
		b.press("blue")
		b.waitUntil("the new search replaces the old one", switcherShows("Bluebird Bakery"))
		b.press(kb.Escape)
	})

	t.Run("Enter right after typing opens the match, not the previous first result", func(t *testing.T) {
		b := b.in(t)
		b.press("/")
		b.waitUntil("/ opens the switcher", switcherOpen+" && "+focusOnSearchBox)
		// No pause between typing and Enter: the filtered list has not arrived yet.
		b.navigating(keyboard("harbor" + kb.Enter))
		if p, want := b.path(), fmt.Sprintf("/accounts/%d/connections", harbor.ID); p != want {
			t.Errorf("typing harbor and Enter goes to %s, want Harbor Fitness at %s", p, want)
		}
	})
}

func TestBrowserSwitcherWithoutJavaScript(t *testing.T) {
	s := browserSite(t)
	b := s.openTab(t, tabOptions{noScript: true})
	b.signIn("owner@northwind.test")
	if p := b.path(); p != "/agency" {
		t.Fatalf("signing in without JavaScript lands on %s", p)
	}
	if v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`typeof htmx`)); err == nil && v != "undefined" {
		t.Fatalf("JavaScript is still on: typeof htmx is %q", v)
	}
	// The native <details> opens on a click, and its search form is a plain GET.
	b.do(
		chromedp.Click(chromedp.CSS("[data-testid=account-switcher] summary")),
		chromedp.WaitVisible(chromedp.ID("switcher-q")),
		chromedp.SendKeys(chromedp.ID("switcher-q"), "harbor"),
	)
	b.navigating(keyboard(kb.Enter))
	if p := b.path(); p != "/switch?q=harbor" {
		t.Fatalf("submitting the search goes to %s, want /switch?q=harbor", p)
	}
	html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("[data-testid=switch-list]")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, "Harbor Fitness") || strings.Contains(html, "Cedar Dental") {
		t.Errorf("the search page lists the wrong sub-accounts: %s", html)
	}
}

func TestBrowserNoConsoleErrorsUnderTheCSP(t *testing.T) {
	s := browserSite(t)
	b := s.openTab(t, tabOptions{})
	check := func(screen string) {
		t.Helper()
		b.settle()
		if p := b.problems(); len(p) > 0 {
			t.Fatalf("%s: the browser reported:\n%s", screen, strings.Join(p, "\n"))
		}
	}

	b.open("/login")
	check("login")
	b.signIn("owner@northwind.test")
	check("overview")
	b.open(fmt.Sprintf("/accounts/%d/connections", s.subs["Cedar Dental"].ID))
	check("connections")

	// htmx is loaded and allowed to work: typing in the switcher fetches the filtered list.
	if !eval[bool](b, `typeof htmx === "object" && typeof htmx.version === "string"`) {
		t.Fatal("htmx did not load")
	}
	b.press("/")
	b.waitUntil("the switcher opens", switcherOpen+" && "+focusOnSearchBox)
	b.press("harb")
	b.waitUntil("htmx swaps in the filtered list", switcherShows("Harbor Fitness"))
	check("switcher search")

	// The watcher itself works: an inline style set by a script is a violation it reports.
	b.do(chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("style", "outline: 1px solid red")`))
	b.settle()
	if p := b.problems(); len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), "CSP violation") {
		t.Fatalf("an inline style went unreported; the check cannot fail (got %v)", p)
	}
}

func TestBrowserSwitcherWithAThousandSubAccounts(t *testing.T) {
	s := browserSite(t)
	ctx := context.Background()
	agency, err := s.store.AgencyByName(ctx, models.DemoAgencyName)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 1000 {
		if _, err := s.store.CreateSubAccount(ctx, agency.ID, fmt.Sprintf("Client %04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("created 1,000 sub-accounts in %v", time.Since(start).Round(time.Millisecond))
	cedar := s.subs["Cedar Dental"]

	b := s.openTab(t, tabOptions{})
	b.signIn("owner@northwind.test")
	start = time.Now()
	b.open(fmt.Sprintf("/accounts/%d/connections", cedar.ID))
	t.Logf("a page with the switcher loads in %v", time.Since(start).Round(time.Millisecond))
	if n := eval[int](b, `document.querySelectorAll("#switcher-results .switcher-item").length`); n != 50 {
		t.Errorf("the dropdown holds %d sub-accounts, want the first 50", n)
	}
	if more := texts(b, "#switcher-results .switcher-more"); len(more) != 1 || !strings.Contains(more[0], "50 of 1,003") {
		t.Errorf("the dropdown does not say it shows 50 of 1,003: %v", more)
	}

	b.press("/")
	b.waitUntil("the switcher opens", switcherOpen+" && "+focusOnSearchBox)
	b.screenshot("desktop-7-switcher-1003")
	if !eval[bool](b, `(function () {
  var more = document.querySelector("#switcher-results .switcher-more").getBoundingClientRect();
  var list = document.getElementById("switcher-results").getBoundingClientRect();
  return more.bottom <= list.bottom + 1 && more.top >= list.top;
})()`) {
		t.Error("'Showing 50 of 1003' is scrolled out of the open dropdown")
	}
	start = time.Now()
	b.press("client 0777")
	b.waitUntil("the list filters to Client 0777", switcherShows("Client 0777"))
	took := time.Since(start)
	t.Logf("typing a query to seeing its one match took %v (150 ms of it is the debounce)", took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("filtering 1,003 sub-accounts took %v; the switcher must stay quick", took)
	}

	// A query with more than 50 matches lists the first 50 and links to the rest.
	b.do(keyboard("\b\b"))
	b.waitUntil("'client 07' lists the first 50 of its 100 matches",
		fmt.Sprintf(`%s.length === 50 && %s[0] === "Client 0700"`, switcherNames, switcherNames))
	if more := texts(b, "#switcher-results .switcher-more"); len(more) != 1 || !strings.Contains(more[0], "50 of 100") {
		t.Errorf("a partial result does not say so: %v", more)
	}
	if href := eval[string](b, `document.querySelector("#switcher-results .switcher-more a").href`); href != b.url("/switch?q=client+07") {
		t.Errorf("See all matches links to %q", href)
	}
}

// layoutProblems lists what a careful eye would flag on the page as it is now: a page wider
// than the window, header parts on top of each other, a sticky header eating the screen, an
// open dropdown running off-screen.
const layoutProblems = `(function () {
  var out = [], vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) {
    out.push("the page is " + document.documentElement.scrollWidth + "px wide in a " + vw + "px window");
  }
  var bar = document.querySelector(".topbar");
  var parts = bar ? Array.from(bar.children) : [];
  for (var i = 0; i < parts.length; i++) {
    if (parts[i].offsetHeight > 64) out.push("header: " + parts[i].className + " is " + parts[i].offsetHeight + "px tall, its words wrap");
    for (var j = i + 1; j < parts.length; j++) {
      var a = parts[i].getBoundingClientRect(), b = parts[j].getBoundingClientRect();
      if (a.width && b.width && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
        out.push("header: " + parts[i].className + " overlaps " + parts[j].className);
      }
    }
  }
  if (bar && getComputedStyle(bar).position === "sticky" && bar.offsetHeight > innerHeight * 0.12) {
    out.push("the sticky header covers " + Math.round(100 * bar.offsetHeight / innerHeight) + "% of the window");
  }
  // Text running out of its box (an unbroken name over the next column) widens nothing, so
  // the width check above misses it.
  document.querySelectorAll("main *").forEach(function (e) {
    var st = getComputedStyle(e);
    if (st.display === "inline" || st.overflowX !== "visible" || e.clientWidth === 0) return;
    if (e.scrollWidth > e.clientWidth + 1) {
      out.push((e.getAttribute("data-testid") || e.tagName.toLowerCase() + "." + e.className) + " overflows its box by " + (e.scrollWidth - e.clientWidth) + "px");
    }
  });
  var open = document.querySelector("[data-testid=account-switcher] details[open] .switcher-panel");
  if (open) {
    var r = open.getBoundingClientRect();
    if (r.left < 0 || r.right > vw + 1) out.push("the switcher's dropdown spans " + Math.round(r.left) + "–" + Math.round(r.right) + "px of a " + vw + "px window");
  }
  return out;
})()`

// longSubAccountName is a real-world-long client name.
const longSubAccountName = "Wunderbar Dentistry & Orthodontics of Greater Springfield County"

// unbrokenSubAccountName is the longest name Relink accepts, with nowhere to break a line.
var unbrokenSubAccountName = "Q" + strings.Repeat("x", models.MaxNameLength-1)

func TestBrowserLayout(t *testing.T) {
	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.name, func(t *testing.T) {
			s := browserSite(t)
			// A long name must neither widen the page nor push the header apart.
			agency, err := s.store.AgencyByName(context.Background(), models.DemoAgencyName)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.store.CreateSubAccount(context.Background(), agency.ID, longSubAccountName); err != nil {
				t.Fatal(err)
			}
			unbroken, err := s.store.CreateSubAccount(context.Background(), agency.ID, unbrokenSubAccountName)
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range []models.Status{models.StatusHealthy, models.StatusHealthy, models.StatusReauthRequired} {
				c := models.Connection{Provider: "meta", ExternalUserID: fmt.Sprint(i), Status: st}
				if _, err := s.store.CreateConnection(context.Background(), s.subs["Cedar Dental"].ID, c); err != nil {
					t.Fatal(err)
				}
			}
			b := s.openTab(t, tabOptions{viewport: vp})
			check := func(screen string) {
				t.Helper()
				if p := eval[[]string](b, layoutProblems); len(p) > 0 {
					t.Errorf("%s at %dx%d: %s", screen, vp.width, vp.height, strings.Join(p, "; "))
				}
				if p := b.problems(); len(p) > 0 {
					t.Errorf("%s at %dx%d: the browser reported:\n%s", screen, vp.width, vp.height, strings.Join(p, "\n"))
				}
				b.screenshot(vp.name + "-" + screen)
			}

			b.open("/login")
			check("1-login")
			b.signIn("owner@northwind.test")
			check("2-overview")
			// A phone shows each sub-account's health as one line of words under its name;
			// a desktop, as a column per status.
			summary := texts(b, "[data-testid=overview-row] [data-testid=overview-summary] .status")
			columns := eval[int](b, `Array.from(document.querySelectorAll(".overview-table .num")).filter(function (e) { return e.offsetParent !== null; }).length`)
			if vp.mobile {
				if strings.Join(summary, ", ") != "2 healthy, 1 reauthentication required" || columns != 0 {
					t.Errorf("on a phone the overview shows %d count cells and the summary %q", columns, summary)
				}
			} else if eval[bool](b, `document.querySelector("[data-testid=overview-summary]").offsetParent !== null`) || columns == 0 {
				t.Errorf("on a desktop the overview shows the phone's summary, or no counts (%d cells)", columns)
			}
			b.open(fmt.Sprintf("/accounts/%d/connections", s.subs["Cedar Dental"].ID))
			check("3-connections")
			b.do(chromedp.Click(chromedp.CSS("[data-testid=account-switcher] summary")))
			b.waitUntil("the switcher opens", switcherOpen+" && "+focusOnSearchBox)
			b.press("ba")
			b.waitUntil("the list filters", switcherShows("Bluebird Bakery", longSubAccountName))
			check("4-switcher-open")
			b.open("/switch")
			check("5-switch-page")
			b.open("/no/such/page")
			check("6-not-found")
			b.open(fmt.Sprintf("/accounts/%d/connections", unbroken.ID))
			check("7-unbroken-name")
			if title := eval[string](b, `document.querySelector("h1").getAttribute("title") || ""`); title != unbrokenSubAccountName {
				t.Errorf("the heading of a cut name does not carry the full name on hover: %q", title)
			}
		})
	}
}
