package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// batches records the batch requests the client sends: their URLs and operations.
type batches struct {
	mu   sync.Mutex
	urls []string
	ops  [][]map[string]string
	// fail, when it returns an error, fails the request of that number (from 0).
	fail func(n int) error
}

func (b *batches) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.Body != nil {
		raw, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(raw))
		form, _ := url.ParseQuery(string(raw))
		var ops []map[string]string
		_ = json.Unmarshal([]byte(form.Get("batch")), &ops)
		b.mu.Lock()
		n := len(b.urls)
		b.urls = append(b.urls, req.URL.String())
		b.ops = append(b.ops, ops)
		b.mu.Unlock()
		if b.fail != nil {
			if err := b.fail(n); err != nil {
				return nil, err
			}
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestMaxBatchIsGraphs(t *testing.T) {
	if meta.MaxBatch != 50 || sandbox.MaxBatch != meta.MaxBatch {
		t.Errorf("meta.MaxBatch = %d, sandbox.MaxBatch = %d, Graph takes 50", meta.MaxBatch, sandbox.MaxBatch)
	}
}

// TestInspectTokensAgreesWithInspectToken: for every kind of token the batch says
// exactly what InspectToken says of it alone, Targets included.
func TestInspectTokensAgreesWithInspectToken(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	ctx := context.Background()
	agency := login(t, srv, c, sandbox.MetaAgencyUser)
	small := login(t, srv, c, sandbox.MetaSmallUser)
	bulk := login(t, srv, c, sandbox.MetaBulkUser)
	pages, err := c.Pages(ctx, agency)
	if err != nil || len(pages) == 0 {
		t.Fatalf("pages: %v", err)
	}
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "password_changed"})
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: "110000000000002", Fault: "lost_asset_role"})
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaBulkUser, Fault: "missing_permission", Scope: "ads_read"})
	tests := []struct {
		name string
		tok  providers.Token
	}{
		{name: "valid, one Page lost", tok: agency},
		{name: "password changed", tok: small},
		{name: "permission removed", tok: bulk},
		{name: "Page token", tok: providers.Token{AccessToken: pages[0].AccessToken}},
		{name: "not a token", tok: providers.Token{AccessToken: "EAAnotatoken"}},
		{name: "empty", tok: providers.Token{}},
	}
	toks := make([]providers.Token, len(tests))
	for i, tt := range tests {
		toks[i] = tt.tok
	}
	infos, errs, err := c.InspectTokens(ctx, toks)
	if err != nil || len(infos) != len(tests) || len(errs) != len(tests) {
		t.Fatalf("InspectTokens: %d infos, %d errors, %v", len(infos), len(errs), err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := c.InspectToken(ctx, tt.tok)
			if (wantErr == nil) != (errs[i] == nil) {
				t.Fatalf("alone: %v; batched: %v", wantErr, errs[i])
			}
			if wantErr != nil {
				a, b := c.Classify(wantErr), c.Classify(errs[i])
				if a.Reason != b.Reason || a.Code != b.Code || a.Subcode != b.Subcode || a.HTTPStatus != b.HTTPStatus {
					t.Errorf("alone: %+v; batched: %+v", a, b)
				}
				return
			}
			if !reflect.DeepEqual(want, infos[i]) {
				t.Errorf("alone:   %+v\nbatched: %+v", want, infos[i])
			}
		})
	}
}

// TestInspectTokensTargets: Targets says which Pages and ad accounts each permission
// still reaches, from debug_token's granular_scopes.
func TestInspectTokensTargets(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	c, _ := newClient(t, srv, sb)
	tok := login(t, srv, c, sandbox.MetaAgencyUser)
	pages := []string{"110000000000001", "110000000000002", "110000000000003"}
	accounts := []string{"200000000000001", "200000000000002", "200000000000003", "200000000000004"}
	tests := []struct {
		name  string
		fault *sandbox.FaultRequest
		pages []string
	}{
		{name: "every Page", pages: pages},
		{name: "a Page lost", fault: &sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: pages[1], Fault: "lost_asset_role"},
			pages: []string{pages[0], pages[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				sandboxtest.Inject(t, srv, *tt.fault)
			}
			single, err := c.InspectToken(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			infos, errs, err := c.InspectTokens(context.Background(), []providers.Token{tok})
			if err != nil || errs[0] != nil {
				t.Fatal(err, errs[0])
			}
			for _, info := range []providers.TokenInfo{single, infos[0]} {
				got := map[string][]string{}
				for s, ids := range info.Targets {
					got[s] = slices.Sorted(slices.Values(ids))
				}
				want := map[string][]string{"pages_show_list": tt.pages, "pages_read_engagement": tt.pages,
					"ads_read": accounts, "ads_management": accounts, "business_management": accounts}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Targets = %v, want %v", got, want)
				}
			}
		})
	}
}

