package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
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
	second := readGraphPage(t, withProof(t, first.next, tok))
	last := readGraphPage(t, withProof(t, second.next, tok))
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
			if got := readGraphPage(t, withProof(t, last.pr, tok)); len(got.ids) == 0 || got.ids[0] != second.ids[0] {
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

// withProof adds the token's appsecret_proof to a paging link, as a client must
// before following it: Graph's links carry access_token but no proof.
func withProof(t *testing.T, link, tok string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("appsecret_proof", sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok))
	u.RawQuery = q.Encode()
	return u.String()
}

// TestGraphPagingLinksCarryNoAppSecretProof: Graph's paging.next and previous keep
// access_token but drop appsecret_proof, so a client that follows them as they are
// fails with code 100 when the app requires the proof, as on Facebook, and one that
// adds its own proof pages on.
func TestGraphPagingLinksCarryNoAppSecretProof(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tests := []struct {
		name, user, path, limit string
	}{
		{name: "pages", user: sandbox.MetaAgencyUser, path: "/me/accounts", limit: "1"},
		{name: "ad accounts", user: sandbox.MetaAgencyUser, path: "/me/adaccounts", limit: "2"},
		{name: "many ad accounts", user: sandbox.MetaBulkUser, path: "/me/adaccounts", limit: "100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := longLived(t, srv, tt.user)
			q := url.Values{"access_token": {tok}, "appsecret_proof": {sandbox.AppSecretProof(sandbox.DefaultMetaAppSecret, tok)},
				"limit": {tt.limit}, "fields": {"id,name"}}
			first := readGraphPage(t, srv.URL+"/sandbox/meta/graph/v24.0"+tt.path+"?"+q.Encode())
			if first.next == "" {
				t.Fatal("no next link on the first page")
			}
			second := readGraphPage(t, withProof(t, first.next, tok))
			if second.pr == "" {
				t.Fatal("no previous link on the second page")
			}
			for _, link := range []string{first.next, second.pr} {
				lq := mustParse(t, link).Query()
				if lq.Get("access_token") != tok || lq.Has("appsecret_proof") {
					t.Errorf("link %s: want access_token and no appsecret_proof", link)
				}
				r := do(t, mustReq(http.MethodGet, link, ""))
				e, _ := r.json(t)["error"].(map[string]any)
				if r.status != http.StatusBadRequest || e["code"] != float64(100) || !strings.Contains(e["message"].(string), "appsecret_proof") {
					t.Errorf("following the link as it is: %d %.200s", r.status, r.body)
				}
			}
		})
	}
}
