package meta_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func (s *sleeps) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.d
	s.d = nil
	return out
}

// TestUserLimitIsPerUser: code 17 (User request limit reached) concerns one user;
// the others go on at full speed, and once the limit is gone (clear) that user's
// next call goes through without waiting for any clock.
func TestUserLimitIsPerUser(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	var slept sleeps
	c, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Sleep = slept.sleep })
	limited := login(t, srv, c, sandbox.MetaSmallUser)
	other := login(t, srv, c, sandbox.MetaAgencyUser)
	ctx := context.Background()
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "rate_limited"})
	_, err := c.Me(ctx, limited)
	if pe, _ := providers.AsError(err); pe == nil || pe.Reason != providers.ReasonRateLimited || pe.Code != 17 || pe.RetryAfter <= 0 {
		t.Fatalf("limited user: %v", err)
	}
	slept.take()
	tests := []struct {
		name  string
		tok   providers.Token
		clear bool
		sleep bool
	}{
		{name: "another user is neither paused nor slowed", tok: other},
		{name: "the limited user is let through once cleared, after a short backoff", tok: limited, clear: true, sleep: true},
		{name: "and then runs at full speed", tok: limited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.clear {
				sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: sandbox.FaultClear})
			}
			sb.ResetCalls()
			if _, err := c.Me(ctx, tt.tok); err != nil {
				t.Fatalf("call: %v", err)
			}
			if n := sb.CallsTo("meta", "GET /me"); n != 1 {
				t.Errorf("%d calls reached Meta, want 1", n)
			}
			if got := slept.take(); (len(got) > 0) != tt.sleep {
				t.Errorf("slept %v, want sleep=%v", got, tt.sleep)
			}
		})
	}
	if c.Usage() >= 100 {
		t.Errorf("a user limit raised the app-wide usage to %d", c.Usage())
	}
}

// TestPerUserLimitOnDebugTokenPausesNoOne: a user's limit met while inspecting
// that user's token concerns that user only; everyone else goes on, and once the
// limit is gone the user goes on too, without waiting for any clock.
func TestPerUserLimitOnDebugTokenPausesNoOne(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	var slept sleeps
	c, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Sleep = slept.sleep })
	limited := login(t, srv, c, sandbox.MetaSmallUser)
	other := login(t, srv, c, sandbox.MetaAgencyUser)
	ctx := context.Background()
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "rate_limited"})
	if _, err := c.InspectToken(ctx, limited); providers.ReasonOf(err) != providers.ReasonRateLimited {
		t.Fatalf("debug_token under the user's limit: %v", err)
	}
	tests := []struct {
		name  string
		clear bool
		call  func() error
	}{
		{name: "another user's Me", call: func() error { _, err := c.Me(ctx, other); return err }},
		{name: "another user's InspectToken", call: func() error { _, err := c.InspectToken(ctx, other); return err }},
		{name: "the limited user once cleared", clear: true, call: func() error { _, err := c.InspectToken(ctx, limited); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.clear {
				sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: sandbox.FaultClear})
			}
			if err := tt.call(); err != nil {
				t.Fatalf("call: %v", err)
			}
		})
	}
	if c.Usage() >= 100 {
		t.Errorf("a user limit raised the app-wide usage to %d", c.Usage())
	}
}

