package meta

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relink/relink/providers"
)

// MaxBatch is the most operations Graph accepts in one batch request; a larger batch
// is refused as a whole ("Too many requests in batch message").
const MaxBatch = 50

// maxBatchBody bounds what one batch answer may make the client read: 50 debug_token
// answers with their headers take a few hundred kilobytes.
const maxBatchBody = 32 << 20

// batchOp is one operation of a Graph batch request.
type batchOp struct {
	Method      string `json:"method"`
	RelativeURL string `json:"relative_url"`
}

// batchElement is one answer of a Graph batch, in the order of the operations; Graph
// answers null for an operation it did not complete.
type batchElement struct {
	Code    int `json:"code"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	Body *string `json:"body"`
}

// InspectTokens inspects many user tokens as InspectToken inspects one, with Graph
// batch requests of at most MaxBatch debug_token operations each, made with the app
// token: a sweep of thousands of tokens costs one HTTP request per 50 of them, though
// Meta still counts every operation against the app's limits.
//
// infos and errs follow the order of toks: infos[i] is what InspectToken would return
// for toks[i] (an invalid token is not an error, its Problem says why), or errs[i]
// says why toks[i] could not be inspected, classified as a single call's error would
// be (an operation that failed with a 5xx or did not complete is
// provider_unavailable, one rate limited is rate_limited).
//
// err is the failure of a whole batch request: the network, a 5xx or rate limit of
// the request itself, or Meta's pause that the shared LimitStore says is still on,
// in which case nothing is sent. The tokens of that batch and of every later one are
// not inspected and carry err in errs; earlier batches keep their results.
func (c *Client) InspectTokens(ctx context.Context, toks []providers.Token) ([]providers.TokenInfo, []error, error) {
	infos := make([]providers.TokenInfo, len(toks))
	errs := make([]error, len(toks))
	for start := 0; start < len(toks); start += MaxBatch {
		end := min(start+MaxBatch, len(toks))
		if err := c.inspectBatch(ctx, toks[start:end], infos[start:end], errs[start:end]); err != nil {
			// The request as a whole failed: Graph is down, limiting the app, or out
			// of reach, and the next batch would fare no better.
			for i := start; i < len(toks); i++ {
				errs[i] = err
			}
			return infos, errs, err
		}
	}
	return infos, errs, nil
}

// inspectBatch sends one batch of at most MaxBatch debug_token operations and fills
// infos and errs from its answer, one element at a time, so that no more than one
// operation's body is held at once. It returns an error only when the request failed
// as a whole.
func (c *Client) inspectBatch(ctx context.Context, toks []providers.Token, infos []providers.TokenInfo, errs []error) error {
	if err := c.throttle(ctx, OpDebugToken, "", ""); err != nil {
		return err
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	ops := make([]batchOp, len(toks))
	for i, t := range toks {
		// The input tokens travel in the POST body, never in a URL a proxy logs; the
		// operations use the request's access_token (the app token), as Graph does
		// for an operation that names none.
		ops[i] = batchOp{Method: http.MethodGet, RelativeURL: "debug_token?" + url.Values{"input_token": {t.AccessToken}}.Encode()}
	}
	batch, err := json.Marshal(ops)
	if err != nil {
		return &providers.Error{Provider: "meta", Op: OpDebugToken, Reason: providers.ReasonUnknown, Message: "could not encode the batch"}
	}
	form := url.Values{"access_token": {c.AppAccessToken()}, "batch": {string(batch)}, "include_headers": {"true"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphURL(""), strings.NewReader(form.Encode()))
	if err != nil {
		return &providers.Error{Provider: "meta", Op: OpDebugToken, Reason: providers.ReasonUnknown, Message: "bad request"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return providers.ClassifyTransportCtx(ctx, "meta", OpDebugToken, err)
	}
	defer resp.Body.Close()
	body := bufio.NewReader(io.LimitReader(resp.Body, maxBatchBody))
	first, err := firstByte(body)
	if err != nil && !errors.Is(err, io.EOF) {
		return providers.ClassifyTransportCtx(ctx, "meta", OpDebugToken, err)
	}
	if resp.StatusCode != http.StatusOK || first != '[' {
		// The batch itself was refused (an error object, whatever the status) or
		// something other than Graph answered.
		raw, rerr := io.ReadAll(io.LimitReader(body, 1<<20))
		if rerr != nil {
			return providers.ClassifyTransportCtx(ctx, "meta", OpDebugToken, rerr)
		}
		e := Classify(OpDebugToken, resp.StatusCode, resp.Header, raw)
		c.noteResponse(resp.Header, "", "", e)
		return e
	}
	c.noteResponse(resp.Header, "", "", nil)
	dec := json.NewDecoder(body)
	if _, err := dec.Token(); err != nil { // the '[' seen above
		return providers.UnexpectedResponse("meta", OpDebugToken, resp.StatusCode)
	}
	n := 0
	var cut error
	for dec.More() {
		var el *batchElement
		if err := dec.Decode(&el); err != nil {
			cut = err
			break
		}
		if n < len(toks) {
			infos[n], errs[n] = c.batchAnswer(el)
		}
		n++
	}
	if cut == nil && n >= len(toks) {
		return nil
	}
	// The answer ended before every operation had one: a cut connection, or not
	// Graph's answer. What was read stands; the rest could not be inspected.
	e := providers.UnexpectedResponse("meta", OpDebugToken, resp.StatusCode)
	e.Message = "the batch answer ended before every operation had its answer"
	if cut != nil && !isJSONError(cut) {
		e = providers.ClassifyTransportCtx(ctx, "meta", OpDebugToken, cut)
	}
	if n == 0 {
		return e
	}
	for i := n; i < len(toks); i++ {
		errs[i] = e
	}
	return nil
}

// batchAnswer reads one operation's answer as InspectToken reads a whole response,
// and notes what its headers say about Meta's limits as call does.
func (c *Client) batchAnswer(el *batchElement) (providers.TokenInfo, error) {
	if el == nil {
		return providers.TokenInfo{}, &providers.Error{Provider: "meta", Op: OpDebugToken,
			Reason: providers.ReasonProviderUnavailable, Retryable: true, RetryAfter: 30 * time.Second,
			Message: "Graph did not complete this operation of the batch"}
	}
	h := http.Header{}
	for _, kv := range el.Headers {
		h.Add(kv.Name, kv.Value)
	}
	var body []byte
	if el.Body != nil {
		body = []byte(*el.Body)
	}
	if el.Code != http.StatusOK {
		e := Classify(OpDebugToken, el.Code, h, body)
		c.noteResponse(h, "", "", e)
		return providers.TokenInfo{}, e
	}
	c.noteResponse(h, "", "", nil)
	var d debugData
	if err := json.Unmarshal(body, &d); err != nil {
		e := providers.UnexpectedResponse("meta", OpDebugToken, el.Code)
		e.RequestID = h.Get("X-FB-Request-ID")
		return providers.TokenInfo{}, e
	}
	return c.tokenInfo(d)
}

// firstByte returns the first byte of r that is not JSON white space, leaving it
// unread.
func firstByte(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, r.UnreadByte()
	}
}

// isJSONError reports whether err says the answer was not Graph's JSON, rather than
// that reading it failed (a cut connection ends in io.ErrUnexpectedEOF).
func isJSONError(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}
