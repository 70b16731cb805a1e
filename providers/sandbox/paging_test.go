package sandbox_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

type graphPage struct {
	ids                     []string
	after, before, next, pr string
}

func readGraphPage(t *testing.T, u string) graphPage {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	r := do(t, req)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	var p graphPage
	for _, a := range m["data"].([]any) {
		p.ids = append(p.ids, a.(map[string]any)["id"].(string))
	}
	if paging, ok := m["paging"].(map[string]any); ok {
		p.next, _ = paging["next"].(string)
		p.pr, _ = paging["previous"].(string)
		if c, ok := paging["cursors"].(map[string]any); ok {
			p.after, _ = c["after"].(string)
			p.before, _ = c["before"].(string)
		}
	}
	return p
}

// TestGraphCursors: after points past the page it came with, so following it
// never repeats an item; before and previous go back one page.
func TestGraphCursors(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok := longLived(t, srv, sandbox.MetaBulkUser)
	base := srv.URL + "/sandbox/meta/graph/v24.0/me/adaccounts"
	q := func(extra ...string) string {
		v := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)}, "limit": {"100"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return base + "?" + v.Encode()
	}
	first := readGraphPage(t, q())
	second := readGraphPage(t, first.next)
	last := readGraphPage(t, second.next)
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{name: "pages have the right sizes", check: func(t *testing.T) {
			if len(first.ids) != 100 || len(second.ids) != 100 || len(last.ids) != 50 || last.next != "" {
				t.Errorf("sizes %d %d %d, last next %q", len(first.ids), len(second.ids), len(last.ids), last.next)
			}
		}},
		{name: "after of the last page repeats nothing", check: func(t *testing.T) {
			after := readGraphPage(t, q("after", last.after))
			if len(after.ids) != 0 {
				t.Errorf("after the last page: %d items, first %v", len(after.ids), after.ids[:1])
			}
		}},
		{name: "after of a middle page is the next page", check: func(t *testing.T) {
			if got := readGraphPage(t, q("after", first.after)); len(got.ids) == 0 || got.ids[0] != second.ids[0] {
				t.Errorf("after the first page: %v", got.ids)
			}
		}},
		{name: "before goes back one page", check: func(t *testing.T) {
			got := readGraphPage(t, q("before", second.before))
			if len(got.ids) != 100 || got.ids[0] != first.ids[0] || got.ids[99] != first.ids[99] {
				t.Errorf("before the second page: %d items", len(got.ids))
			}
		}},
		{name: "previous link goes back one page", check: func(t *testing.T) {
			if last.pr == "" {
				t.Fatal("no previous link")
			}
			if got := readGraphPage(t, last.pr); len(got.ids) == 0 || got.ids[0] != second.ids[0] {
				t.Errorf("previous of the last page: %v", got.ids)
			}
		}},
		{name: "the first page has no previous", check: func(t *testing.T) {
			if first.pr != "" {
				t.Errorf("previous on the first page: %s", first.pr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}