// TestAppLimitPausesEveryone: code 4 with x-app-usage at 100 is the app's limit;
// the client stops calling for every user until Meta's window has passed. Code 4
// with x-app-usage below 100 pauses no one: Meta said the app is not at its limit.
func TestAppLimitPausesEveryone(t *testing.T) {
	tests := []struct {
		name     string
		appUsage string
		paused   bool
	}{
		{name: "usage at 100", appUsage: `{"call_count":100,"total_cputime":45,"total_time":70}`, paused: true},
		{name: "no usage header", paused: true},
		{name: "usage below 100", appUsage: `{"call_count":40,"total_cputime":10,"total_time":10}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			limit, calls := true, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				w.Header().Set("Content-Type", "application/json")
				if limit {
					if tt.appUsage != "" {
						w.Header().Set("X-App-Usage", tt.appUsage)
					}
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(graphBody(4, 0, "OAuthException", "(#4) Application request limit reached")))
					return
				}
				_, _ = w.Write([]byte(`{"id":"1","name":"N"}`))
			}))
			t.Cleanup(srv.Close)
			clock := sandbox.NewFrozenClock(sandboxtest.Epoch)
			c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, WWWURL: srv.URL, Clock: clock,
				Sleep: func(context.Context, time.Duration) error { return nil }})
			ctx := context.Background()
			if _, err := c.Me(ctx, providers.Token{AccessToken: "a"}); providers.ReasonOf(err) != providers.ReasonRateLimited {
				t.Fatalf("first call: %v", err)
			}
			mu.Lock()
			limit, calls = false, 0
			mu.Unlock()
			_, err := c.Me(ctx, providers.Token{AccessToken: "b"})
			mu.Lock()
			reached := calls
			mu.Unlock()
			if tt.paused {
				if providers.ReasonOf(err) != providers.ReasonRateLimited || reached != 0 {
					t.Errorf("during the app pause: %v, %d calls reached Meta", err, reached)
				}
				clock.Advance(5 * time.Minute)
				_, err = c.Me(ctx, providers.Token{AccessToken: "b"})
			}
			if err != nil {
				t.Errorf("after the limit: %v", err)
			}
		})
	}
}

// TestSlowsDownBetween75And99: below 100% Meta still answers; the client spaces its
// calls out more the closer the app's usage gets to the limit, and never pauses.
func TestSlowsDownBetween75And99(t *testing.T) {
	tests := []struct {
		name  string
		usage int
		sleep time.Duration
	}{
		{name: "74 runs at full speed", usage: 74},
		{name: "75 starts slowing down", usage: 75, sleep: 100 * time.Millisecond},
		{name: "80 slows down more", usage: 80, sleep: 600 * time.Millisecond},
		{name: "99 slows down most", usage: 99, sleep: 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("X-App-Usage", `{"call_count":`+strconv.Itoa(tt.usage)+`,"total_cputime":1,"total_time":1}`)
				_, _ = w.Write([]byte(`{"id":"1","name":"A"}`))
			}))
			t.Cleanup(srv.Close)
			var slept sleeps
			c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, Sleep: slept.sleep})
			tok := providers.Token{AccessToken: "t"}
			for range 2 {
				if _, err := c.Me(context.Background(), tok); err != nil {
					t.Fatal(err)
				}
			}
			got := slept.take()
			if tt.sleep == 0 && len(got) != 0 || tt.sleep != 0 && (len(got) != 1 || got[0] != tt.sleep) {
				t.Errorf("slept %v, want %v once", got, tt.sleep)
			}
			if calls != 2 || c.Usage() != tt.usage {
				t.Errorf("%d calls, usage %d", calls, c.Usage())
			}
		})
	}
}

// TestObjectLimitsPauseOnlyThatObject: a Page (32) or ad account (80004) limit
// pauses calls on that object until Meta's estimate, and nothing else.
func TestObjectLimitsPauseOnlyThatObject(t *testing.T) {
	tests := []struct {
		name          string
		kind          providers.AssetKind
		limited, free string
		code          int
		wait          time.Duration
		endpoint      string
	}{
		{name: "page", kind: providers.KindPage, limited: "110000000000001", free: "110000000000002", code: 32, wait: 10 * time.Minute, endpoint: "GET /{id}"},
		{name: "ad account", kind: providers.KindAdAccount, limited: "act_200000000000001", free: "act_200000000000002", code: 80004, wait: 15 * time.Minute, endpoint: "GET /act_{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			var slept sleeps
			c, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Sleep = slept.sleep })
			tok := login(t, srv, c, sandbox.MetaAgencyUser)
			ctx := context.Background()
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: tt.limited, Fault: "rate_limited"})
			_, err := c.RefreshAsset(ctx, tok, tt.kind, tt.limited)
			if pe, _ := providers.AsError(err); pe == nil || pe.Code != tt.code || pe.Reason != providers.ReasonRateLimited || pe.RetryAfter != tt.wait {
				t.Fatalf("limited object: %v", err)
			}
			sb.ResetCalls()
			_, err = c.RefreshAsset(ctx, tok, tt.kind, tt.limited)
			if pe, _ := providers.AsError(err); pe == nil || pe.RetryAfter != tt.wait {
				t.Errorf("second call on the limited object: %v", err)
			}
			if n := sb.CallsTo("meta", tt.endpoint); n != 0 {
				t.Errorf("the paused object was called %d times", n)
			}
			if _, err := c.RefreshAsset(ctx, tok, tt.kind, tt.free); err != nil {
				t.Errorf("another object must not be paused: %v", err)
			}
			if _, err := c.Me(ctx, tok); err != nil {
				t.Errorf("the user must not be paused: %v", err)
			}
			sandboxtest.Advance(t, srv, tt.wait)
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: sandbox.FaultClear})
			if _, err := c.RefreshAsset(ctx, tok, tt.kind, tt.limited); err != nil {
				t.Errorf("after Meta's estimate: %v", err)
			}
		})
	}
}

// TestObjectLimitWithoutUsageHeader: an ad account limit (80000–80014) pauses that
// account even when Meta sent no x-business-use-case-usage with it.
func TestObjectLimitWithoutUsageHeader(t *testing.T) {
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls[r.URL.Path]++
		if r.URL.Path == "/v24.0/act_1" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":{"message":"There have been too many calls to this ad-account.","type":"OAuthException","code":80004,"error_subcode":2446079}}`))
			return
		}
		_, _ = w.Write([]byte(`{"id":"act_2","account_id":"2","account_status":1}`))
	}))
	t.Cleanup(srv.Close)
	c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL})
	tok := providers.Token{AccessToken: "t"}
	tests := []struct {
		name   string
		id     string
		reason providers.Reason
		calls  int
	}{
		{name: "limited account", id: "act_1", reason: providers.ReasonRateLimited, calls: 1},
		{name: "limited account again, not called", id: "act_1", reason: providers.ReasonRateLimited, calls: 1},
		{name: "another account", id: "act_2", calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.AdAccount(context.Background(), tok, tt.id)
			if (err == nil) != (tt.reason == "") || err != nil && providers.ReasonOf(err) != tt.reason {
				t.Errorf("got %v, want %q", err, tt.reason)
			}
			if n := calls["/v24.0/"+tt.id]; n != tt.calls {
				t.Errorf("%d calls to %s, want %d", n, tt.id, tt.calls)
			}
		})
	}
}
