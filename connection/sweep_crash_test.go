package connection_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

// killingMeta is the Meta provider of a sweep that is killed: once kill batches of
// InspectTokens have returned, it cancels the sweep's context, as a process stopping
// halfway through a sweep would. The answers it got still reach the sweep.
type killingMeta struct {
	*meta.Client
	kill   int
	cancel context.CancelFunc

	mu       sync.Mutex
	returned int
	killed   bool
	// inFlight counts the tokens of the batches sent before the kill (those that returned
	// and those still in flight): only they may have reached Meta.
	inFlight int
}

func (k *killingMeta) InspectTokens(ctx context.Context, toks []providers.Token) ([]providers.TokenInfo, []error, error) {
	k.mu.Lock()
	if !k.killed {
		k.inFlight += len(toks)
	}
	k.mu.Unlock()
	infos, errs, err := k.Client.InspectTokens(ctx, toks)
	k.mu.Lock()
	k.returned++
	if k.returned == k.kill {
		k.killed = true
		k.cancel()
	}
	k.mu.Unlock()
	return infos, errs, err
}

// TestSweepKilledHalfwayLosesNothing kills a sweep of 150 due Meta connections (three
// sub-accounts of 50, seeded degraded so that their next answered check changes their
// status once) while batches are in flight, then sweeps again: every connection ends
// checked and healthy with exactly one status event, and Meta was asked again only about
// the tokens whose batch was in flight when the sweep died.
func TestSweepKilledHalfwayLosesNothing(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		kill        int
		// wantSaved is how many connections the killed sweep saves; -1 when it depends on
		// timing (several groups in flight).
		wantSaved int
	}{
		{name: "killed once the first batch returns", concurrency: 1, kill: 1, wantSaved: 0},
		{name: "killed once the second batch returns", concurrency: 1, kill: 2, wantSaved: meta.MaxBatch},
		{name: "killed with every group in flight", concurrency: 4, kill: 1, wantSaved: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			third, err := w.store.CreateSubAccount(w.ctx, w.tenant.AgencyID, "Third Client")
			if err != nil {
				t.Fatal(err)
			}
			subs := []int64{w.tenant.SubAccountID, w.other.SubAccountID, third.ID}
			normal := w.cfg.Providers
			mc := normal[0].(*meta.Client)
			toks := metaTokens(t, w.ctx, w.ts, mc)
			conns := seedMeta(t, w.ctx, w.store, w.svc, subs, 50, toks, models.StatusDegraded)
			n := len(conns)
			w.due()
			sweepAt := w.store.Now().Truncate(time.Second)
			w.sb.ResetCalls()

			// The killed sweep.
			ctx, cancel := context.WithCancel(w.ctx)
			defer cancel()
			killer := &killingMeta{Client: mc, kill: tt.kill, cancel: cancel}
			killed := w.withConfig(func(c *connection.Config) {
				c.Providers = []providers.Provider{killer, normal[1]}
				c.SweepConcurrency = tt.concurrency
			})
			st1, err := killed.Sweep(ctx)
			if err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("killed sweep: %v (%+v), want context.Canceled", err, st1)
			}
			killer.mu.Lock()
			inFlight := killer.inFlight
			killer.mu.Unlock()
			if tt.concurrency == 1 && inFlight != tt.kill*meta.MaxBatch {
				t.Fatalf("%d tokens sent before the kill, want %d", inFlight, tt.kill*meta.MaxBatch)
			}
			saved := 0
			for _, sc := range conns {
				id := sc.ID
				if c := w.connOf(sc); c.LastCheckedAt != nil && c.LastCheckedAt.Equal(sweepAt) {
					saved++
					if c.Status != models.StatusHealthy {
						t.Fatalf("connection %d saved by the killed sweep as %s", id, c.Status)
					}
				} else if c.Status != models.StatusDegraded {
					t.Fatalf("connection %d not saved by the killed sweep but %s", id, c.Status)
				}
			}
			if tt.wantSaved >= 0 && saved != tt.wantSaved {
				t.Fatalf("the killed sweep saved %d connections, want %d", saved, tt.wantSaved)
			}
			if saved == n {
				t.Fatalf("the killed sweep saved every connection: nothing was killed")
			}
			firstCalls := w.sb.CallsTo("meta", "GET /debug_token")
			if firstCalls > inFlight {
				t.Fatalf("the killed sweep asked about %d tokens, only %d were sent before the kill", firstCalls, inFlight)
			}

			// The next sweep, with the normal provider and a fresh context, at the same
			// time: only what the killed one did not save is still due.
			w.sb.ResetCalls()
			w.svc = w.withConfig(func(c *connection.Config) { c.Providers = normal })
			st2 := w.sweep()
			if st2.Due != n-saved || st2.Checked != n-saved || st2.OK != n-saved {
				t.Fatalf("second sweep %+v, want %d due, checked and ok", st2, n-saved)
			}
			if got := w.sb.CallsTo("meta", "GET /debug_token"); got != n-saved {
				t.Fatalf("second sweep asked about %d tokens, want %d", got, n-saved)
			}
			// Meta was asked about every token once, and again only about those whose
			// batch was in flight, not saved, when the sweep died: with one group at a
			// time, at most that one batch.
			total := firstCalls + n - saved
			again := inFlight - saved
			if tt.concurrency == 1 {
				again = meta.MaxBatch
			}
			if total < n || total > n+again {
				t.Fatalf("debug_token asked %d times for %d connections, want at most %d more (%d tokens sent before the kill, %d saved)",
					total, n, again, inFlight, saved)
			}
			if st3 := w.sweep(); st3.Due != 0 {
				t.Fatalf("third sweep found %d due", st3.Due)
			}

			for _, sc := range conns {
				id, c := sc.ID, w.connOf(sc)
				if c.Status != models.StatusHealthy || c.LastCheckedAt == nil || !c.LastCheckedAt.Equal(sweepAt) ||
					c.NextCheckAt == nil || !c.NextCheckAt.After(sweepAt) || c.UnreachableSince != nil || c.ConsecutiveFailures != 0 {
					t.Fatalf("connection %d after both sweeps: %s, checked %v, next %v, unreachable since %v, %d failures",
						id, c.Status, c.LastCheckedAt, c.NextCheckAt, c.UnreachableSince, c.ConsecutiveFailures)
				}
			}
			// One status event per connection, degraded to healthy, and nothing else.
			type key struct {
				conn     int64
				kind     string
				old, new models.Status
			}
			events := map[int64]int{}
			seen := map[key]bool{}
			for _, sub := range subs {
				es, err := w.store.EventsOf(w.ctx, sub, 10*n)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					if e.ConnectionID == nil {
						continue
					}
					k := key{*e.ConnectionID, e.Kind, e.OldStatus, e.NewStatus}
					if seen[k] {
						t.Fatalf("duplicate event %+v", e)
					}
					seen[k] = true
					events[*e.ConnectionID]++
					if e.Kind != models.EventCheckRecovered || e.OldStatus != models.StatusDegraded || e.NewStatus != models.StatusHealthy {
						t.Fatalf("unexpected event %s %s→%s for connection %d", e.Kind, e.OldStatus, e.NewStatus, *e.ConnectionID)
					}
				}
			}
			for _, sc := range conns {
				if events[sc.ID] != 1 {
					t.Fatalf("connection %d has %d status events, want 1", sc.ID, events[sc.ID])
				}
			}
			t.Logf("killed sweep saved %d of %d with %d tokens in flight; debug_token asked %d times in all", saved, n, inFlight, firstCalls+n-saved)
		})
	}
}

// connOf reloads a seeded connection from its sub-account.
func (w *world) connOf(c models.Connection) models.Connection {
	w.t.Helper()
	got, err := w.store.Connection(w.ctx, c.SubAccountID, c.ID)
	if err != nil {
		w.t.Fatalf("connection %d: %v", c.ID, err)
	}
	return got
}
