package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/static"
)

func TestAttemptLimiterWaits(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) // a window boundary for a minute
	tests := []struct {
		name string
		// at are the offsets of earlier attempts from start; then one more is tried at try.
		at       []time.Duration
		try      time.Duration
		wantOK   bool
		wantWait time.Duration
	}{
		{name: "under the limit", at: []time.Duration{0, time.Second}, try: 2 * time.Second, wantOK: true},
		{name: "full window waits for the next one and its fading", at: []time.Duration{0, time.Second, 2 * time.Second},
			try: 10 * time.Second, wantWait: 50*time.Second + 20*time.Second},
		{name: "previous window still weighs", at: []time.Duration{0, time.Second, 2 * time.Second},
			try: 70 * time.Second, wantWait: 10 * time.Second},
		{name: "previous window faded enough", at: []time.Duration{0, time.Second, 2 * time.Second},
			try: 81 * time.Second, wantOK: true},
		{name: "two windows later nothing counts", at: []time.Duration{0, time.Second, 2 * time.Second},
			try: 121 * time.Second, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			l := newAttemptLimiter(3, time.Minute)
			l.now = func() time.Time { return now }
			for _, d := range tt.at {
				now = start.Add(d)
				if _, _, ok := l.take("k"); !ok {
					t.Fatalf("setup attempt at %s refused", d)
				}
			}
			now = start.Add(tt.try)
			_, wait, ok := l.take("k")
			if ok != tt.wantOK || wait != tt.wantWait {
				t.Fatalf("take at %s: ok %v wait %s; want ok %v wait %s", tt.try, ok, wait, tt.wantOK, tt.wantWait)
			}
			if !ok {
				now = now.Add(wait)
				if _, _, ok := l.take("k"); !ok {
					t.Fatalf("still refused after waiting the %s it said", wait)
				}
			}
		})
	}
}

func TestAttemptLimiterRefunds(t *testing.T) {
	t.Parallel()
	l := newAttemptLimiter(2, time.Minute)
	for range 5 {
		a, _, ok := l.take("k")
		if !ok {
			t.Fatal("a refunded attempt still counted")
		}
		l.refund(a)
	}
	l.take("k")
	l.take("k")
	if _, _, ok := l.take("k"); ok {
		t.Fatal("a third attempt within the limit of two was allowed")
	}
}

func TestCheckSlotsAreBounded(t *testing.T) {
	t.Parallel()
	c := newCheckSlots(1, 20*time.Millisecond)
	if !c.acquire(context.Background()) {
		t.Fatal("the first check found no free slot")
	}
	begin := time.Now()
	if c.acquire(context.Background()) {
		t.Fatal("a second check ran while the only slot was taken")
	}
	if time.Since(begin) < 20*time.Millisecond {
		t.Error("a check gave up before its wait was over")
	}
	// Past the queue's bound a check is refused without waiting at all.
	c.maxWait = time.Hour
	c.queued.Store(c.maxQueue)
	if c.acquire(context.Background()) {
		t.Fatal("a check joined a full queue")
	}
	c.queued.Store(0)
	c.release()
	if !c.acquire(context.Background()) {
		t.Fatal("a released slot could not be taken again")
	}
}

// A sign-in that finds every password check busy is answered 503 with the form and a
// Retry-After, without checking its password and without using up an attempt.
func TestSignInWhenEveryCheckIsBusy(t *testing.T) {
	t.Parallel()
	store := storetest.Open(t)
	if _, err := store.SeedDemo(context.Background(), "relink-demo-password"); err != nil {
		t.Fatal(err)
	}
	app, err := New(Config{Store: store, SessionKeys: [][]byte{[]byte(strings.Repeat("k", 64))},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Static: static.Files,
		LoginLimits: LoginLimits{PerEmail: 1, Checks: 1, CheckWait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Routes())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func() *http.Response {
		resp, err := client.PostForm(srv.URL+"/login", url.Values{"email": {"owner@northwind.test"}, "password": {"relink-demo-password"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	app.checks.acquire(context.Background())
	for range 3 {
		resp := post()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("sign-in while the checks are busy: status %d, Retry-After %q; want 503 with Retry-After",
				resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	app.checks.release()
	if resp := post(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in once a check is free: status %d, want 303 (the busy answers used no attempt)", resp.StatusCode)
	}
}
