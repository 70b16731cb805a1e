package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// response is computed under the lock and written after it is released, so that a
// slow or reset fault never holds the lock.
type response struct {
	status int
	body   any
	header http.Header
	mode   string // "", ModeSlow, ModeReset
}

func jsonResp(status int, body any) *response {
	return &response{status: status, body: body, header: http.Header{}}
}

func (s *Sandbox) write(w http.ResponseWriter, r *http.Request, resp *response) {
	switch resp.mode {
	case ModeReset:
		resetConnection(w)
		return
	case ModeSlow:
		t := time.NewTimer(s.opts.SlowDelay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	if resp.body == nil {
		w.WriteHeader(resp.status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.status)
	_ = json.NewEncoder(w).Encode(resp.body)
}

// resetConnection closes the client's TCP connection with an RST, the way a
// middlebox dropping the connection looks to the client.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// fields parses Graph's fields parameter: "id,name,business{id,name},insights.limit(2)".
func parseFields(s string) map[string]string {
	out := map[string]string{}
	depth, start := 0, 0
	flush := func(piece string) {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			return
		}
		name, sub := piece, ""
		if i := strings.IndexAny(piece, "{.("); i >= 0 {
			name = piece[:i]
			if open := strings.IndexByte(piece, '{'); open >= 0 {
				if end := strings.LastIndexByte(piece, '}'); end > open {
					sub = piece[open+1 : end]
				}
			}
		}
		out[strings.TrimSpace(name)] = sub
	}
	for i, c := range s {
		switch c {
		case '{', '(':
			depth++
		case '}', ')':
			depth--
		case ',':
			if depth == 0 {
				flush(s[start:i])
				start = i + 1
			}
		}
	}
	flush(s[start:])
	return out
}

// filter keeps the requested fields of obj (and "id"); defaults apply when the
// request names none.
func filter(obj map[string]any, fieldsParam string, defaults ...string) map[string]any {
	var fields map[string]string
	if strings.TrimSpace(fieldsParam) == "" {
		fields = map[string]string{}
		for _, d := range defaults {
			fields[d] = ""
		}
	} else {
		fields = parseFields(fieldsParam)
	}
	out := map[string]any{}
	if id, ok := obj["id"]; ok {
		out["id"] = id
	}
	for name, sub := range fields {
		v, ok := obj[name]
		if !ok {
			continue
		}
		if m, isMap := v.(map[string]any); isMap && sub != "" {
			if list, isEdge := m["data"].([]map[string]any); isEdge {
				filtered := make([]map[string]any, len(list))
				for i, it := range list {
					filtered[i] = filter(it, sub)
				}
				v = map[string]any{"data": filtered}
			} else {
				v = filter(m, sub)
			}
		}
		out[name] = v
	}
	return out
}

// pageOf cuts one page out of items with Graph's cursor paging: cursors.after
// points just past the page and cursors.before at its start, so after gives the
// next page and before the previous one. The next and previous URLs keep the
// query parameters, access_token included, but not appsecret_proof, which Graph's
// never carry: a client that follows them without adding its own proof must fail
// here as it does on Facebook.
func pageOf(r *http.Request, items []map[string]any, fieldsParam string, defaults ...string) map[string]any {
	limit := 25
	if n, err := strconv.Atoi(r.Form.Get("limit")); err == nil && n > 0 {
		limit = min(n, 100)
	}
	clamp := func(n int) int { return max(0, min(n, len(items))) }
	offset, end := 0, min(limit, len(items))
	if after := r.Form.Get("after"); after != "" {
		offset = clamp(decodeCursor(after))
		end = min(offset+limit, len(items))
	} else if before := r.Form.Get("before"); before != "" {
		end = clamp(decodeCursor(before))
		offset = max(0, end-limit)
	}
	data := make([]map[string]any, 0, end-offset)
	for _, it := range items[offset:end] {
		data = append(data, filter(it, fieldsParam, defaults...))
	}
	out := map[string]any{"data": data}
	if len(data) == 0 {
		return out
	}
	paging := map[string]any{"cursors": map[string]string{"before": encodeCursor(offset), "after": encodeCursor(end)}}
	link := func(set, del, cursor string) string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		q.Del(del)
		q.Del("appsecret_proof")
		q.Set(set, cursor)
		q.Set("limit", strconv.Itoa(limit))
		return baseURL(r) + r.URL.Path + "?" + q.Encode()
	}
	if end < len(items) {
		paging["next"] = link("after", "before", encodeCursor(end))
	}
	if offset > 0 {
		paging["previous"] = link("before", "after", encodeCursor(offset))
	}
	out["paging"] = paging
	return out
}

func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n)))
}

func decodeCursor(c string) int {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	if err != nil {
		return 0
	}
	return n
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