// TestInspectTokensChunks: more than MaxBatch tokens go in batches of at most
// MaxBatch, posted to the versioned Graph root with the app token; the answers keep
// the order of the tokens, and no token is ever put in a URL.
func TestInspectTokensChunks(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	rec := &batches{}
	c, _ := newClient(t, srv, sb, func(cfg *meta.Config) { cfg.HTTPClient = &http.Client{Transport: rec} })
	users := []string{sandbox.MetaAgencyUser, sandbox.MetaBulkUser, sandbox.MetaSmallUser}
	byUser := map[string]providers.Token{}
	for _, u := range users {
		byUser[u] = login(t, srv, c, u)
	}
	const n = 2*meta.MaxBatch + 7
	toks := make([]providers.Token, n)
	for i := range toks {
		toks[i] = byUser[users[i%len(users)]]
	}
	sb.ResetCalls()
	rec.mu.Lock()
	rec.urls, rec.ops = nil, nil
	rec.mu.Unlock()
	infos, errs, err := c.InspectTokens(context.Background(), toks)
	if err != nil {
		t.Fatal(err)
	}
	for i := range toks {
		if errs[i] != nil || !infos[i].Valid || infos[i].UserID != users[i%len(users)] {
			t.Fatalf("token %d: %+v %v", i, infos[i], errs[i])
		}
	}
	if sb.CallsTo("meta", sandbox.BatchEndpoint) != 3 || sb.CallsTo("meta", "GET /debug_token") != n {
		t.Errorf("calls: %+v", sb.Calls())
	}
	sizes := []int{}
	for i, u := range rec.urls {
		sizes = append(sizes, len(rec.ops[i]))
		if u != srv.URL+"/sandbox/meta/graph/"+meta.DefaultVersion+"/" {
			t.Errorf("posted to %s", u)
		}
		for _, tok := range byUser {
			if strings.Contains(u, tok.AccessToken) {
				t.Errorf("a token in the URL %s", u)
			}
		}
	}
	if !slices.Equal(sizes, []int{meta.MaxBatch, meta.MaxBatch, 7}) {
		t.Errorf("batches of %v", sizes)
	}
	if infos, errs, err := c.InspectTokens(context.Background(), nil); len(infos) != 0 || len(errs) != 0 || err != nil {
		t.Errorf("no tokens: %v %v %v", infos, errs, err)
	}
}

// TestInspectTokensFaultOfOneToken: a fault of one user fails only that user's
// token, classified as the same call alone would be; the batch itself succeeds.
func TestInspectTokensFaultOfOneToken(t *testing.T) {
	tests := []struct {
		name   string
		fault  sandbox.FaultRequest
		reason providers.Reason
	}{
		{name: "unavailable", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, reason: providers.ReasonProviderUnavailable},
		{name: "connection reset", fault: sandbox.FaultRequest{Fault: "provider_unavailable", Mode: sandbox.ModeReset}, reason: providers.ReasonProviderUnavailable},
		{name: "slow", fault: sandbox.FaultRequest{Fault: "provider_unavailable", Mode: sandbox.ModeSlow}, reason: providers.ReasonProviderUnavailable},
		{name: "rate limited", fault: sandbox.FaultRequest{Fault: "rate_limited"}, reason: providers.ReasonRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.StartWith(t, sandbox.Options{SlowDelay: 50 * time.Millisecond})
			c, _ := newClient(t, srv, sb)
			hit := login(t, srv, c, sandbox.MetaAgencyUser)
			spared := login(t, srv, c, sandbox.MetaSmallUser)
			f := tt.fault
			f.Provider, f.User = "meta", sandbox.MetaAgencyUser
			sandboxtest.Inject(t, srv, f)
			infos, errs, err := c.InspectTokens(context.Background(), []providers.Token{spared, hit, spared})
			if err != nil {
				t.Fatalf("the batch failed as a whole: %v", err)
			}
			for _, i := range []int{0, 2} {
				if errs[i] != nil || !infos[i].Valid {
					t.Errorf("token %d: %+v %v", i, infos[i], errs[i])
				}
			}
			pe, ok := providers.AsError(errs[1])
			if !ok || pe.Reason != tt.reason || !pe.Retryable || c.Classify(errs[1]).Reason != tt.reason {
				t.Errorf("the faulted token: %v, want %s", errs[1], tt.reason)
			}
			if !reflect.DeepEqual(infos[1], providers.TokenInfo{}) {
				t.Errorf("a failed token has info %+v", infos[1])
			}
		})
	}
}

