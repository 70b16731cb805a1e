package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// BenchmarkDebugToken measures GET /debug_token over loopback HTTP from parallel
// clients, the way a health sweep hits it. It reports requests per second.
func BenchmarkDebugToken(b *testing.B) {
	_, srv := sandboxtest.Start(b)
	tok := sandboxtest.MetaLogin(b, srv, sandbox.MetaAgencyUser)
	u := srv.URL + "/sandbox/meta/graph/v24.0/debug_token?" + url.Values{"input_token": {tok},
		"access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}}.Encode()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkDebugTokenHandler measures the handler alone, without the network.
func BenchmarkDebugTokenHandler(b *testing.B) {
	sb, srv := sandboxtest.Start(b)
	tok := sandboxtest.MetaLogin(b, srv, sandbox.MetaAgencyUser)
	target := "/sandbox/meta/graph/v24.0/debug_token?" + url.Values{"input_token": {tok},
		"access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}}.Encode()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkDebugTokenBatch measures debug_token in Graph batches of MaxBatch
// operations over loopback HTTP from parallel clients, the way InspectTokens sweeps.
// It reports tokens inspected per second.
func BenchmarkDebugTokenBatch(b *testing.B) {
	_, srv := sandboxtest.Start(b)
	tok := sandboxtest.MetaLogin(b, srv, sandbox.MetaAgencyUser)
	ops := make([]map[string]string, sandbox.MaxBatch)
	for i := range ops {
		ops[i] = map[string]string{"method": "GET", "relative_url": "debug_token?" + url.Values{"input_token": {tok}}.Encode()}
	}
	batch, _ := json.Marshal(ops)
	form := url.Values{"access_token": {sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret}, "batch": {string(batch)}}.Encode()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(srv.URL+"/sandbox/meta/graph/v24.0/", "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*sandbox.MaxBatch)/b.Elapsed().Seconds(), "tokens/s")
}
