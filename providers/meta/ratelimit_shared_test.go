package meta_test

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// appLimit answers the next Graph call it is armed for with Meta's app-wide limit
// (code 4, x-app-usage at 100) instead of passing it to the sandbox, as Meta would
// answer one replica first.
type appLimit struct{ armed atomic.Bool }

func (a *appLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !a.armed.CompareAndSwap(true, false) {
		return http.DefaultTransport.RoundTrip(req)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-App-Usage", `{"call_count":100,"total_cputime":20,"total_time":30}`)
	body := graphBody(4, 0, "OAuthException", "(#4) Application request limit reached")
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Header: h,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// TestSharedStorePausesEveryClient: two Clients stand for two replicas. With one
// store, the app-wide pause (code 4) one learned stops the other's calls before they
// reach Meta, until Meta's window has passed; with a store each, it does not.
func TestSharedStorePausesEveryClient(t *testing.T) {
	tests := []struct {
		name   string
		shared bool
	}{
		{name: "one store", shared: true},
		{name: "a store each", shared: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			var limits [2]meta.LimitStore
			limits[0] = meta.NewMemoryLimits()
			limits[1] = limits[0]
			if !tt.shared {
				limits[1] = meta.NewMemoryLimits()
			}
			inject := &appLimit{}
			var slept sleeps
			first, _ := newClient(t, srv, sb, func(cfg *meta.Config) {
				cfg.HTTPClient, cfg.Limits, cfg.Sleep = &http.Client{Transport: inject}, limits[0], slept.sleep
			})
			second, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Limits, cfg.Sleep = limits[1], slept.sleep })
			tok1 := login(t, srv, first, sandbox.MetaAgencyUser)
			tok2 := login(t, srv, second, sandbox.MetaSmallUser)
			ctx := context.Background()

			inject.armed.Store(true)
			_, err := first.Me(ctx, tok1)
			pe, _ := providers.AsError(err)
			if pe == nil || pe.Code != 4 || pe.Reason != providers.ReasonRateLimited {
				t.Fatalf("first client: %v", err)
			}
			pause := cmp.Or(pe.RetryAfter, 5*time.Minute)

			sb.ResetCalls()
			_, err = second.Me(ctx, tok2)
			reached := sb.CallsTo("meta", "GET /me")
			if tt.shared {
				if pe, _ := providers.AsError(err); pe == nil || pe.Reason != providers.ReasonRateLimited || pe.RetryAfter != pause || reached != 0 {
					t.Errorf("second client during the pause: %v, %d calls reached Meta; want rate_limited for %v, none", err, reached, pause)
				}
			} else if err != nil || reached != 1 {
				t.Errorf("second client with its own store: %v, %d calls reached Meta", err, reached)
			}
			sandboxtest.Advance(t, srv, pause)
			for i, c := range []struct {
				c   *meta.Client
				tok providers.Token
			}{{first, tok1}, {second, tok2}} {
				if _, err := c.c.Me(ctx, c.tok); err != nil {
					t.Errorf("client %d after the pause: %v", i+1, err)
				}
			}
		})
	}
}

// TestSharedStoreObjectAndUserLimits: an ad account's pause and a token's user limit
// learned by one Client hold for the other: the paused account is not called, the
// limited token is slowed down, and its success on one Client frees it on both.
func TestSharedStoreObjectAndUserLimits(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	limits := meta.NewMemoryLimits()
	var slept [2]sleeps
	first, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Limits, cfg.Sleep = limits, slept[0].sleep })
	second, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.Limits, cfg.Sleep = limits, slept[1].sleep })
	agency := login(t, srv, first, sandbox.MetaAgencyUser)
	small := login(t, srv, first, sandbox.MetaSmallUser)
	ctx := context.Background()

	const account = "act_200000000000001"
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: account, Fault: "rate_limited"})
	if _, err := first.AdAccount(ctx, agency, account); providers.ReasonOf(err) != providers.ReasonRateLimited {
		t.Fatalf("limited account on the first client: %v", err)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "rate_limited"})
	if _, err := first.Me(ctx, small); providers.ReasonOf(err) != providers.ReasonRateLimited {
		t.Fatalf("limited user on the first client: %v", err)
	}
	slept[0].take()
	slept[1].take()

	sb.ResetCalls()
	_, err := second.AdAccount(ctx, agency, account)
	if pe, _ := providers.AsError(err); pe == nil || pe.RetryAfter != 15*time.Minute || sb.CallsTo("meta", "GET /act_{id}") != 0 {
		t.Errorf("paused account on the second client: %v, %d calls", err, sb.CallsTo("meta", "GET /act_{id}"))
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: sandbox.FaultClear})
	if _, err := second.Me(ctx, small); err != nil {
		t.Fatalf("limited user on the second client once cleared: %v", err)
	}
	if got := slept[1].take(); len(got) != 1 {
		t.Errorf("second client slept %v before the limited user's call, want once", got)
	}
	if _, err := first.Me(ctx, small); err != nil {
		t.Fatal(err)
	}
	if got := slept[0].take(); len(got) != 0 {
		t.Errorf("first client slept %v: the second client's success did not clear the user limit", got)
	}
}

// countingLimits counts what a Client asks of its store, and can fail reads.
type countingLimits struct {
	*meta.MemoryLimits
	loads, records atomic.Int64
	mu             sync.Mutex
	written        []map[string]int
	failLoad       atomic.Bool
}

