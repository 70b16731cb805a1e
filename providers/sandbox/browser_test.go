package sandbox_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// chromium returns the browser to drive, or skips the test where none is installed
// (fails it when RELINK_BROWSER_TESTS=required, as CI sets for the app's own tests).
func chromium(t *testing.T) string {
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

// TestBrowserPanelEnterInTheCustomField: in a real browser, typing a duration in
// the panel's custom field and pressing Enter advances the clock by it.
func TestBrowserPanelEnterInTheCustomField(t *testing.T) {
	exe := chromium(t)
	sb, srv := sandboxtest.Start(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()))...)
	timed, cancelTimeout := context.WithTimeout(alloc, 60*time.Second)
	ctx, cancelTab := chromedp.NewContext(timed)
	// Registered after t.TempDir, so Chromium has exited before its profile is removed.
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
		cancelAlloc()
	})
	field := chromedp.CSS(`[data-testid="sandbox-advance-custom"]`)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sandbox"), chromedp.SendKeys(field, "36h")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.SendKeys(field, kb.Enter)); err != nil {
		t.Fatalf("browser: pressing Enter: %v", err)
	}
	if got := sb.Clock().Offset(); got != 36*time.Hour {
		t.Errorf("the clock moved %s, want 36h", got)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != srv.URL+"/sandbox" {
		t.Errorf("after advancing the browser is on %q (%v), want the panel", loc, err)
	}
}
