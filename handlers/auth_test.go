package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/handlers"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tests := []struct {
		name       string
		email      string
		password   string
		wantStatus int
		wantError  string
	}{
		{name: "right password signs in", email: "owner@northwind.test", password: demoPassword, wantStatus: http.StatusSeeOther},
		{name: "wrong password", email: "owner@northwind.test", password: "nope-nope-nope", wantStatus: http.StatusUnprocessableEntity, wantError: "That email and password do not match an account."},
		{name: "unknown email gets the same message", email: "ghost@northwind.test", password: demoPassword, wantStatus: http.StatusUnprocessableEntity, wantError: "That email and password do not match an account."},
		{name: "empty form", wantStatus: http.StatusUnprocessableEntity, wantError: "Enter your email and password."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s.browser()
			p := b.post("/login", url.Values{"email": {tt.email}, "password": {tt.password}})
			if p.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", p.status, tt.wantStatus)
			}
			if got := strings.TrimSpace(p.doc.Find("[data-testid=login-error]").Text()); got != tt.wantError {
				t.Errorf("error %q, want %q", got, tt.wantError)
			}
			if tt.wantStatus == http.StatusSeeOther {
				if got := b.get("/agency"); got.status != http.StatusOK {
					t.Errorf("after login /agency is %d", got.status)
				}
			} else if strings.Contains(p.body, tt.password) && tt.password != "" {
				t.Error("the password is echoed back in the page")
			}
		})
	}
}

func TestLoginRedirectsBackToTheRequestedPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.browser()
	p := b.get("/agency")
	if p.status != http.StatusSeeOther || p.location() != "/login?next=%2Fagency" {
		t.Fatalf("anonymous /agency: %d to %q", p.status, p.location())
	}
	p = b.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}, "next": {"/agency"}})
	if p.location() != "/agency" {
		t.Fatalf("after login went to %q, want /agency", p.location())
	}
	for _, next := range []string{"//evil.example/", "/\t/evil.example", "/\\evil.example", "\\/evil.example",
		"https://evil.example/", "/\r\nSet-Cookie:x=1", "/%2F/evil.example", "javascript:alert(1)", "/\x7f/evil.example"} {
		b2 := s.browser()
		p = b2.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}, "next": {next}})
		if got := p.location(); got != "/" {
			t.Errorf("an off-site next %q went to %q, want /", next, got)
		}
	}
}

func TestLoginRotatesSession(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.browser()
	b.get("/login")
	u, _ := url.Parse(s.server.URL)
	before := b.c.Jar.Cookies(u)
	b.login("owner@northwind.test")
	after := b.c.Jar.Cookies(u)
	if len(after) != 1 || after[0].Name != "relink_session" {
		t.Fatalf("cookies after login: %v", after)
	}
	for _, c := range before {
		if c.Value == after[0].Value {
			t.Fatal("the session cookie did not change at login")
		}
	}
	b.login("owner@northwind.test")
	again := b.c.Jar.Cookies(u)
	if again[0].Value == after[0].Value {
		t.Fatal("a second login kept the same session")
	}
}

