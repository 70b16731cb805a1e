package connection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
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

// seedUsers are the sandbox's Meta users whose tokens the seeded connections share.
var seedUsers = []string{avery, blake, casey}

// seedTx is how many connections seedMeta inserts per transaction.
const seedTx = 2500

// metaTokens logs each seed user in over the wire and returns their long-lived tokens,
// with the expiries and scopes debug_token gives, as Authorize keeps them.
func metaTokens(tb testing.TB, ctx context.Context, srv *httptest.Server, mc *meta.Client) []providers.Token {
	tb.Helper()
	toks := make([]providers.Token, 0, len(seedUsers))
	for _, u := range seedUsers {
		tok, err := mc.RenewToken(ctx, providers.Token{AccessToken: sandboxtest.MetaLogin(tb, srv, u)})
		if err != nil {
			tb.Fatalf("long-lived token of %s: %v", u, err)
		}
		info, err := mc.InspectToken(ctx, tok)
		if err != nil || !info.Valid {
			tb.Fatalf("token of %s: %+v %v", u, info, err)
		}
		tok.Expiry, tok.DataAccessExpiry, tok.Scopes = info.ExpiresAt, info.DataAccessExpiresAt, info.Scopes
		toks = append(toks, tok)
	}
	return toks
}

// seedMeta inserts perSub Meta connections into each sub-account of subs, directly
// (no flow, no history event), with ExternalUserID "bench-<n>", sealed with toks in
// turn, in status st, due at the next check interval. It returns them in order.
func seedMeta(tb testing.TB, ctx context.Context, store *models.Store, svc *connection.Service, subs []int64, perSub int, toks []providers.Token, st models.Status) []models.Connection {
	tb.Helper()
	now := store.Now().Truncate(time.Second)
	next := now.Add(connection.DefaultCheckEvery)
	type slot struct {
		sub int64
		n   int
	}
	all := make([]slot, 0, len(subs)*perSub)
	for _, sub := range subs {
		for range perSub {
			all = append(all, slot{sub, len(all)})
		}
	}
	out := make([]models.Connection, 0, len(all))
	for start := 0; start < len(all); start += seedTx {
		err := store.Tx(ctx, func(tx *models.Store) error {
			for _, s := range all[start:min(start+seedTx, len(all))] {
				c, err := tx.CreateConnection(ctx, s.sub, models.Connection{Provider: "meta",
					ExternalUserID: fmt.Sprintf("bench-%d", s.n), ExternalUserName: fmt.Sprintf("Bench %d", s.n), ConnectedAt: &now})
				if err != nil {
					return err
				}
				if err := connection.SealForTest(svc, &c, toks[s.n%len(toks)]); err != nil {
					return err
				}
				c.Status, c.StatusChangedAt, c.LastCheckedAt, c.NextCheckAt = st, &now, &now, &next
				if st == models.StatusDegraded {
					// A provider outage was seen an hour ago: the next check that gets an
					// answer changes the status, once.
					since := now.Add(-time.Hour)
					c.Reason, c.ConsecutiveFailures, c.TotalFailures, c.UnreachableSince = providers.ReasonProviderUnavailable, 1, 1, &since
				}
				if err := tx.UpdateConnection(ctx, s.sub, c); err != nil {
					return err
				}
				out = append(out, c)
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
	return out
}

// heapPeak samples runtime.MemStats.HeapInuse every 10 ms until stopped.
type heapPeak struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func watchHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	var ms runtime.MemStats
	sample := func() {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > h.peak.Load() {
			h.peak.Store(ms.HeapInuse)
		}
	}
	sample()
	go func() {
		defer close(h.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the peak in bytes.
func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// rawRate runs n requests made by req from workers goroutines over one keep-alive pool
// and returns how many per second the sandbox answered 200.
func rawRate(tb testing.TB, n, workers int, req func(i int) *http.Request) float64 {
	tb.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	do := func(i int) error {
		resp, err := client.Do(req(i))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	// Warm the pool and the handler up first.
	for i := range workers * 4 {
		if err := do(i); err != nil {
			tb.Fatal(err)
		}
	}
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatal(err)
	}
	return float64(n) / d.Seconds()
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

const appToken = sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret

// debugTokenRate is the sandbox's own throughput for single GET /debug_token requests
// with the app token, n of them from workers goroutines, tokens in turn.
func debugTokenRate(tb testing.TB, graph string, toks []providers.Token, n, workers int) float64 {
	tb.Helper()
	urls := make([]string, len(toks))
	for i, t := range toks {
		urls[i] = graph + "/" + meta.DefaultVersion + "/debug_token?" + url.Values{"input_token": {t.AccessToken}, "access_token": {appToken}}.Encode()
	}
	return rawRate(tb, n, workers, func(i int) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, urls[i%len(urls)], nil)
		return r
	})
}

// batchTokenRate is the sandbox's own throughput for debug_token in Graph batches of
// meta.MaxBatch operations (as InspectTokens sends them, headers included), in tokens
// per second: batches requests from workers goroutines.
func batchTokenRate(tb testing.TB, graph string, toks []providers.Token, batches, workers int) float64 {
	tb.Helper()
	ops := make([]map[string]string, meta.MaxBatch)
	for i := range ops {
		ops[i] = map[string]string{"method": http.MethodGet, "relative_url": "debug_token?" + url.Values{"input_token": {toks[i%len(toks)].AccessToken}}.Encode()}
	}
	b, _ := json.Marshal(ops)
	form := url.Values{"access_token": {appToken}, "batch": {string(b)}, "include_headers": {"true"}}.Encode()
	perSec := rawRate(tb, batches, workers, func(int) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, graph+"/"+meta.DefaultVersion+"/", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	})
	return perSec * meta.MaxBatch
}

// BenchmarkSweep10k sweeps 10,000 due Meta connections (100 sub-accounts × 100), each
// iteration one whole sweep, and compares its pace with the sandbox's own debug_token
// throughput measured in the same run against the same server.
//
// Metrics: conns/s (connections checked per second of sweep), debugtoken_req/s (single
// GET /debug_token requests with the app token, 2,000 from 4 goroutines over keep-alive
// connections, median of three rounds), ratio (conns/s ÷ debugtoken_req/s), batch_tok/s
// (debug_token in batches of 50, 200 batches from 4 goroutines, in tokens per second,
// median of three rounds) and ratio_batch (conns/s ÷ batch_tok/s),
// peak_heap_MB (the most runtime HeapInuse seen while sweeping, sampled every 10 ms, in
// MiB; it includes the in-process sandbox) and batch_req/sweep (Graph batch requests
// per sweep).
func BenchmarkSweep10k(b *testing.B) {
	const subs, perSub, conns = 100, 100, 100 * 100
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
	seedStart := time.Now()
	seedMeta(b, ctx, store, svc, subIDs, perSub, toks, models.StatusHealthy)
	b.Logf("%s: seeded %d connections in %v", store.Dialect(), conns, time.Since(seedStart).Round(time.Millisecond))

	var (
		swept   time.Duration
		peak    uint64
		batches int
		ops     int
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sb.Clock().Advance(connection.DefaultCheckEvery * 2)
		sb.ResetCalls()
		runtime.GC()
		heap := watchHeap()
		b.StartTimer()
		start := time.Now()
		st, err := svc.Sweep(ctx)
		d := time.Since(start)
		b.StopTimer()
		p := heap.Stop()
		if err != nil {
			b.Fatalf("sweep: %v", err)
		}
		if st.Checked != conns || st.OK != conns {
			b.Fatalf("sweep checked %d, %d ok, want %d (%+v)", st.Checked, st.OK, conns, st)
		}
		swept += d
		peak = max(peak, p)
		batches += sb.CallsTo("meta", sandbox.BatchEndpoint)
		ops += sb.CallsTo("meta", "GET /debug_token")
		b.StartTimer()
	}
	b.StopTimer()
	if ops != conns*b.N {
		b.Fatalf("%d debug_token operations in %d sweeps, want %d each", ops, b.N, conns)
	}
	rate := float64(conns*b.N) / swept.Seconds()
	// The sandbox's own pace, measured three times each on the same server after the
	// sweeps (their garbage collected first); the median counts.
	var singles, batcheds []float64
	for range 3 {
		runtime.GC()
		singles = append(singles, debugTokenRate(b, urls.MetaGraph, toks, 2000, 4))
		runtime.GC()
		batcheds = append(batcheds, batchTokenRate(b, urls.MetaGraph, toks, conns/meta.MaxBatch, 4))
	}
	single, batched := median(singles), median(batcheds)
	b.Logf("debug_token req/s %.0f, batched tokens/s %.0f", singles, batcheds)
	b.ReportMetric(rate, "conns/s")
	b.ReportMetric(single, "debugtoken_req/s")
	b.ReportMetric(rate/single, "ratio")
	b.ReportMetric(batched, "batch_tok/s")
	b.ReportMetric(rate/batched, "ratio_batch")
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(batches)/float64(b.N), "batch_req/sweep")
}
