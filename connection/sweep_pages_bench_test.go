package connection_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// pageIdle is how long the idle phase of BenchmarkPageReadsDuringSweep reads pages.
const pageIdle = 3 * time.Second

// pageReaders is how many goroutines read connections pages at once.
const pageReaders = 2

// latencies collects durations from several goroutines.
type latencies struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ds = append(l.ds, d)
	l.mu.Unlock()
}

// quantileMS is quantile q (0..1) of ds, nearest rank, in milliseconds; 0 when empty.
func quantileMS(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	i = min(max(i, 0), len(ds)-1)
	return float64(ds[i]) / float64(time.Millisecond)
}

// pageLoad runs, until stop is closed, pageReaders goroutines each reading one
// connections page of sub-account page after another (ConnectionsOf, AssetsOf,
// NeedingAction), and one goroutine making a user's write to connection conn of another
// sub-account (a transaction reading the row and writing it back with UpdateConnection,
// as a Refresh does) every 5 ms. It returns once they have all stopped.
func pageLoad(tb testing.TB, ctx context.Context, store *models.Store, page int64, conn models.Connection, stop <-chan struct{}) (reads, writes []time.Duration) {
	var r, w latencies
	var failed atomic.Value
	var wg sync.WaitGroup
	for range pageReaders {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				if _, err := store.ConnectionsOf(ctx, page); err != nil {
					failed.Store(err)
					return
				}
				if _, err := store.AssetsOf(ctx, page); err != nil {
					failed.Store(err)
					return
				}
				if _, err := store.NeedingAction(ctx, page); err != nil {
					failed.Store(err)
					return
				}
				r.add(time.Since(start))
			}
		})
	}
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			start := time.Now()
			err := store.Tx(ctx, func(tx *models.Store) error {
				c, err := tx.Connection(ctx, conn.SubAccountID, conn.ID)
				if err != nil {
					return err
				}
				return tx.UpdateConnection(ctx, c.SubAccountID, c)
			})
			if err != nil {
				failed.Store(err)
				return
			}
			w.add(time.Since(start))
		}
	})
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatalf("page load: %v", err)
	}
	return r.ds, w.ds
}

// BenchmarkPageReadsDuringSweep measures whether a sweep of 10,000 due Meta connections
// (100 sub-accounts × 100) slows the connections page and a user's write. Each iteration
// reads one sub-account's page (its 100 connections and 20 chosen assets: ConnectionsOf,
// AssetsOf, NeedingAction) in a loop from 2 goroutines, while a third writes a connection
// of another sub-account every 5 ms (a transaction with one UpdateConnection, as a Refresh
// makes): first for 3 seconds with no sweep, then for the whole of one Sweep of all
// 10,000.
//
// Metrics: idle_p50_ms, idle_p99_ms, sweep_p50_ms, sweep_p99_ms (latency of one page's
// reads), idle_reads and sweep_reads (pages read in each phase, per iteration),
// write_idle_p99_ms and write_sweep_p99_ms (latency of the write transaction), and
// sweep_s (how long the sweep took).
func BenchmarkPageReadsDuringSweep(b *testing.B) {
	const subs, perSub, conns, assets = 100, 100, 100 * 100, 20
	ctx := context.Background()
	sb, srv := sandboxtest.Start(b)
	store := storetest.Open(b, storetest.Options{Clock: sb.Clock()})
	cipher, err := models.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	urls := sb.URLs(srv.URL)
	mc := meta.New(meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
		GraphURL: urls.MetaGraph, WWWURL: urls.MetaWWW, Clock: sb.Clock(), RedirectURL: sandboxtest.RedirectURI})
	svc, err := connection.New(connection.Config{Store: store, Cipher: cipher, Providers: []providers.Provider{mc}})
	if err != nil {
		b.Fatal(err)
	}
	ag, err := store.CreateAgency(ctx, "Bench Agency")
	if err != nil {
		b.Fatal(err)
	}
	var subIDs []int64
	for i := range subs {
		sa, err := store.CreateSubAccount(ctx, ag.ID, fmt.Sprintf("Client %03d", i))
		if err != nil {
			b.Fatal(err)
		}
		subIDs = append(subIDs, sa.ID)
	}
	toks := metaTokens(b, ctx, srv, mc)
	seeded := seedMeta(b, ctx, store, svc, subIDs, perSub, toks, models.StatusHealthy)
	page := subIDs[0]
	// The page's sub-account has chosen assets on its first connections.
	for i := range assets {
		kind := providers.KindAdAccount
		if i%2 == 1 {
			kind = providers.KindPage
		}
		a := models.Asset{ConnectionID: seeded[i%5].ID, Kind: kind, ExternalID: fmt.Sprintf("bench-asset-%d", i),
			Name: fmt.Sprintf("Bench asset %d", i), Selected: true}
		if err := store.SaveAsset(ctx, page, &a); err != nil {
			b.Fatal(err)
		}
	}
	// The write goes to a connection of another sub-account.
	other := seeded[perSub]
	if other.SubAccountID == page {
		b.Fatal("the written connection is in the page's sub-account")
	}

	var idleR, idleW, sweepR, sweepW []time.Duration
	var swept time.Duration
	b.ResetTimer()
	for range b.N {
		// (a) No sweep.
		stop := make(chan struct{})
		time.AfterFunc(pageIdle, func() { close(stop) })
		r, w := pageLoad(b, ctx, store, page, other, stop)
		idleR, idleW = append(idleR, r...), append(idleW, w...)

		// (b) One sweep of all 10,000, made due first.
		sb.Clock().Advance(connection.DefaultCheckEvery * 2)
		stop = make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			r, w = pageLoad(b, ctx, store, page, other, stop)
		}()
		start := time.Now()
		st, err := svc.Sweep(ctx)
		swept += time.Since(start)
		close(stop)
		<-done
		if err != nil {
			b.Fatalf("sweep: %v", err)
		}
		if st.Checked != conns || st.OK != conns {
			b.Fatalf("sweep checked %d, %d ok, want %d (%+v)", st.Checked, st.OK, conns, st)
		}
		sweepR, sweepW = append(sweepR, r...), append(sweepW, w...)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(quantileMS(idleR, 0.50), "idle_p50_ms")
	b.ReportMetric(quantileMS(idleR, 0.99), "idle_p99_ms")
	b.ReportMetric(quantileMS(sweepR, 0.50), "sweep_p50_ms")
	b.ReportMetric(quantileMS(sweepR, 0.99), "sweep_p99_ms")
	b.ReportMetric(float64(len(idleR))/n, "idle_reads")
	b.ReportMetric(float64(len(sweepR))/n, "sweep_reads")
	b.ReportMetric(quantileMS(idleW, 0.99), "write_idle_p99_ms")
	b.ReportMetric(quantileMS(sweepW, 0.99), "write_sweep_p99_ms")
	b.ReportMetric(swept.Seconds()/n, "sweep_s")
}
