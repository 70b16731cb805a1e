package handlers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Browser tests drive Relink in headless Chromium. They skip where no Chromium is installed,
// unless RELINK_BROWSER_TESTS=required (CI sets it), which turns the skip into a failure.

// browserTimeout bounds one browser session, so a hung Chromium fails its test instead of
// hanging the run.
const browserTimeout = 60 * time.Second

// waitTimeout bounds one wait for the page to reach a state.
const waitTimeout = 10 * time.Second

// viewport is a window size the layout must work at.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	desktop = viewport{name: "desktop", width: 1280, height: 800}
	phone   = viewport{name: "mobile", width: 390, height: 844, mobile: true}
)

// findChromium returns the browser to drive, or skips the test (fails it when required).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("RELINK_BROWSER_TESTS") == "required" {
		t.Fatal("RELINK_BROWSER_TESTS=required but no chromium, chromium-browser or google-chrome is on PATH")
	}
	t.Skip("no Chromium on PATH; set RELINK_BROWSER_TESTS=required to fail instead")
	return ""
}

// browserSite is newSite for a browser test: it skips first when there is no Chromium, and
// runs the test in parallel with the other browser tests, which mostly wait on Chromium.
func browserSite(t *testing.T) *site {
	t.Helper()
	findChromium(t)
	t.Parallel()
	return newSite(t)
}

// tabOptions choose how a tab is opened.
type tabOptions struct {
	viewport viewport
	// noScript disables JavaScript, as for a visitor who has it turned off.
	noScript bool
}

// tab is one headless Chromium tab on the site; it records everything the page logs.
type tab struct {
	t    *testing.T
	site *site
	ctx  context.Context
	log  *pageLog
}

// pageLog is what the browser reported while the tab was open.
type pageLog struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	// opened are the addresses the test navigated to itself: their status is the test's
	// business, not a failed load of the page's own resources.
	opened map[string]bool
}

// in is the same tab reporting to another test, such as a subtest.
func (b *tab) in(t *testing.T) *tab {
	c := *b
	c.t = t
	return &c
}

// cspWatcher turns every Content-Security-Policy violation into a console error, whatever
// the browser itself reports; DevTools runs it in every document before the page's scripts.
const cspWatcher = `document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " in " + e.sourceFile + ":" + e.lineNumber);
});`

// openTab starts a fresh Chromium with its own profile and opens one tab on the site.
func (s *site) openTab(t *testing.T, opts tabOptions) *tab {
	t.Helper()
	exe := findChromium(t)
	vp := opts.viewport
	if vp.width == 0 {
		vp = desktop
	}
	// The network is closed: without the background-networking flags Chromium waits on
	// connections to Google's services.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(vp.width), int(vp.height)),
	)...)
	timed, cancelTimeout := context.WithTimeout(alloc, browserTimeout)
	ctx, cancelTab := chromedp.NewContext(timed)
	// Registered after t.TempDir, so Chromium has exited before its profile is removed.
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
		cancelAlloc()
	})

	b := &tab{t: t, site: s, ctx: ctx, log: &pageLog{opened: map[string]bool{}}}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.log.mu.Lock()
			b.log.messages = append(b.log.messages, m)
			b.log.mu.Unlock()
		}
	}()
	b.do(
		chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tt, cdppage.AddScriptToEvaluateOnNewDocument,
				cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatcher})
			return err
		}),
		emulate(vp),
	)
	if opts.noScript {
		b.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tt, emulation.SetScriptExecutionDisabled,
				emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	}
	return b
}

// emulate sizes the page like a window of vp, with a phone's viewport handling when mobile.
func emulate(vp viewport) chromedp.Action[chromedp.Void] {
	if vp.mobile {
		return chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(vp.width, vp.height)
}

// do runs browser actions and fails the test on the first error.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitUntil waits for a JavaScript expression to become truthy; what says, for the failure
// message, what the test was waiting for.
func (b *tab) waitUntil(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(waitTimeout))); err != nil {
		b.t.Fatalf("waiting until %s: %v\n  at %s, focus on %s\n  switcher: %s", what, err, b.path(), b.focused(), b.switcherState())
	}
}

// url is the absolute address of a path on the site.
func (b *tab) url(path string) string { return b.site.server.URL + path }

// open navigates to a path and waits for the page to load.
func (b *tab) open(path string) {
	b.t.Helper()
	b.log.mu.Lock()
	b.log.opened[b.url(path)] = true
	b.log.mu.Unlock()
	b.do(chromedp.Navigate(b.url(path)))
}

