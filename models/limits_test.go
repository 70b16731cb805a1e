package models_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

var _ meta.LimitStore = (*models.ProviderLimits)(nil)

var limitsEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// TestProviderLimits: usage and pauses are upserted per scope, each leaving the other
// column as it was, per provider, and read back as written.
func TestProviderLimits(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, storetest.Options{Clock: sandbox.NewFrozenClock(limitsEpoch)})
	lim := s.ProviderLimits("meta")
	other := s.ProviderLimits("linkedin")
	app, obj, tok := meta.ScopeApp, meta.ObjectScope("200000000000001"), meta.TokenScope("secret-token")
	all := []string{app, obj, tok}
	// Not a whole second: SQLite keeps seconds, PostgreSQL microseconds, and a pause
	// must never come back shorter than written.
	pause := limitsEpoch.Add(5*time.Minute + 1500*time.Millisecond + 123*time.Nanosecond)
	later := limitsEpoch.Add(15 * time.Minute)
	tests := []struct {
		name        string
		store       *models.ProviderLimits
		usage       map[string]int
		paused      map[string]time.Time
		wantUsage   map[string]int
		wantPaused  map[string]time.Time
		otherUsage  map[string]int
		otherPaused map[string]time.Time
	}{
		{name: "nothing recorded"},
		{name: "usage of two scopes in one upsert", store: lim, usage: map[string]int{app: 40, obj: 80},
			wantUsage: map[string]int{app: 40, obj: 80}},
		{name: "a pause keeps the usage", store: lim, paused: map[string]time.Time{app: pause},
			wantUsage: map[string]int{app: 40, obj: 80}, wantPaused: map[string]time.Time{app: pause}},
		{name: "usage keeps the pause", store: lim, usage: map[string]int{app: 100},
			wantUsage: map[string]int{app: 100, obj: 80}, wantPaused: map[string]time.Time{app: pause}},
		{name: "a pause of a new scope", store: lim, paused: map[string]time.Time{obj: later},
			wantUsage: map[string]int{app: 100, obj: 80}, wantPaused: map[string]time.Time{app: pause, obj: later}},
		{name: "a token's user limit set", store: lim, usage: map[string]int{tok: 100},
			wantUsage: map[string]int{app: 100, obj: 80, tok: 100}, wantPaused: map[string]time.Time{app: pause, obj: later}},
		{name: "and cleared, with usage and a pause at once", store: lim, usage: map[string]int{tok: 0, app: 10}, paused: map[string]time.Time{app: later},
			wantUsage: map[string]int{app: 10, obj: 80, tok: 0}, wantPaused: map[string]time.Time{app: later, obj: later}},
		{name: "another provider's state is its own", store: other, usage: map[string]int{app: 55}, paused: map[string]time.Time{app: pause},
			wantUsage: map[string]int{app: 10, obj: 80, tok: 0}, wantPaused: map[string]time.Time{app: later, obj: later},
			otherUsage: map[string]int{app: 55}, otherPaused: map[string]time.Time{app: pause}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.store != nil {
				if err := tt.store.Record(ctx, tt.usage, tt.paused); err != nil {
					t.Fatalf("record: %v", err)
				}
			}
			for _, c := range []struct {
				name       string
				store      *models.ProviderLimits
				usage      map[string]int
				paused     map[string]time.Time
				wantUsage  map[string]int
				wantPaused map[string]time.Time
			}{{name: "meta", store: lim, wantUsage: tt.wantUsage, wantPaused: tt.wantPaused},
				{name: "linkedin", store: other, wantUsage: tt.otherUsage, wantPaused: tt.otherPaused}} {
				usage, paused, err := c.store.Load(ctx, all)
				if err != nil {
					t.Fatalf("%s: load: %v", c.name, err)
				}
				if !sameUsage(usage, c.wantUsage) {
					t.Errorf("%s: usage %v, want %v", c.name, usage, c.wantUsage)
				}
				if len(paused) != len(c.wantPaused) {
					t.Errorf("%s: paused %v, want %v", c.name, paused, c.wantPaused)
				}
				for scope, want := range c.wantPaused {
					if got := paused[scope]; got.Before(want) || got.Sub(want) >= time.Second {
						t.Errorf("%s: %s paused until %v, want %v", c.name, scope, got, want)
					}
				}
			}
		})
	}
	usage, _, err := lim.Load(ctx, []string{obj})
	if err != nil || len(usage) != 1 || usage[obj] != 80 {
		t.Errorf("load of one scope: %v, %v", usage, err)
	}
}

