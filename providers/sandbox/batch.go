package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxBatch is the most operations Graph accepts in one batch request.
const MaxBatch = 50

// BatchEndpoint is the call-count name of a Graph batch request itself. Each of its
// operations is also counted under its own endpoint ("GET /debug_token", "GET /me"),
// as Meta counts every operation against the app's limits.
const BatchEndpoint = "POST / (batch)"

// batchOp is one operation of a batch request. name, depends_on and the other
// dependency fields are accepted and ignored: operations run in order.
type batchOp struct {
	Method      string          `json:"method"`
	RelativeURL string          `json:"relative_url"`
	Body        json.RawMessage `json:"body"`
}

type batchHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// batchAnswer is one element of a batch's answer; a nil *batchAnswer encodes as
// null, Graph's answer for an operation it did not complete.
type batchAnswer struct {
	Code    int           `json:"code"`
	Headers []batchHeader `json:"headers,omitempty"`
	Body    *string       `json:"body,omitempty"`
}

// serveBatch serves a Graph batch request: POST to the Graph root with access_token
// (the token of every operation that names none) and batch, a JSON array of at most
// MaxBatch operations {"method","relative_url","body"}. The answer is a JSON array in
// the order of the operations, each {"code","headers","body"} with the body as a
// string (headers left out with include_headers=false), or null for an operation
// that did not complete.
func (s *Sandbox) serveBatch(w http.ResponseWriter, r *http.Request) {
	fallback := r.Form.Get("access_token")
	if fallback == "" {
		fallback = bearerToken(r)
	}
	resp := s.batchResponse(r, fallback)
	setGraphHeaders(resp)
	s.write(w, r, resp)
}

func (s *Sandbox) batchResponse(r *http.Request, fallback string) *response {
	s.mu.Lock()
	user := ""
	if t := s.tokens[fallback]; t != nil {
		user = t.user
	}
	s.countCall("meta", BatchEndpoint, fallback, user)
	// provider_unavailable set for every user ("*") stands for Graph being down: the
	// batch fails as a whole, as every request would. A fault of one user fails only
	// that user's operations, below.
	outage := s.findFault("meta", "*", "", "provider_unavailable", 0)
	refused := s.batchTokenRefusal(fallback)
	s.mu.Unlock()
	resp := s.batchAnswers(r, fallback, outage, refused)
	if resp.mode == "" {
		// Like any Graph answer the batch carries the app's usage, counted after
		// its operations.
		s.mu.Lock()
		resp.header.Set("X-App-Usage", s.appUsageHeader(s.clock.Now()))
		s.mu.Unlock()
	}
	return resp
}