// TestInspectTokensWholeFailure: when a batch request fails as a whole its tokens
// and every later one carry the error, which InspectTokens also returns; earlier
// batches keep their results.
func TestInspectTokensWholeFailure(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, srv *httptest.Server, limits *meta.MemoryLimits, rec *batches)
		secret string
		sent   int // batch requests that reach the network
		good   int // tokens inspected before the failure
		reason providers.Reason
		detail providers.Detail
	}{
		{name: "Graph down", setup: func(t *testing.T, srv *httptest.Server, _ *meta.MemoryLimits, _ *batches) {
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: "*", Fault: "provider_unavailable"})
		}, sent: 1, reason: providers.ReasonProviderUnavailable},
		{name: "connection reset", setup: func(t *testing.T, srv *httptest.Server, _ *meta.MemoryLimits, _ *batches) {
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: "*", Fault: "provider_unavailable", Mode: sandbox.ModeReset})
		}, sent: 1, reason: providers.ReasonProviderUnavailable},
		{name: "app paused", setup: func(t *testing.T, _ *httptest.Server, limits *meta.MemoryLimits, _ *batches) {
			_ = limits.Record(context.Background(), nil, map[string]time.Time{meta.ScopeApp: sandboxtest.Epoch.Add(time.Minute)})
		}, sent: 0, reason: providers.ReasonRateLimited},
		{name: "wrong app secret", secret: "wrong", sent: 1, reason: providers.ReasonUnknown, detail: providers.DetailAppMisconfigured},
		{name: "second batch cut off", setup: func(t *testing.T, _ *httptest.Server, _ *meta.MemoryLimits, rec *batches) {
			rec.fail = func(n int) error {
				if n == 1 {
					return errors.New("connection reset by peer")
				}
				return nil
			}
		}, sent: 2, good: meta.MaxBatch, reason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			limits := meta.NewMemoryLimits()
			rec := &batches{}
			c, _ := newClient(t, srv, sb, func(cfg *meta.Config) {
				cfg.HTTPClient = &http.Client{Transport: rec}
				cfg.Limits = limits
			})
			tok := login(t, srv, c, sandbox.MetaSmallUser)
			if tt.secret != "" {
				c, _ = newClient(t, srv, sb, func(cfg *meta.Config) {
					cfg.HTTPClient = &http.Client{Transport: rec}
					cfg.AppSecret = tt.secret
				})
			}
			if tt.setup != nil {
				tt.setup(t, srv, limits, rec)
			}
			rec.mu.Lock()
			rec.urls, rec.ops = nil, nil
			rec.mu.Unlock()
			toks := slices.Repeat([]providers.Token{tok}, meta.MaxBatch+10)
			infos, errs, err := c.InspectTokens(context.Background(), toks)
			pe, ok := providers.AsError(err)
			if !ok || pe.Reason != tt.reason || pe.Detail != tt.detail {
				t.Fatalf("err = %v, want %s %s", err, tt.reason, tt.detail)
			}
			if len(rec.urls) != tt.sent {
				t.Errorf("%d batch requests sent, want %d", len(rec.urls), tt.sent)
			}
			for i := range toks {
				if i < tt.good {
					if errs[i] != nil || !infos[i].Valid {
						t.Errorf("token %d of an earlier batch: %+v %v", i, infos[i], errs[i])
					}
					continue
				}
				if errs[i] != err || infos[i].Valid {
					t.Fatalf("token %d: %+v %v, want the batch's error", i, infos[i], errs[i])
				}
			}
		})
	}
}

