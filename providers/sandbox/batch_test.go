package sandbox_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

const appToken = sandbox.DefaultMetaAppID + "|" + sandbox.DefaultMetaAppSecret

// element is one answer of a batch as a client reads it.
type element struct {
	Code    int `json:"code"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	Body *string `json:"body"`
}

func (e *element) header() http.Header {
	h := http.Header{}
	for _, kv := range e.Headers {
		h.Add(kv.Name, kv.Value)
	}
	return h
}

func (e *element) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if e.Body == nil || json.Unmarshal([]byte(*e.Body), &m) != nil {
		t.Fatalf("element body is not a JSON string: %+v", e)
	}
	return m
}

// postBatch posts ops as a batch to path under the Graph base with form fields.
func postBatch(t *testing.T, srv *httptest.Server, path string, ops []map[string]any, form url.Values) result {
	t.Helper()
	b, _ := json.Marshal(ops)
	if form == nil {
		form = url.Values{"access_token": {appToken}}
	}
	form.Set("batch", string(b))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sandbox/meta/graph"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func elements(t *testing.T, r result) []*element {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	var els []*element
	if err := json.Unmarshal(r.body, &els); err != nil {
		t.Fatalf("batch answer is not a JSON array: %s", r.body)
	}
	return els
}

func debugOp(tok string) map[string]any {
	return map[string]any{"method": "GET", "relative_url": "debug_token?" + url.Values{"input_token": {tok}}.Encode()}
}

// TestBatchAnswersEachOperationInOrder: a batch posted to the Graph root, versioned
// or not, answers every operation in order with its status, headers and body (a
// JSON string) as the standalone request would; include_headers=false leaves the
// headers out.
func TestBatchAnswersEachOperationInOrder(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	agency := longLived(t, srv, sandbox.MetaAgencyUser)
	small := longLived(t, srv, sandbox.MetaSmallUser)
	me := map[string]any{"method": "GET", "relative_url": "me?fields=id,name&" + url.Values{"access_token": {small},
		"appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, small)}}.Encode()}
	ops := []map[string]any{debugOp(agency), debugOp(small), me,
		{"method": "GET", "relative_url": "v24.0/debug_token", "body": "input_token=" + url.QueryEscape(agency)},
		{"method": "GET", "relative_url": "/act_200000000000001"}, // the app token cannot read it
	}
	tests := []struct {
		name        string
		path        string
		form        url.Values
		wantHeaders bool
	}{
		{name: "versioned root", path: "/v24.0/", wantHeaders: true},
		{name: "unversioned root", path: "/", wantHeaders: true},
		{name: "versioned root without the slash", path: "/v24.0", wantHeaders: true},
		{name: "without headers", path: "/v24.0/", form: url.Values{"access_token": {appToken}, "include_headers": {"false"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postBatch(t, srv, tt.path, ops, tt.form)
			if r.header.Get("X-App-Usage") == "" {
				t.Error("the batch's answer carries no x-app-usage")
			}
			els := elements(t, r)
			if len(els) != len(ops) {
				t.Fatalf("%d answers for %d operations", len(els), len(ops))
			}
			for i, want := range []string{sandbox.MetaAgencyUser, sandbox.MetaSmallUser} {
				d := els[i].json(t)["data"].(map[string]any)
				if els[i].Code != 200 || d["user_id"] != want || d["is_valid"] != true {
					t.Errorf("answer %d: %d %v", i, els[i].Code, d)
				}
			}
			if m := els[2].json(t); els[2].Code != 200 || m["id"] != sandbox.MetaSmallUser || m["name"] == nil {
				t.Errorf("/me with its own token: %d %v", els[2].Code, m)
			}
			if d := els[3].json(t)["data"].(map[string]any); d["user_id"] != sandbox.MetaAgencyUser {
				t.Errorf("input_token in the body: %v", d)
			}
			if els[4].Code != 400 {
				t.Errorf("an app token reading an ad account: %d %s", els[4].Code, *els[4].Body)
			}
			for i, el := range els {
				ct := el.header().Get("Content-Type")
				if tt.wantHeaders != (ct != "") {
					t.Errorf("answer %d: Content-Type %q, headers wanted: %v", i, ct, tt.wantHeaders)
				}
			}
		})
	}
}

// TestBatchCountsEveryOperation: the batch is counted once under BatchEndpoint and
// each operation under its own endpoint, exactly as the same calls made one by one.
func TestBatchCountsEveryOperation(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	toks := []string{longLived(t, srv, sandbox.MetaAgencyUser), longLived(t, srv, sandbox.MetaSmallUser), longLived(t, srv, sandbox.MetaBulkUser)}
	sb.ResetCalls()
	for _, tok := range toks {
		debugToken(t, srv, tok)
	}
	alone := sb.Calls()
	sb.ResetCalls()
	var ops []map[string]any
	for _, tok := range toks {
		ops = append(ops, debugOp(tok))
	}
	elements(t, postBatch(t, srv, "/v24.0/", ops, nil))
	var batched []sandbox.CallCount
	for _, c := range sb.Calls() {
		if c.Endpoint == sandbox.BatchEndpoint {
			if c.Count != 1 || c.Token != sandbox.TokenFingerprint(appToken) {
				t.Errorf("the batch itself: %+v", c)
			}
			continue
		}
		batched = append(batched, c)
	}
	if len(batched) != len(alone) || len(alone) != 3 {
		t.Fatalf("one by one %+v, batched %+v", alone, batched)
	}
	for i := range alone {
		if alone[i] != batched[i] {
			t.Errorf("one by one %+v, batched %+v", alone[i], batched[i])
		}
	}
}

// TestBatchRefusals: what Graph refuses as a whole comes back as one Graph error,
// not as an array.
func TestBatchRefusals(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaSmallUser)
	many := func(n int) []map[string]any {
		ops := make([]map[string]any, n)
		for i := range ops {
			ops[i] = debugOp(tok)
		}
		return ops
	}
	tests := []struct {
		name    string
		ops     []map[string]any
		form    url.Values
		code    int
		typ     string
		message string
	}{
		{name: "51 operations", ops: many(sandbox.MaxBatch + 1), code: 1, typ: "GraphBatchException", message: "Too many requests in batch message. Maximum batch size is 50"},
		{name: "no access token", ops: many(1), form: url.Values{}, code: 104, typ: "OAuthException"},
		{name: "another app's token", ops: many(1), form: url.Values{"access_token": {"1|wrong"}}, code: 190, typ: "OAuthException"},
		{name: "garbage token", ops: many(1), form: url.Values{"access_token": {"garbage"}}, code: 190, typ: "OAuthException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postBatch(t, srv, "/v24.0/", tt.ops, tt.form)
			e := r.json(t)["error"].(map[string]any)
			if r.status != 400 || e["code"] != float64(tt.code) || e["type"] != tt.typ || tt.message != "" && e["message"] != tt.message {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sandbox/meta/graph/v24.0/", strings.NewReader(url.Values{"access_token": {appToken}, "batch": {`{"not":"an array"}`}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, req); r.status != 400 || !strings.Contains(string(r.body), `"code":100`) {
		t.Errorf("batch not an array: %d %s", r.status, r.body)
	}
	if els := elements(t, postBatch(t, srv, "/", many(sandbox.MaxBatch), nil)); len(els) != sandbox.MaxBatch {
		t.Errorf("%d answers to %d operations", len(els), sandbox.MaxBatch)
	}
}

// TestBatchFaultOfOneUser: a fault set on one user answers only that user's
// operation, as Graph answers a failing operation inside a batch that succeeds; an
// operation that does not complete is null.
func TestBatchFaultOfOneUser(t *testing.T) {
	tests := []struct {
		name   string
		fault  sandbox.FaultRequest
		code   int // 0: null
		reason providers.Reason
		check  func(t *testing.T, el *element)
	}{
		{name: "provider_unavailable 503", fault: sandbox.FaultRequest{Fault: "provider_unavailable"}, code: 503, reason: providers.ReasonProviderUnavailable,
			check: func(t *testing.T, el *element) {
				if e := el.json(t)["error"].(map[string]any); e["is_transient"] != true || e["code"] != 2.0 {
					t.Errorf("error: %v", e)
				}
			}},
		{name: "provider_unavailable reset", fault: sandbox.FaultRequest{Fault: "provider_unavailable", Mode: sandbox.ModeReset}},
		{name: "provider_unavailable slow", fault: sandbox.FaultRequest{Fault: "provider_unavailable", Mode: sandbox.ModeSlow}},
		{name: "rate_limited", fault: sandbox.FaultRequest{Fault: "rate_limited"}, code: 400, reason: providers.ReasonRateLimited,
			check: func(t *testing.T, el *element) {
				if u := el.header().Get("X-App-Usage"); u == "" || meta.ParseUsage(el.header()).App >= 100 {
					t.Errorf("a user limit carries the app's own usage: %q", u)
				}
			}},
		{name: "app_removed", fault: sandbox.FaultRequest{Fault: "app_removed"}, code: 200,
			check: func(t *testing.T, el *element) {
				d := el.json(t)["data"].(map[string]any)
				if e, _ := d["error"].(map[string]any); d["is_valid"] != false || e["subcode"] != 458.0 {
					t.Errorf("data: %v", d)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.StartWith(t, sandbox.Options{SlowDelay: 50 * time.Millisecond})
			hit := longLived(t, srv, sandbox.MetaAgencyUser)
			spared := longLived(t, srv, sandbox.MetaSmallUser)
			f := tt.fault
			f.Provider, f.User = "meta", sandbox.MetaAgencyUser
			sandboxtest.Inject(t, srv, f)
			els := elements(t, postBatch(t, srv, "/v24.0/", []map[string]any{debugOp(spared), debugOp(hit), debugOp(spared)}, nil))
			if len(els) != 3 {
				t.Fatalf("%d answers", len(els))
			}
			for _, i := range []int{0, 2} {
				if els[i] == nil || els[i].Code != 200 || els[i].json(t)["data"].(map[string]any)["is_valid"] != true {
					t.Errorf("the other user's answer %d: %+v", i, els[i])
				}
			}
			el := els[1]
			if tt.code == 0 {
				if el != nil {
					t.Errorf("an operation that did not complete answers null, not %+v", el)
				}
				return
			}
			if el == nil || el.Code != tt.code {
				t.Fatalf("answer: %+v, want code %d", el, tt.code)
			}
			if tt.reason != "" {
				if e := meta.Classify(meta.OpDebugToken, el.Code, el.header(), []byte(*el.Body)); e.Reason != tt.reason {
					t.Errorf("reason %s, want %s", e.Reason, tt.reason)
				}
			}
			if tt.check != nil {
				tt.check(t, el)
			}
		})
	}
}

// TestBatchOutage: provider_unavailable set for every user stands for Graph being
// down, which fails the batch request itself in the fault's mode.
func TestBatchOutage(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		status int // 0: the connection is reset
	}{
		{name: "503", mode: sandbox.ModeUnavailable, status: 503},
		{name: "slow", mode: sandbox.ModeSlow, status: 503},
		{name: "reset", mode: sandbox.ModeReset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.StartWith(t, sandbox.Options{SlowDelay: 50 * time.Millisecond})
			tok := longLived(t, srv, sandbox.MetaSmallUser)
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: "*", Fault: "provider_unavailable", Mode: tt.mode})
			b, _ := json.Marshal([]map[string]any{debugOp(tok)})
			resp, err := http.PostForm(srv.URL+"/sandbox/meta/graph/v24.0/", url.Values{"access_token": {appToken}, "batch": {string(b)}})
			if tt.status == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("status %d, want a reset connection", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

// TestBatchAsSDKsSendIt: the request shapes of public Graph SDKs work unchanged.
// huandu/facebook posts the form to {graph}/{version}/ with the session token and
// its appsecret_proof as the batch's own and decodes each element requiring code,
// headers and body; facepy posts to {graph}/ and reads body as a JSON string; an
// SDK with files posts multipart/form-data; relative URLs may start with a slash.
func TestBatchAsSDKsSendIt(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaAgencyUser)
	proof := sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)
	ops := `[{"method":"GET","relative_url":"me"},{"method":"GET","relative_url":"/me/accounts?limit=2"}]`
	multipartBody := func() (string, *bytes.Buffer) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"access_token": tok, "appsecret_proof": proof, "batch": ops} {
			_ = w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("file1", "a.txt")
		_, _ = fw.Write([]byte("attached"))
		w.Close()
		return w.FormDataContentType(), &buf
	}
	tests := []struct {
		name string
		path string
		body func() (string, *bytes.Buffer)
	}{
		{name: "huandu/facebook", path: "/v24.0/", body: func() (string, *bytes.Buffer) {
			return "application/x-www-form-urlencoded", bytes.NewBufferString(url.Values{"access_token": {tok}, "appsecret_proof": {proof}, "batch": {ops}}.Encode())
		}},
		{name: "facepy", path: "/", body: func() (string, *bytes.Buffer) {
			return "application/x-www-form-urlencoded", bytes.NewBufferString(url.Values{"access_token": {tok}, "appsecret_proof": {proof}, "batch": {ops}}.Encode())
		}},
		{name: "multipart", path: "/v24.0/", body: multipartBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := tt.body()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sandbox/meta/graph"+tt.path, body)
			req.Header.Set("Content-Type", ct)
			r := do(t, req)
			var raw []map[string]json.RawMessage
			if r.status != 200 || json.Unmarshal(r.body, &raw) != nil || len(raw) != 2 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			for i, el := range raw {
				for _, field := range []string{"code", "headers", "body"} {
					if _, ok := el[field]; !ok {
						t.Errorf("answer %d has no %s: %s", i, field, r.body)
					}
				}
				var code int
				var bodyStr string
				var obj map[string]any
				if json.Unmarshal(el["code"], &code) != nil || code != 200 || json.Unmarshal(el["body"], &bodyStr) != nil || json.Unmarshal([]byte(bodyStr), &obj) != nil {
					t.Errorf("answer %d: %s", i, r.body)
				}
			}
		})
	}
}

// TestBatchOperationsUseTheBatchToken: an operation without its own token uses the
// batch's token with the batch's appsecret_proof; without a proof it fails as the
// standalone call would, and the others do not.
func TestBatchOperationsUseTheBatchToken(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaBulkUser)
	proof := sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)
	ops := []map[string]any{{"method": "GET", "relative_url": "me/adaccounts?limit=" + strconv.Itoa(100)}, debugOp(tok)}
	tests := []struct {
		name   string
		form   url.Values
		first  int
		second int
	}{
		{name: "with its proof", form: url.Values{"access_token": {tok}, "appsecret_proof": {proof}}, first: 200, second: 400},
		{name: "without a proof", form: url.Values{"access_token": {tok}}, first: 400, second: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			els := elements(t, postBatch(t, srv, "/v24.0/", ops, tt.form))
			if els[0].Code != tt.first || els[1].Code != tt.second {
				t.Errorf("codes %d %d, want %d %d: %s / %s", els[0].Code, els[1].Code, tt.first, tt.second, *els[0].Body, *els[1].Body)
			}
			if tt.first == 200 {
				if data, _ := els[0].json(t)["data"].([]any); len(data) != 100 {
					t.Errorf("%d ad accounts", len(data))
				}
			}
		})
	}
}