// sameUsage compares usage maps, a scope at 0 being the same as no row.
func sameUsage(got, want map[string]int) bool {
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestProviderLimitsConcurrentReplicas: replicas upsert the same scopes at once, in
// any order; none fails (no deadlock, no duplicate key) and the last word is kept.
func TestProviderLimitsConcurrentReplicas(t *testing.T) {
	ctx := context.Background()
	a, b := openReplicas(t, nil)
	scopes := []string{meta.ScopeApp, meta.ObjectScope("1"), meta.ObjectScope("2"), meta.ObjectScope("3")}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i, s := range []*models.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lim := s.ProviderLimits("meta")
			for n := range 25 {
				usage := map[string]int{}
				for _, sc := range scopes {
					usage[sc] = n
				}
				paused := map[string]time.Time{scopes[(i+n)%len(scopes)]: limitsEpoch.Add(time.Duration(n) * time.Second)}
				if err := lim.Record(ctx, usage, paused); err != nil {
					errs <- err
					return
				}
				if _, _, err := lim.Load(ctx, scopes); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent record: %v", err)
	}
	usage, _, err := a.ProviderLimits("meta").Load(ctx, scopes)
	if err != nil || len(usage) != len(scopes) || usage[meta.ScopeApp] != 24 {
		t.Errorf("after the writers: %v, %v", usage, err)
	}
}

// openReplicas opens two Stores on one database, as two replicas would: the same
// SQLite file, or the same PostgreSQL schema when TEST_POSTGRES_DSN is set.
func openReplicas(t *testing.T, clock providers.Clock) (*models.Store, *models.Store) {
	t.Helper()
	ctx := context.Background()
	oo := models.OpenOptions{Clock: clock}
	if dsn := os.Getenv(storetest.EnvPostgres); dsn != "" {
		oo.URL = storetest.PostgresSchema(t, dsn)
	} else {
		oo.SQLitePath = filepath.Join(t.TempDir(), "relink.db")
	}
	var stores [2]*models.Store
	for i := range stores {
		s, err := models.Open(ctx, oo)
		if err != nil {
			t.Fatalf("open replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	if _, err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return stores[0], stores[1]
}

// appLimit answers the next Graph call it is armed for with Meta's app-wide limit
// (code 4, x-app-usage at 100), as Meta would answer one replica first.
type appLimit struct{ armed atomic.Bool }

func (a *appLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !a.armed.CompareAndSwap(true, false) {
		return http.DefaultTransport.RoundTrip(req)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-App-Usage", `{"call_count":100,"total_cputime":20,"total_time":30}`)
	body := `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"fbtrace_id":"AbC"}}`
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Header: h,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// TestMetaClientsShareLimitsThroughTheDatabase: two meta Clients on two Stores of one
// database stand for two replicas. A pause Meta gave one (app-wide code 4, or an ad
// account's 80004) stops the other's calls before they reach Meta, until it ends.
func TestMetaClientsShareLimitsThroughTheDatabase(t *testing.T) {
	const account = "act_200000000000001"
	tests := []struct {
		name     string
		call     func(ctx context.Context, c *meta.Client, tok providers.Token) error
		endpoint string
		pause    time.Duration
	}{
		{name: "app-wide (code 4)", endpoint: "GET /me", pause: 5 * time.Minute,
			call: func(ctx context.Context, c *meta.Client, tok providers.Token) error {
				_, err := c.Me(ctx, tok)
				return err
			}},
		{name: "ad account (80004)", endpoint: "GET /act_{id}", pause: 15 * time.Minute,
			call: func(ctx context.Context, c *meta.Client, tok providers.Token) error {
				_, err := c.AdAccount(ctx, tok, account)
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			sb, srv := sandboxtest.Start(t)
			a, b := openReplicas(t, sb.Clock())
			inject := &appLimit{}
			slept := func(context.Context, time.Duration) error { return nil }
			client := func(s *models.Store, rt http.RoundTripper) *meta.Client {
				return meta.New(meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
					GraphURL: srv.URL + "/sandbox/meta/graph", WWWURL: srv.URL + "/sandbox/meta/www",
					RedirectURL: sandboxtest.RedirectURI, HTTPClient: &http.Client{Transport: rt}, Clock: sb.Clock(),
					Sleep: slept, Limits: s.ProviderLimits("meta")})
			}
			first, second := client(a, inject), client(b, http.DefaultTransport)
			var toks [2]providers.Token
			for i, c := range []*meta.Client{first, second} {
				tok, err := c.RenewToken(ctx, providers.Token{AccessToken: sandboxtest.MetaLogin(t, srv, sandbox.MetaAgencyUser)})
				if err != nil {
					t.Fatalf("login %d: %v", i, err)
				}
				toks[i] = tok
			}

			if tt.endpoint == "GET /me" {
				inject.armed.Store(true)
			} else {
				sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: account, Fault: "rate_limited"})
			}
			if err := tt.call(ctx, first, toks[0]); providers.ReasonOf(err) != providers.ReasonRateLimited {
				t.Fatalf("first replica: %v", err)
			}
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: sandbox.FaultClear})

			sb.ResetCalls()
			err := tt.call(ctx, second, toks[1])
			if pe, _ := providers.AsError(err); pe == nil || pe.Reason != providers.ReasonRateLimited || pe.RetryAfter != tt.pause {
				t.Errorf("second replica during the pause: %v, want rate_limited for %v", err, tt.pause)
			}
			if n := sb.CallsTo("meta", tt.endpoint); n != 0 {
				t.Errorf("second replica reached Meta %d times during the pause", n)
			}
			if _, err := second.Pages(ctx, toks[1]); tt.endpoint != "GET /me" && err != nil {
				t.Errorf("an ad account's pause stopped another call: %v", err)
			}

			sandboxtest.Advance(t, srv, tt.pause)
			for i, c := range []*meta.Client{first, second} {
				if err := tt.call(ctx, c, toks[i]); err != nil {
					t.Errorf("replica %d after the pause: %v", i+1, err)
				}
			}
		})
	}
}

// countedLimits counts what a Client asks of the database.
type countedLimits struct {
	*models.ProviderLimits
	loads, records atomic.Int64
}

func (c *countedLimits) Load(ctx context.Context, scopes []string) (map[string]int, map[string]time.Time, error) {
	c.loads.Add(1)
	return c.ProviderLimits.Load(ctx, scopes)
}

func (c *countedLimits) Record(ctx context.Context, usage map[string]int, paused map[string]time.Time) error {
	c.records.Add(1)
	return c.ProviderLimits.Record(ctx, usage, paused)
}

// TestMetaClientOnTheDatabase: in the steady state a Graph call costs one read and
// no write; a user limit is written under the token's fingerprint, never the token,
// stamped with the store's clock, and cleared by the next success.
func TestMetaClientOnTheDatabase(t *testing.T) {
	ctx := context.Background()
	sb, srv := sandboxtest.Start(t)
	s, _ := openReplicas(t, sb.Clock())
	lim := &countedLimits{ProviderLimits: s.ProviderLimits("meta")}
	c := meta.New(meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
		GraphURL: srv.URL + "/sandbox/meta/graph", WWWURL: srv.URL + "/sandbox/meta/www",
		RedirectURL: sandboxtest.RedirectURI, Clock: sb.Clock(), Limits: lim,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	tok, err := c.RenewToken(ctx, providers.Token{AccessToken: sandboxtest.MetaLogin(t, srv, sandbox.MetaSmallUser)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx, tok); err != nil {
		t.Fatal(err)
	}
	loads, records := lim.loads.Load(), lim.records.Load()
	const calls = 20
	for range calls {
		if _, err := c.Me(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := lim.loads.Load() - loads; n != calls {
		t.Errorf("%d reads for %d calls, want one each", n, calls)
	}
	if n := lim.records.Load() - records; n != 0 {
		t.Errorf("%d writes for %d calls in the steady state, want none", n, calls)
	}

	type row struct {
		scope   string
		usage   int
		updated time.Time
	}
	rows := func() map[string]row {
		t.Helper()
		out := map[string]row{}
		err := s.Tx(ctx, func(tx *models.Store) error {
			rs, err := tx.SQLTx().QueryContext(ctx, `SELECT scope, usage, updated_at FROM provider_limits WHERE provider = 'meta'`)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var r row
				if err := rs.Scan(&r.scope, &r.usage, &r.updated); err != nil {
					return err
				}
				out[r.scope] = r
			}
			return rs.Err()
		})
		if err != nil {
			t.Fatalf("read provider_limits: %v", err)
		}
		return out
	}

	sandboxtest.Advance(t, srv, time.Hour)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "rate_limited"})
	if _, err := c.Me(ctx, tok); providers.ReasonOf(err) != providers.ReasonRateLimited {
		t.Fatalf("user limit: %v", err)
	}
	got := rows()
	r, ok := got[meta.TokenScope(tok.AccessToken)]
	if !ok || r.usage != 100 || !r.updated.Equal(sb.Clock().Now().Truncate(time.Second)) {
		t.Errorf("token row %+v (found %v), want usage 100 stamped %v", r, ok, sb.Clock().Now())
	}
	for scope := range got {
		if strings.Contains(scope, tok.AccessToken) {
			t.Errorf("scope %q holds the token", scope)
		}
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: sandbox.FaultClear})
	if _, err := c.Me(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if r := rows()[meta.TokenScope(tok.AccessToken)]; r.usage != 0 {
		t.Errorf("token row after a success: %+v, want usage 0", r)
	}
}