func (c *countingLimits) Load(ctx context.Context, scopes []string) (map[string]int, map[string]time.Time, error) {
	c.loads.Add(1)
	if c.failLoad.Load() {
		return nil, nil, errors.New("database is down")
	}
	return c.MemoryLimits.Load(ctx, scopes)
}

func (c *countingLimits) Record(ctx context.Context, usage map[string]int, paused map[string]time.Time) error {
	c.records.Add(1)
	c.mu.Lock()
	c.written = append(c.written, usage)
	c.mu.Unlock()
	return c.MemoryLimits.Record(ctx, usage, paused)
}

// TestStoreWritesOnlyWhatMatters: a busy sweep must not write on every response.
// Each call reads the store once; usage is written when it moves by a few points,
// crosses the slow-down threshold or changes above it; a token without a user limit
// is never written. Another Client on the store slows down from the usage written.
func TestStoreWritesOnlyWhatMatters(t *testing.T) {
	var mu sync.Mutex
	usage := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("X-App-Usage", `{"call_count":`+strconv.Itoa(usage)+`,"total_cputime":0,"total_time":0}`)
		_, _ = w.Write([]byte(`{"id":"1","name":"A"}`))
	}))
	t.Cleanup(srv.Close)
	store := &countingLimits{MemoryLimits: meta.NewMemoryLimits()}
	var slept [2]sleeps
	first := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, Limits: store, Sleep: slept[0].sleep})
	second := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, Limits: store, Sleep: slept[1].sleep})
	tok := providers.Token{AccessToken: "t"}
	tests := []struct {
		usage int
		write bool
	}{
		{usage: 0}, // the store has no row: 0, as read before the call
		{usage: 0},
		{usage: 3},
		{usage: 4},
		{usage: 5, write: true},
		{usage: 9},
		{usage: 40, write: true},
		{usage: 42},
		{usage: 74, write: true},
		{usage: 75, write: true},
		{usage: 75},
		{usage: 76, write: true},
		{usage: 73, write: true},
		{usage: 72},
	}
	for i, tt := range tests {
		mu.Lock()
		usage = tt.usage
		mu.Unlock()
		before := store.records.Load()
		if _, err := first.Me(context.Background(), tok); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if wrote := store.records.Load() > before; wrote != tt.write {
			t.Errorf("usage %d after call %d: wrote %v, want %v", tt.usage, i, wrote, tt.write)
		}
		if first.Usage() != tt.usage {
			t.Errorf("Usage() = %d, want %d", first.Usage(), tt.usage)
		}
	}
	if n := store.loads.Load(); n != int64(len(tests)) {
		t.Errorf("%d reads for %d calls, want one each", n, len(tests))
	}
	for _, w := range store.written {
		for scope := range w {
			if strings.HasPrefix(scope, "token:") {
				t.Errorf("wrote %s for a token that never hit its limit", scope)
			}
		}
	}

	mu.Lock()
	usage = 80
	mu.Unlock()
	if _, err := first.Me(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	slept[1].take()
	if _, err := second.Me(context.Background(), providers.Token{AccessToken: "other"}); err != nil {
		t.Fatal(err)
	}
	if got := slept[1].take(); len(got) != 1 || got[0] != 600*time.Millisecond {
		t.Errorf("second client slept %v at the usage the first wrote (80), want 600ms once", got)
	}
}

// TestUnreadableStoreStopsTheCall: without the shared state a call could break a
// pause another replica keeps, so it fails, retryable, before reaching Meta.
func TestUnreadableStoreStopsTheCall(t *testing.T) {
	calls := atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{"id":"1","name":"A"}`))
	}))
	t.Cleanup(srv.Close)
	store := &countingLimits{MemoryLimits: meta.NewMemoryLimits()}
	store.failLoad.Store(true)
	c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, Limits: store})
	_, err := c.Me(context.Background(), providers.Token{AccessToken: "t"})
	if pe, _ := providers.AsError(err); pe == nil || !pe.Retryable || calls.Load() != 0 {
		t.Errorf("got %v with %d calls to Meta, want a retryable error and none", err, calls.Load())
	}
}

// stuckLimits is a store whose reads never answer until their context ends.
type stuckLimits struct{ *meta.MemoryLimits }

func (stuckLimits) Load(ctx context.Context, _ []string) (map[string]int, map[string]time.Time, error) {
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

// TestStuckStoreIsBoundedByTimeout: the read of the shared state is part of the call,
// so a store that does not answer fails the call, retryable, within Timeout even
// when the caller set no deadline, and never reaches Meta.
func TestStuckStoreIsBoundedByTimeout(t *testing.T) {
	calls := atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{"id":"1","name":"A"}`))
	}))
	t.Cleanup(srv.Close)
	c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, Timeout: 50 * time.Millisecond,
		Limits: stuckLimits{meta.NewMemoryLimits()}})
	done := make(chan error, 1)
	go func() {
		_, err := c.Me(context.Background(), providers.Token{AccessToken: "t"})
		done <- err
	}()
	select {
	case err := <-done:
		if pe, _ := providers.AsError(err); pe == nil || !pe.Retryable || providers.IsCanceled(err) || calls.Load() != 0 {
			t.Errorf("got %v with %d calls to Meta, want a retryable error and none", err, calls.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call waited on the store past its timeout")
	}
}