// graphStub answers every request with status, headers and body.
func graphStub(t *testing.T, status int, header http.Header, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestInspectTokensOddAnswers: answers that are not a whole batch's fail no more
// than they say: a cut answer fails only the tokens it did not reach, an error
// object or a short array fails the batch.
func TestInspectTokensOddAnswers(t *testing.T) {
	valid := `{"code":200,"headers":[{"name":"Content-Type","value":"application/json"}],"body":"{\"data\":{\"app_id\":\"1\",\"type\":\"USER\",\"is_valid\":true,\"user_id\":\"42\",\"granular_scopes\":[{\"scope\":\"email\"}]}}"}`
	tests := []struct {
		name     string
		status   int
		body     string
		whole    providers.Reason // "" when the batch as a whole succeeds
		firstOK  bool
		secondIs providers.Reason
	}{
		{name: "cut after the first answer", status: 200, body: `[` + valid + `,{"code":2`, firstOK: true, secondIs: providers.ReasonProviderUnavailable},
		{name: "fewer answers than operations", status: 200, body: `[` + valid + `]`, firstOK: true, secondIs: providers.ReasonProviderUnavailable},
		{name: "a null answer", status: 200, body: `[` + valid + `,null]`, firstOK: true, secondIs: providers.ReasonProviderUnavailable},
		{name: "an answer of another shape", status: 200, body: `[` + valid + `,{"code":200,"body":"[]"}]`, firstOK: true, secondIs: providers.ReasonProviderUnavailable},
		{name: "empty array", status: 200, body: `[]`, whole: providers.ReasonProviderUnavailable},
		{name: "error object with 200", status: 200, body: `{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17}}`, whole: providers.ReasonRateLimited},
		{name: "gateway page", status: 502, body: `<html>Bad gateway</html>`, whole: providers.ReasonProviderUnavailable},
		{name: "not JSON", status: 200, body: `<html>portal</html>`, whole: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := graphStub(t, tt.status, nil, tt.body)
			c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL})
			infos, errs, err := c.InspectTokens(context.Background(), []providers.Token{{AccessToken: "a"}, {AccessToken: "b"}})
			if tt.whole != "" {
				if providers.ReasonOf(err) != tt.whole || errs[0] != err || errs[1] != err {
					t.Fatalf("err = %v (%v), want %s for the whole batch", err, errs, tt.whole)
				}
				return
			}
			if err != nil {
				t.Fatalf("the batch failed as a whole: %v", err)
			}
			if tt.firstOK && (errs[0] != nil || infos[0].UserID != "42" || infos[0].Targets == nil || len(infos[0].Targets) != 0) {
				t.Errorf("first: %+v %v", infos[0], errs[0])
			}
			if providers.ReasonOf(errs[1]) != tt.secondIs {
				t.Errorf("second: %v, want %s", errs[1], tt.secondIs)
			}
		})
	}
}

// TestInspectTokensRecordsUsage: x-app-usage of the batch's answer, and of each
// operation's, is recorded as a single call's is, and a pause it asks for holds the
// next batch back.
func TestInspectTokensRecordsUsage(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	var usage string
	withUsage := roundTrip(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && req.Method == http.MethodPost {
			resp.Header.Set("X-App-Usage", usage)
		}
		return resp, err
	})
	c, _ := newClient(t, srv, sb, func(cfg *meta.Config) {
		cfg.HTTPClient = &http.Client{Transport: withUsage}
		cfg.Sleep = func(context.Context, time.Duration) error { return nil }
	})
	tok := login(t, srv, c, sandbox.MetaSmallUser)
	tests := []struct {
		name    string
		usage   string
		want    int
		blocked bool // the next batch is held back
	}{
		{name: "usage noted", usage: `{"call_count":80,"total_cputime":10,"total_time":10}`, want: 80},
		{name: "app at its limit", usage: `{"call_count":100,"total_cputime":10,"total_time":10}`, want: 100, blocked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usage = tt.usage
			if _, _, err := c.InspectTokens(context.Background(), []providers.Token{tok}); err != nil {
				t.Fatal(err)
			}
			if c.Usage() != tt.want {
				t.Errorf("Usage() = %d, want %d", c.Usage(), tt.want)
			}
			_, _, err := c.InspectTokens(context.Background(), []providers.Token{tok})
			if blocked := providers.ReasonOf(err) == providers.ReasonRateLimited; blocked != tt.blocked {
				t.Errorf("next batch: %v, blocked wanted: %v", err, tt.blocked)
			}
		})
	}
}