// navigating runs actions that make the page navigate, and waits for the new page.
func (b *tab) navigating(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: navigating: %v", err)
	}
}

// press types keys into whatever has the focus, as a keyboard would.
func (b *tab) press(keys string) {
	b.t.Helper()
	b.do(keyboard(keys))
}

// keyboard types keys the way Chrome's own input does: a printable key is one keyDown that
// carries its text, so a keydown handler that calls preventDefault stops the character, as
// it does for a person. (chromedp.KeyEvent sends the text in a separate char event, which
// nothing can cancel, so "/" would land in the search box it opens.)
func keyboard(keys string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		for _, r := range keys {
			var down, up input.DispatchKeyEventParams
			for _, e := range kb.Encode(r) {
				switch e.Type {
				case kb.KeyDown:
					down = *e
				case kb.KeyChar:
					down.Text, down.UnmodifiedText = e.Text, e.UnmodifiedText
				case kb.KeyUp:
					up = *e
				}
			}
			if down.Text == "" {
				down.Type = kb.KeyRawDown
			}
			for _, e := range []input.DispatchKeyEventParams{down, up} {
				if _, err := cdp.Call(ctx, tt, input.DispatchKeyEvent, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// path is the current path and query, read from the browser rather than from the page.
func (b *tab) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.site.server.URL)
}

// focused describes the element that has the focus, for assertions and failure messages.
func (b *tab) focused() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () {
  var e = document.activeElement;
  if (!e) return "nothing";
  var d = e.tagName.toLowerCase();
  if (e.id) d += "#" + e.id;
  if (e.className) d += "." + String(e.className).split(" ").join(".");
  var text = (e.textContent || "").trim().replace(/\s+/g, " ");
  return text && e.tagName !== "BODY" ? d + " (" + text.slice(0, 40) + ")" : d;
})()`))
	if err != nil {
		return "unknown: " + err.Error()
	}
	return v
}

// switcherState describes the header switcher, for failure messages.
func (b *tab) switcherState() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () {
  var q = document.getElementById("switcher-q"), r = document.getElementById("switcher-results");
  if (!q || !r) return "none";
  var names = Array.from(r.querySelectorAll(".switcher-item-name"), function (e) { return e.textContent.trim(); });
  return "search " + JSON.stringify(q.value) + ", list for " + JSON.stringify(r.getAttribute("data-query")) +
    " with " + names.length + " names: " + names.slice(0, 5).join(", ") + (names.length > 5 ? ", …" : "");
})()`))
	if err != nil {
		return "unknown: " + err.Error()
	}
	return v
}

// signIn uses the real login form, submitting it with Enter as most people do.
func (b *tab) signIn(email string) {
	b.t.Helper()
	b.open("/login")
	b.do(
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
	)
	b.navigating(keyboard(kb.Enter))
	if p := b.path(); strings.HasPrefix(p, "/login") {
		b.t.Fatalf("sign-in as %s stayed on %s", email, p)
	}
}

// problems are the console errors, uncaught exceptions, CSP violations and failed loads the
// page reported so far, browser-log warnings from the security layer included.
func (b *tab) problems() []string {
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	var out []string
	for _, m := range b.log.messages {
		bad := m.Type == chromedp.ConsoleError || m.IsException() ||
			(m.Type == chromedp.ConsoleWarning && m.Source == "security")
		if m.Source == "network" && b.log.opened[m.URL] {
			bad = false
		}
		if bad {
			out = append(out, fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, strings.TrimPrefix(m.URL, b.site.server.URL), m.Line))
		}
	}
	return out
}

// settle gives events already sent by the browser (console messages) time to arrive.
func (b *tab) settle() {
	b.t.Helper()
	b.do(chromedp.Sleep(150 * time.Millisecond))
}

// texts is the trimmed text of every element matching a CSS selector.
func texts(b *tab, selector string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(
		`Array.from(document.querySelectorAll(%q), function (e) { return e.textContent.trim(); })`, selector))
}

// screenshot saves a full-page PNG under $RELINK_SCREENSHOTS, when it is set.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("RELINK_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, fullPage())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// fullPage captures the whole scrollable page as a PNG, not only the part in the window.
func fullPage() chromedp.Action[[]byte] {
	return func(ctx context.Context, tt *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, tt, cdppage.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		size := m.CSSContentSize
		beyond := true
		shot, err := cdp.Call(ctx, tt, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
			Format:                cdppage.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: &beyond,
			Clip:                  &cdppage.Viewport{Width: size.Width, Height: size.Height, Scale: 1},
		})
		return shot.Data, err
	}
}