// batchTokenRefusal refuses the whole batch when its own access_token is missing or
// not one Graph issued. s.mu held.
func (s *Sandbox) batchTokenRefusal(fallback string) *response {
	if fallback == "" {
		return graphError(400, 104, 0, "OAuthException", "An access token is required to request this resource.")
	}
	if fallback == s.opts.MetaAppID+"|"+s.opts.MetaAppSecret {
		return nil
	}
	if t := s.tokens[fallback]; t != nil && t.provider == "meta" {
		return nil
	}
	if strings.Contains(fallback, "|") {
		return graphError(400, 190, 0, "OAuthException", "Invalid OAuth access token signature.")
	}
	return graphError(400, 190, 0, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
}

func (s *Sandbox) batchAnswers(r *http.Request, fallback string, outage *Fault, refused *response) *response {
	if outage != nil {
		return s.metaFaultResponse(outage, s.clock.Now())
	}
	if refused != nil {
		return refused
	}
	var ops []json.RawMessage
	if err := json.Unmarshal([]byte(r.Form.Get("batch")), &ops); err != nil || ops == nil {
		return graphError(400, 100, 0, "OAuthException", "(#100) The parameter batch must be a JSON array of requests")
	}
	if len(ops) > MaxBatch {
		// Graph's words for it; the code is the sandbox's (see README).
		return graphError(400, 1, 0, "GraphBatchException", "Too many requests in batch message. Maximum batch size is "+strconv.Itoa(MaxBatch))
	}
	withHeaders := true
	if v, err := strconv.ParseBool(r.Form.Get("include_headers")); err == nil {
		withHeaders = v
	}
	proof := r.Form.Get("appsecret_proof")
	answers := make([]*batchAnswer, len(ops))
	stall := false
	for i, raw := range ops {
		resp := s.batchOperation(r, raw, fallback, proof)
		switch resp.mode {
		case ModeSlow:
			// One operation's backend stalls: the batch waits for it, then gives
			// up on it (null), as Graph does with an operation that timed out.
			stall = true
		case ModeReset:
			// The operation's backend dropped it; the batch's own connection is
			// fine, and the operation did not complete.
		default:
			answers[i] = batchAnswerOf(resp, withHeaders)
		}
	}
	if stall {
		t := time.NewTimer(s.opts.SlowDelay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
	}
	return jsonResp(200, answers)
}

// batchOperation runs one operation through the handler of a standalone request: an
// operation without its own access_token uses the batch's (and its
// appsecret_proof), as on Graph.
func (s *Sandbox) batchOperation(outer *http.Request, raw json.RawMessage, fallback, proof string) *response {
	var op batchOp
	if err := json.Unmarshal(raw, &op); err != nil || strings.TrimSpace(op.RelativeURL) == "" {
		return withGraphHeaders(graphError(400, 100, 0, "OAuthException", "(#100) Each request of a batch needs a relative_url"))
	}
	u, err := url.Parse("/" + strings.TrimLeft(strings.TrimSpace(op.RelativeURL), "/"))
	if err != nil {
		return withGraphHeaders(graphError(400, 100, 0, "OAuthException", "(#100) The relative_url of a request of the batch is not a URL"))
	}
	body, err := batchBody(op.Body)
	if err != nil {
		return withGraphHeaders(graphError(400, 100, 0, "OAuthException", "(#100) The body of a request of the batch must be a query string"))
	}
	form := u.Query()
	for k, vs := range body {
		form[k] = append(form[k], vs...)
	}
	if !form.Has("access_token") {
		form.Set("access_token", fallback)
		if proof != "" && !form.Has("appsecret_proof") {
			form.Set("appsecret_proof", proof)
		}
	}
	method := strings.ToUpper(strings.TrimSpace(op.Method))
	if method == "" {
		method = http.MethodGet
	}
	sub := &http.Request{Method: method, Proto: outer.Proto, ProtoMajor: outer.ProtoMajor, ProtoMinor: outer.ProtoMinor,
		URL:    &url.URL{Path: s.prefix + "/meta/graph" + u.Path, RawQuery: u.RawQuery},
		Header: http.Header{}, Host: outer.Host, TLS: outer.TLS, RemoteAddr: outer.RemoteAddr,
		Form: form, PostForm: body}
	if p := outer.Header.Get("X-Forwarded-Proto"); p != "" {
		sub.Header.Set("X-Forwarded-Proto", p) // paging links keep the outer scheme
	}
	return s.graphResponse(sub.WithContext(outer.Context()), stripVersion(u.Path))
}

func withGraphHeaders(resp *response) *response {
	setGraphHeaders(resp)
	return resp
}

// batchBody reads an operation's body: a query string, as Graph documents it, or a
// JSON object of parameters, which some SDKs send.
func batchBody(raw json.RawMessage) (url.Values, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return url.Values{}, nil
	}
	var q string
	if json.Unmarshal(raw, &q) == nil {
		return url.ParseQuery(q)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	out := url.Values{}
	for k, v := range obj {
		var str string
		if json.Unmarshal(v, &str) == nil {
			out.Set(k, str)
		} else {
			out.Set(k, string(v))
		}
	}
	return out, nil
}

// batchAnswerOf turns an operation's response into its element of the batch: the
// body as a JSON string, and its headers unless include_headers=false.
func batchAnswerOf(resp *response, withHeaders bool) *batchAnswer {
	a := &batchAnswer{Code: resp.status}
	h := resp.header.Clone()
	if resp.body != nil {
		b, err := json.Marshal(resp.body)
		if err == nil {
			body := string(b)
			a.Body = &body
		}
		h.Set("Content-Type", "application/json; charset=UTF-8")
		h.Set("Cache-Control", "no-store")
	}
	if !withHeaders {
		return a
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			a.Headers = append(a.Headers, batchHeader{Name: k, Value: v})
		}
	}
	return a
}
