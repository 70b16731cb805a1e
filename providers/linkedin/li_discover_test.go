package linkedin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
)

// fakeLinkedIn answers the four discovery endpoints from fixed bodies; batch
// answers BATCH_GET by the raw ids of the request. It records every request.
type fakeLinkedIn struct {
	acls, users string
	search      func(pageToken string) string
	batch       func(rawIDs string) string
	mu          sync.Mutex
	reqs        []*http.Request
}

func (f *fakeLinkedIn) client(t *testing.T, cfg linkedin.Config) *linkedin.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/rest/organizationAcls":
			_, _ = w.Write([]byte(f.acls))
		case "/rest/adAccountUsers":
			_, _ = w.Write([]byte(f.users))
		case "/rest/adAccounts":
			_, _ = w.Write([]byte(f.search(r.URL.Query().Get("pageToken"))))
		case "/rest/organizations":
			_, _ = w.Write([]byte(f.batch(strings.TrimPrefix(r.URL.RawQuery, "ids="))))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"status":404,"serviceErrorCode":0,"code":"NOT_FOUND","message":"No virtual resource found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	cfg.ClientID, cfg.ClientSecret, cfg.APIURL, cfg.WWWURL = "c", "s", srv.URL, srv.URL
	return linkedin.New(cfg)
}

