package handlers_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestBrowserCheckNowEmailAndReauthenticate: the password changes at Facebook; Check now
// shows why, one email waits in /dev/mail naming the account and the fix, and its link
// leads to Reauthenticate and through it back to a healthy connection.
func TestBrowserCheckNowEmailAndReauthenticate(t *testing.T) {
	s := browserSandboxSite(t)
	bakery := s.subs["Bluebird Bakery"]
	b := s.openTab(t, tabOptions{})
	b.signIn("admin@bluebird.test")
	b.clickAndLoad(`[data-testid="connect-meta"]`)
	b.throughDialog(avery)
	b.clickAndLoad(`[data-testid="picker-submit"]`)
	b.waitUntil("the connection is listed", `document.querySelector('[data-testid="connection"]') !== null`)
	if next := eval[string](b, `document.querySelector('[data-testid="next-check"]').textContent`); !strings.Contains(next, "Next check in") {
		t.Errorf("the card says %q about the next check", next)
	}

	resp, err := http.Post(s.server.URL+"/sandbox/api/faults", "application/json",
		strings.NewReader(`{"provider":"meta","user":"`+avery+`","fault":"password_changed"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("inject through the sandbox API: %v %v", err, resp)
	}
	resp.Body.Close()
	b.waitUntil("htmx is ready", `typeof htmx !== "undefined"`)
	b.click(`[data-testid="check-now"]`)
	b.waitUntil("the check finds the changed password",
		`document.querySelector('[data-testid="connection"]').dataset.reason === "password_changed"`)
	if title := eval[string](b, `document.querySelector('[data-testid="reason-title"]').textContent`); !strings.Contains(title, "Password changed — reconnect") {
		t.Errorf("the card's headline is %q", title)
	}
	b.screenshot("health-1-check-now")

	// The admin's inbox holds exactly one email; the owner of the agency got one too.
	b.open("/dev/mail")
	mine := emailRowsTo(b, "admin@bluebird.test")
	if rows := texts(b, `[data-testid="devmail-row"]`); len(rows) != 1 || len(mine) != 1 {
		t.Fatalf("the admin's outbox holds %q; want one email to them", rows)
	}
	b.open("/dev/mail?all=1")
	if rows := texts(b, `[data-testid="devmail-row"]`); len(rows) != 2 || len(emailRowsTo(b, "owner@northwind.test")) != 1 {
		t.Fatalf("everyone's outbox holds %q; want one email to the admin and one to the owner", rows)
	}
	if !strings.Contains(mine[0], "Action needed: the Facebook connection of Bluebird Bakery") {
		t.Errorf("the email's row: %q", mine[0])
	}
	b.screenshot("health-2-outbox")
	b.open(eval[string](b, `Array.from(document.querySelectorAll('[data-testid="devmail-row"]')).find(function (r) { return r.textContent.indexOf("admin@bluebird.test") >= 0; }).querySelector("a").getAttribute("href")`))
	text := eval[string](b, `document.querySelector('[data-testid="devmail-text"]').textContent`)
	for _, want := range []string{"Avery Agency", avery, "Bluebird Bakery", "password", "Reauthenticate"} {
		if !strings.Contains(text, want) {
			t.Errorf("the email does not say %q:\n%s", want, text)
		}
	}
	b.screenshot("health-3-email")
	link := regexp.MustCompile(`http://[^\s]+/reauthenticate`).FindString(text)
	if !strings.HasPrefix(link, s.server.URL+accountPath(bakery, "/connections/")) {
		t.Fatalf("the email's link %q is not this sub-account's Reauthenticate", link)
	}
	b.open(strings.TrimPrefix(link, s.server.URL))
	b.screenshot("health-4-landing")
	b.clickAndLoad(`[data-testid="reauthenticate"]`)
	b.throughDialog(avery)
	b.clickAndLoad(`[data-testid="picker-submit"]`)
	b.waitUntil("the connection is healthy again",
		`document.querySelector('[data-testid="connection"]').dataset.status === "healthy"`)
	b.screenshot("health-5-healthy")
	b.open("/dev/mail")
	if rows := emailRowsTo(b, "admin@bluebird.test"); len(rows) != 2 || !strings.Contains(strings.ToLower(strings.Join(rows, " ")), "reconnected") {
		t.Errorf("after reauthenticating, the admin's emails are %q; want the incident and a reconnected email", rows)
	}
}

// emailRowsTo is the text of the outbox's rows addressed to one person.
func emailRowsTo(b *tab, to string) []string {
	var out []string
	for _, r := range texts(b, `[data-testid="devmail-row"]`) {
		if strings.Contains(r, to) {
			out = append(out, r)
		}
	}
	return out
}