func TestLoginIsRateLimited(t *testing.T) {
	t.Parallel()
	t.Run("per email", func(t *testing.T) {
		s := newSite(t, handlers.LoginLimits{PerEmail: 3, PerIP: 100, Window: time.Minute, EmailWindow: time.Minute})
		b := s.browser()
		for i := 0; i < 3; i++ {
			if p := b.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {"wrong-wrong"}}); p.status != http.StatusUnprocessableEntity {
				t.Fatalf("attempt %d: status %d", i+1, p.status)
			}
		}
		p := b.post("/login", url.Values{"email": {"OWNER@northwind.test"}, "password": {demoPassword}, "next": {"/agency"}})
		if p.status != http.StatusTooManyRequests {
			t.Fatalf("4th attempt: status %d, want 429", p.status)
		}
		msg := p.doc.Find("[data-testid=login-error]").Text()
		if !strings.Contains(msg, "Too many sign-in attempts. Try again in") || !strings.Contains(msg, "minute") {
			t.Errorf("the 429 page says %q, want the wait time", msg)
		}
		if secs, err := strconv.Atoi(p.header.Get("Retry-After")); err != nil || secs < 1 || secs > 120 {
			t.Errorf("Retry-After %q, want the seconds until the next attempt (the sliding window fades over two windows)", p.header.Get("Retry-After"))
		}
		form := p.doc.Find("form[action='/login']")
		if form.Length() != 1 || form.Find("input[name=password]").Length() != 1 {
			t.Fatal("the 429 page has no sign-in form")
		}
		if v, _ := form.Find("input[name=email]").Attr("value"); v != "OWNER@northwind.test" {
			t.Errorf("the form lost the email: %q", v)
		}
		if v, _ := form.Find("input[name=next]").Attr("value"); v != "/agency" {
			t.Errorf("the form lost where to go next: %q", v)
		}
		if p := b.post("/login", url.Values{"email": {"admin@bluebird.test"}, "password": {demoPassword}}); p.status != http.StatusSeeOther {
			t.Fatalf("another email from the same IP: status %d, want 303", p.status)
		}
	})
	t.Run("successful sign-ins do not count", func(t *testing.T) {
		s := newSite(t, handlers.LoginLimits{PerEmail: 2, PerIP: 2, Window: time.Minute, EmailWindow: time.Minute})
		for i := 0; i < 5; i++ {
			s.signedIn("owner@northwind.test")
		}
	})
	t.Run("per IP", func(t *testing.T) {
		s := newSite(t, handlers.LoginLimits{PerEmail: 100, PerIP: 2, Window: time.Minute, EmailWindow: time.Minute})
		b := s.browser()
		b.post("/login", url.Values{"email": {"a@x.test"}, "password": {"wrong-wrong"}})
		b.post("/login", url.Values{"email": {"b@x.test"}, "password": {"wrong-wrong"}})
		if p := b.post("/login", url.Values{"email": {"c@x.test"}, "password": {"wrong-wrong"}}); p.status != http.StatusTooManyRequests {
			t.Fatalf("3rd attempt from one IP: status %d, want 429", p.status)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	p := b.post("/logout", nil)
	if p.status != http.StatusSeeOther || p.location() != "/login" {
		t.Fatalf("logout: %d to %q", p.status, p.location())
	}
	if p := b.get("/agency"); p.status != http.StatusSeeOther {
		t.Fatalf("after logout /agency is %d, want a redirect to login", p.status)
	}
	if got := b.get("/login"); !strings.Contains(got.body, "You are signed out.") {
		t.Error("the login page does not confirm the sign-out")
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{name: "cross-site fetch metadata", headers: []string{"Sec-Fetch-Site", "cross-site"}, want: http.StatusForbidden},
		{name: "foreign Origin", headers: []string{"Origin", "https://evil.example"}, want: http.StatusForbidden},
		{name: "same-origin fetch metadata", headers: []string{"Sec-Fetch-Site", "same-origin"}, want: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s.browser()
			p := b.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}}, tt.headers...)
			if p.status != tt.want {
				t.Fatalf("status %d, want %d", p.status, tt.want)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	p := s.browser().get("/login")
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", p.header)
	}
	if n := p.doc.Find("script:not([src])").Length(); n > 0 {
		t.Errorf("%d inline scripts on the login page", n)
	}
	if n := p.doc.Find("[style]").Length(); n > 0 {
		t.Errorf("%d inline style attributes on the login page", n)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	p := s.browser().post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}})
	c := p.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(c, want) {
			t.Errorf("Set-Cookie %q lacks %s", c, want)
		}
	}
}

func TestLogoutEndsTheSessionEverywhere(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := s.signedIn("owner@northwind.test")
	u, _ := url.Parse(s.server.URL)
	stolen := s.browser()
	stolen.c.Jar.SetCookies(u, b.c.Jar.Cookies(u))
	if p := stolen.get("/agency"); p.status != http.StatusOK {
		t.Fatalf("a copy of the cookie before logout: status %d, want 200", p.status)
	}
	b.post("/logout", nil)
	if p := stolen.get("/agency"); p.status != http.StatusSeeOther {
		t.Fatalf("a copy of the cookie after logout: status %d, want a redirect to sign in", p.status)
	}
	other := s.signedIn("owner@northwind.test")
	if p := other.get("/agency"); p.status != http.StatusOK {
		t.Fatalf("another sign-in of the same user was ended too: status %d", p.status)
	}
}