func (f *fakeLinkedIn) requests(path string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.reqs {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func aclsOf(ids ...string) string {
	var els []string
	for _, id := range ids {
		els = append(els, `{"organization":"urn:li:organization:`+id+`","role":"ADMINISTRATOR","state":"APPROVED"}`)
	}
	return `{"elements":[` + strings.Join(els, ",") + `],"paging":{"start":0,"count":100}}`
}

// batchOf answers every id of List(…) with an organization, except those in errs.
func batchOf(errs map[string]string) func(string) string {
	return func(raw string) string {
		ids := strings.Split(strings.TrimSuffix(strings.TrimPrefix(raw, "List("), ")"), ",")
		var results, statuses, errors []string
		for _, id := range ids {
			if e, ok := errs[id]; ok {
				var status int
				_, _ = fmt.Sscanf(e, `{"status":%d`, &status)
				statuses = append(statuses, fmt.Sprintf(`"%s":%d`, id, status))
				errors = append(errors, `"`+id+`":`+e)
				continue
			}
			results = append(results, `"`+id+`":{"id":`+id+`,"localizedName":"Org `+id+`","vanityName":"org-`+id+`"}`)
			statuses = append(statuses, `"`+id+`":200`)
		}
		return `{"results":{` + strings.Join(results, ",") + `},"statuses":{` + strings.Join(statuses, ",") + `},"errors":{` + strings.Join(errors, ",") + `}}`
	}
}

const noAccounts = `{"elements":[],"paging":{"start":0,"count":1000}}`

// TestBatchGetWireFormat: organizations are read with ids=List(…) whose
// parentheses and commas are not escaped, in chunks of BatchSize, with the
// headers LinkedIn's clients send.
func TestBatchGetWireFormat(t *testing.T) {
	var ids []string
	for i := 1; i <= 5; i++ {
		ids = append(ids, fmt.Sprint(4000+i))
	}
	f := &fakeLinkedIn{acls: aclsOf(ids...), users: noAccounts, batch: batchOf(nil)}
	assets, err := f.client(t, linkedin.Config{BatchSize: 2}).DiscoverAssets(context.Background(), providers.Token{AccessToken: "t"})
	if err != nil || len(assets) != 5 || assets[0].Name != "Org 4001" || assets[0].Username != "org-4001" || assets[0].Tasks[0] != "ADMINISTRATOR" {
		t.Fatalf("assets = %+v, %v", assets, err)
	}
	reqs := f.requests("/rest/organizations")
	want := []string{"ids=List(4001,4002)", "ids=List(4003,4004)", "ids=List(4005)"}
	if len(reqs) != len(want) {
		t.Fatalf("%d batch requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if r.URL.RawQuery != want[i] || r.Header.Get("X-RestLi-Method") != "BATCH_GET" ||
			r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" || r.Header.Get("LinkedIn-Version") == "" {
			t.Errorf("request %d: %s %v", i, r.URL.RawQuery, r.Header)
		}
	}
	if n := len(f.requests("/rest/adAccounts")); n != 0 {
		t.Errorf("searched ad accounts for a member without any: %d calls", n)
	}
}

// TestBatchGetEntryErrors: an organization LinkedIn answers 403 ACCESS_DENIED for
// is left out (the member lost it); any other failed entry fails discovery with
// its own reason, and an id answered neither way is not LinkedIn's answer.
func TestBatchGetEntryErrors(t *testing.T) {
	tests := []struct {
		name   string
		errs   map[string]string
		batch  func(string) string
		reason providers.Reason
		n      int
	}{
		{name: "lost admin role", errs: map[string]string{"2": `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Caller is not an authorized user of the resource"}`}, n: 2},
		{name: "entry unavailable", errs: map[string]string{"2": `{"status":503,"serviceErrorCode":0,"code":"SERVICE_UNAVAILABLE","message":"Service Unavailable"}`}, reason: providers.ReasonProviderUnavailable},
		{name: "entry throttled", errs: map[string]string{"2": `{"status":429,"serviceErrorCode":0,"code":"TOO_MANY_REQUESTS","message":"throttled"}`}, reason: providers.ReasonRateLimited},
		{name: "member restricted", errs: map[string]string{"2": `{"status":403,"serviceErrorCode":100,"code":"ACCOUNT_RESTRICTED","message":"Member is restricted"}`}, reason: providers.ReasonPolicyBlocked},
		{name: "missing permission", errs: map[string]string{"2": `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: organizations.BATCH_GET.20250101"}`}, reason: providers.ReasonMissingPermission},
		{name: "entry not found", errs: map[string]string{"2": `{"status":404,"serviceErrorCode":0,"code":"NOT_FOUND","message":"Not found"}`}, reason: providers.ReasonUnknown},
		{name: "lost role, statuses left out", batch: func(string) string {
			return `{"results":{"1":{"id":1,"localizedName":"One"},"3":{"id":3,"localizedName":"Three"}},` +
				`"errors":{"2":{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Caller is not an authorized user of the resource"}}}`
		}, n: 2},
		{name: "id left unanswered", batch: func(string) string {
			return `{"results":{"1":{"id":1,"localizedName":"One"}},"statuses":{"1":200},"errors":{}}`
		}, reason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := tt.batch
			if batch == nil {
				batch = batchOf(tt.errs)
			}
			f := &fakeLinkedIn{acls: aclsOf("1", "2", "3"), users: noAccounts, batch: batch}
			assets, err := f.client(t, linkedin.Config{}).DiscoverAssets(context.Background(), providers.Token{AccessToken: "t"})
			if tt.reason != "" {
				if pe, _ := providers.AsError(err); pe == nil || pe.Reason != tt.reason {
					t.Fatalf("got %v, want %s", err, tt.reason)
				}
				return
			}
			if err != nil || len(assets) != tt.n {
				t.Fatalf("assets = %+v, %v", assets, err)
			}
			for _, a := range assets {
				if a.ExternalID == "2" {
					t.Error("the lost organization is still listed")
				}
			}
		})
	}
}

// TestAdAccountSearchCursor: the search is followed by metadata.nextPageToken to
// a page without one, each account takes its role from adAccountUsers, and an
// account the search leaves out is left out.
func TestAdAccountSearchCursor(t *testing.T) {
	pages := map[string]string{
		"":   `{"elements":[{"id":11,"name":"A","currency":"USD","status":"ACTIVE","reference":"urn:li:organization:7"}],"metadata":{"nextPageToken":"p2"}}`,
		"p2": `{"elements":[{"id":12,"name":"B","currency":"EUR","status":"CANCELED","reference":"urn:li:organization:8"}],"metadata":{}}`,
	}
	f := &fakeLinkedIn{acls: aclsOf(), batch: batchOf(nil),
		users:  `{"elements":[{"account":"urn:li:sponsoredAccount:11","role":"VIEWER"},{"account":"urn:li:sponsoredAccount:12","role":"ACCOUNT_MANAGER"},{"account":"urn:li:sponsoredAccount:13","role":"VIEWER"}],"paging":{"start":0,"count":1000}}`,
		search: func(tok string) string { return pages[tok] }}
	assets, err := f.client(t, linkedin.Config{}).DiscoverAssets(context.Background(), providers.Token{AccessToken: "t"})
	if err != nil || len(assets) != 2 {
		t.Fatalf("assets = %+v, %v", assets, err)
	}
	a, b := assets[0], assets[1]
	if a.ExternalID != "11" || a.Tasks[0] != "VIEWER" || a.Currency != "USD" || a.ParentID != "7" || !a.AccountStatus.Active() ||
		b.ExternalID != "12" || b.Tasks[0] != "ACCOUNT_MANAGER" || b.AccountStatus != providers.AccountClosed {
		t.Errorf("assets = %+v", assets)
	}
	reqs := f.requests("/rest/adAccounts")
	if len(reqs) != 2 || reqs[0].URL.Query().Get("q") != "search" || reqs[0].URL.Query().Get("pageSize") != "1000" ||
		reqs[0].URL.Query().Has("pageToken") || reqs[1].URL.Query().Get("pageToken") != "p2" || reqs[0].Header.Get("X-RestLi-Method") != "FINDER" {
		t.Errorf("search requests: %v", reqs)
	}
	if n := len(f.requests("/rest/organizations")); n != 0 {
		t.Errorf("read organizations for a member without any: %d calls", n)
	}
}

// TestEndlessSearchFails: a search whose cursor never ends is an error after
// MaxPages, never a shorter list.
func TestEndlessSearchFails(t *testing.T) {
	f := &fakeLinkedIn{acls: aclsOf(), batch: batchOf(nil),
		users:  `{"elements":[{"account":"urn:li:sponsoredAccount:11","role":"VIEWER"}],"paging":{"start":0,"count":1000}}`,
		search: func(string) string { return `{"elements":[{"id":11,"name":"A"}],"metadata":{"nextPageToken":"again"}}` }}
	_, err := f.client(t, linkedin.Config{MaxPages: 3}).DiscoverAssets(context.Background(), providers.Token{AccessToken: "t"})
	if pe, _ := providers.AsError(err); pe == nil || pe.Reason != providers.ReasonUnknown || len(f.requests("/rest/adAccounts")) != 3 {
		t.Errorf("got %v after %d pages", err, len(f.requests("/rest/adAccounts")))
	}
}
