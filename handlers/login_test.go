package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/relink/relink/handlers"
)

// burst sends n sign-ins at once, each from its own browser, and counts the answers by status.
func (s *site) burst(n int, form func(i int) url.Values) map[int]int {
	s.t.Helper()
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for i := range n {
		b := s.browser()
		wg.Go(func() {
			<-start
			p := b.post("/login", form(i))
			mu.Lock()
			counts[p.status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}

func TestLoginCountsEveryAttemptBeforeCheckingIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits handlers.LoginLimits
		n      int
		form   func(i int) url.Values
		// evaluated is how many attempts may have their password checked (422).
		evaluated int
	}{
		{
			name:   "wrong passwords for one email",
			limits: handlers.LoginLimits{PerEmail: 10, PerIP: 1000, Checks: 1000},
			n:      60,
			form: func(i int) url.Values {
				return url.Values{"email": {"owner@northwind.test"}, "password": {fmt.Sprintf("wrong-guess-%d", i)}}
			},
			evaluated: 10,
		},
		{
			name:   "unknown emails from one address",
			limits: handlers.LoginLimits{PerEmail: 10, PerIP: 10, Checks: 1000},
			n:      100,
			form: func(i int) url.Values {
				return url.Values{"email": {fmt.Sprintf("ghost%d@nowhere.test", i)}, "password": {"whatever-it-is"}}
			},
			evaluated: 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, tt.limits)
			counts := s.burst(tt.n, tt.form)
			if counts[http.StatusUnprocessableEntity] != tt.evaluated || counts[http.StatusTooManyRequests] != tt.n-tt.evaluated {
				t.Fatalf("answers by status %v; want %d checked (422) and the other %d refused before checking (429)",
					counts, tt.evaluated, tt.n-tt.evaluated)
			}
		})
	}
}

func TestAKnownBrowserIsNotLockedOutByStrangers(t *testing.T) {
	t.Parallel()
	s := newSite(t, handlers.LoginLimits{PerEmail: 3, PerIP: 1000})
	owner := s.signedIn("owner@northwind.test")
	owner.post("/logout", nil)

	stranger := s.browser()
	for i := range 3 {
		stranger.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {fmt.Sprintf("guess-%d", i)}})
	}
	if p := stranger.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {"guess-4"}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("the stranger's 4th guess: status %d, want 429", p.status)
	}
	if p := s.browser().post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("a new browser with the right password during the lockout: status %d, want 429", p.status)
	}
	owner.login("owner@northwind.test")

	// The known browser has attempts of its own, and a limit of its own.
	owner.post("/logout", nil)
	for i := range 3 {
		if p := owner.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {fmt.Sprintf("typo-%d", i)}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("typo %d in the known browser: status %d, want 422", i+1, p.status)
		}
	}
	if p := owner.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("4th attempt in the known browser: status %d, want 429", p.status)
	}

	// The cookie knows only the accounts that signed in with it, and cannot be forged.
	u, _ := url.Parse(s.server.URL + "/login")
	forged := s.browser()
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "relink_device", Value: "forged-value", Path: "/login"}})
	if p := forged.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("a forged device cookie: status %d, want 429", p.status)
	}
	var device *http.Cookie
	for _, c := range owner.c.Jar.Cookies(u) {
		if c.Name == "relink_device" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("no known-device cookie after signing in")
	}
}

func TestDeviceCookieFlags(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	p := s.browser().post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {demoPassword}})
	var device *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "relink_device" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("a successful sign-in sets no known-device cookie")
	}
	if !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.Path != "/login" || device.MaxAge < 30*24*3600 {
		t.Errorf("device cookie %+v: want HttpOnly, SameSite=Lax, Path=/login and a long life", device)
	}
	if p := s.browser().post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {"not-the-password"}}); p.header.Get("Set-Cookie") != "" &&
		len((&http.Response{Header: p.header}).Cookies()) > 0 {
		for _, c := range (&http.Response{Header: p.header}).Cookies() {
			if c.Name == "relink_device" {
				t.Error("a failed sign-in set a known-device cookie")
			}
		}
	}
}

func TestSigningInAgainEndsThePreviousSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, first, second string
	}{
		{name: "same user", first: "owner@northwind.test", second: "owner@northwind.test"},
		{name: "another user", first: "owner@northwind.test", second: "admin@bluebird.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			b := s.signedIn(tt.first)
			u, _ := url.Parse(s.server.URL)
			copied := s.browser()
			copied.c.Jar.SetCookies(u, b.c.Jar.Cookies(u))
			if p := copied.get("/agency"); p.status != http.StatusOK {
				t.Fatalf("the first session before signing in again: status %d", p.status)
			}
			b.login(tt.second)
			if p := copied.get("/agency"); p.status != http.StatusSeeOther {
				t.Fatalf("the first session after signing in again: status %d, want a redirect to sign in", p.status)
			}
			if p := b.get("/agency"); p.status != http.StatusOK {
				t.Fatalf("the new session: status %d", p.status)
			}
		})
	}
}
