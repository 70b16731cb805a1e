package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// liRest calls the REST API the way LinkedIn's docs show: LinkedIn-Version, Rest.li
// 2.0 and the method; headers maps a header to "" to leave it out.
func liRest(t *testing.T, srvURL, tok, pathAndQuery, method string, headers map[string]string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srvURL+"/sandbox/linkedin/api"+pathAndQuery, nil)
	h := map[string]string{"Authorization": "Bearer " + tok, "LinkedIn-Version": "202510",
		"X-Restli-Protocol-Version": "2.0.0", "X-RestLi-Method": method}
	for k, v := range headers {
		h[k] = v
	}
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return do(t, req)
}

// liErrorShape fails unless r is LinkedIn's error body for status.
func liErrorShape(t *testing.T, r result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	m := r.json(t)
	if m["status"] != float64(status) || m["message"] == nil || m["serviceErrorCode"] == nil {
		t.Errorf("not LinkedIn's error shape: %s", r.body)
	}
}

// TestLinkedInOrganizationsBatchGet: GET /rest/organizations?ids=List(…) answers
// 200 with results, statuses and errors keyed by id; an organization the member
// does not administer, or one with a fault of its own, fails only its entry.
func TestLinkedInOrganizationsBatchGet(t *testing.T) {
	_, srv := sandboxtest.Start(t)
	tok, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Asset: "5100002", Fault: "rate_limited"})
	r := liRest(t, srv.URL, tok, "/rest/organizations?ids=List(5100001,5100002,9999999)", "BATCH_GET", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.header.Get("X-RestLi-Protocol-Version") != "2.0.0" {
		t.Fatalf("%d %v: %s", r.status, r.header, r.body)
	}
	m := r.json(t)
	results, _ := m["results"].(map[string]any)
	statuses, _ := m["statuses"].(map[string]any)
	errs, _ := m["errors"].(map[string]any)
	org, _ := results["5100001"].(map[string]any)
	if len(results) != 1 || org["id"] != float64(5100001) || org["localizedName"] != "Northwind Bakery" || org["vanityName"] != "northwind-bakery" {
		t.Errorf("results = %v", results)
	}
	if statuses["5100001"] != float64(200) || statuses["5100002"] != float64(429) || statuses["9999999"] != float64(403) {
		t.Errorf("statuses = %v", statuses)
	}
	throttled, _ := errs["5100002"].(map[string]any)
	denied, _ := errs["9999999"].(map[string]any)
	if len(errs) != 2 || throttled["status"] != float64(429) || denied["status"] != float64(403) || denied["code"] != "ACCESS_DENIED" || denied["message"] == nil {
		t.Errorf("errors = %v", errs)
	}
	if r := liRest(t, srv.URL, tok, "/rest/organizations?ids=List()", "BATCH_GET", nil); r.status != 200 || len(r.json(t)["results"].(map[string]any)) != 0 {
		t.Errorf("empty batch: %d %s", r.status, r.body)
	}
}

// TestLinkedInAdAccountSearch: GET /rest/adAccounts?q=search pages with pageSize
// and metadata.nextPageToken to the end, shows each account as the single read
// does, and filters by LinkedIn's search criteria.
func TestLinkedInAdAccountSearch(t *testing.T) {
	sb, srv := sandboxtest.Start(t)
	sandbox.AddLinkedInBulkMember(sb)
	tok, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInBulkMember)
	search := func(t *testing.T, query string) (els []map[string]any, next string) {
		t.Helper()
		r := liRest(t, srv.URL, tok, "/rest/adAccounts?q=search"+query, "FINDER", nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		m := r.json(t)
		meta, ok := m["metadata"].(map[string]any)
		if !ok {
			t.Fatalf("no metadata: %s", r.body)
		}
		next, _ = meta["nextPageToken"].(string)
		for _, e := range m["elements"].([]any) {
			els = append(els, e.(map[string]any))
		}
		return els, next
	}

	first, next := search(t, "")
	if len(first) != 100 || next == "" {
		t.Fatalf("default page: %d elements, next %q", len(first), next)
	}
	a := first[0]
	if a["id"] != float64(5400001) || a["name"] != "Bulk Ad Account 001" || a["currency"] != "EUR" || a["status"] != "ACTIVE" ||
		a["type"] != "BUSINESS" || a["reference"] != "urn:li:organization:5300001" || a["test"] != false {
		t.Errorf("element = %v", a)
	}
	rest, last := search(t, "&pageToken="+next)
	if len(rest) != 20 || last != "" || rest[0]["id"] != float64(5400101) {
		t.Errorf("last page: %d elements, next %q", len(rest), last)
	}
	total := 0
	for tokn := ""; ; {
		q := "&pageSize=50"
		if tokn != "" {
			q += "&pageToken=" + tokn
		}
		els, n := search(t, q)
		total += len(els)
		if tokn = n; n == "" {
			break
		}
	}
	if total != 120 {
		t.Errorf("pages of 50 hold %d accounts", total)
	}

	criteria := []struct {
		search string
		n      int
	}{
		{search: "(status:(values:List(CANCELED)))", n: 12},
		{search: "(status:(values:List(CANCELED,DRAFT)))", n: 24},
		{search: "(reference:(values:List(urn%3Ali%3Aorganization%3A5300002)))", n: 2},
		{search: "(id:(values:List(5400007,5400008)),status:(values:List(ACTIVE)))", n: 1},
		{search: "(name:(values:List(account%20011)))", n: 1},
		{search: "(type:(values:List(BUSINESS)),test:false)", n: 100},
		{search: "(test:true)", n: 0},
	}
	for _, c := range criteria {
		if els, _ := search(t, "&search="+c.search); len(els) != c.n {
			t.Errorf("search=%s: %d accounts, want %d", c.search, len(els), c.n)
		}
	}

	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInBulkMember, Asset: "5400001", Fault: "lost_asset_role"})
	sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInBulkMember, Asset: "5400002", Fault: sandbox.FaultAccountDisabled})
	els, _ := search(t, "&pageSize=2")
	if els[0]["id"] != float64(5400002) || els[0]["status"] != "CANCELED" || els[1]["id"] != float64(5400003) {
		t.Errorf("with a lost role and a disabled account: %v", els)
	}
}

// TestLinkedInListEndpointsRefuseWhatLinkedInRefuses: the new endpoints answer
// bad requests, missing headers and the member's faults with LinkedIn's statuses
// and error shape.
func TestLinkedInListEndpointsRefuseWhatLinkedInRefuses(t *testing.T) {
	const batch, search = "/rest/organizations?ids=List(5100001,5100002)", "/rest/adAccounts?q=search"
	tests := []struct {
		name    string
		path    string
		method  string
		headers map[string]string
		fault   string
		status  int
	}{
		{name: "batch without Rest.li 2.0", path: batch, method: "BATCH_GET", headers: map[string]string{"X-Restli-Protocol-Version": ""}, status: 400},
		{name: "search without Rest.li 2.0", path: search, method: "FINDER", headers: map[string]string{"X-Restli-Protocol-Version": ""}, status: 400},
		{name: "batch without version", path: batch, method: "BATCH_GET", headers: map[string]string{"LinkedIn-Version": ""}, status: 400},
		{name: "batch with another method", path: batch, method: "GET", status: 400},
		{name: "search with another method", path: search, method: "BATCH_GET", status: 400},
		{name: "batch without method header", path: batch, status: 200},
		{name: "List escaped", path: "/rest/organizations?ids=List%285100001%2C5100002%29", method: "BATCH_GET", status: 400},
		{name: "ids the 1.0 way", path: "/rest/organizations?ids=5100001&ids=5100002", method: "BATCH_GET", status: 400},
		{name: "no ids", path: "/rest/organizations", method: "BATCH_GET", status: 400},
		{name: "organization finder", path: "/rest/organizations?q=vanityName&vanityName=x", method: "FINDER", status: 400},
		{name: "search without q", path: "/rest/adAccounts", method: "FINDER", status: 400},
		{name: "pageSize over 1000", path: search + "&pageSize=1001", method: "FINDER", status: 400},
		{name: "pageSize zero", path: search + "&pageSize=0", method: "FINDER", status: 400},
		{name: "pageToken made up", path: search + "&pageToken=abc", method: "FINDER", status: 400},
		{name: "criteria unknown", path: search + "&search=(color:(values:List(RED)))", method: "FINDER", status: 400},
		{name: "criteria unparenthesized", path: search + "&search=status:(ACTIVE)", method: "FINDER", status: 400},
		{name: "query over 4 KB", path: "/rest/organizations?ids=List(" + strings.Repeat("5100001,", 520) + "5100001)", method: "BATCH_GET", status: 414},
		{name: "batch rate limited", path: batch, method: "BATCH_GET", fault: "rate_limited", status: 429},
		{name: "search rate limited", path: search, method: "FINDER", fault: "rate_limited", status: 429},
		{name: "batch token expired", path: batch, method: "BATCH_GET", fault: "token_expired", status: 401},
		{name: "search restricted", path: search, method: "FINDER", fault: "policy_blocked", status: 403},
		{name: "batch unavailable", path: batch, method: "BATCH_GET", fault: "provider_unavailable", status: 503},
		{name: "search without r_ads", path: search, method: "FINDER", fault: "missing_permission", status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			tok, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
			if tt.fault != "" {
				sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Fault: tt.fault})
			}
			r := liRest(t, srv.URL, tok, tt.path, tt.method, tt.headers)
			if tt.status == 200 {
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			liErrorShape(t, r, tt.status)
			if tt.status == 429 && r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
	t.Run("without a token", func(t *testing.T) {
		_, srv := sandboxtest.Start(t)
		liErrorShape(t, liRest(t, srv.URL, "", batch, "BATCH_GET", nil), 401)
	})
	t.Run("another member's cursor", func(t *testing.T) {
		sb, srv := sandboxtest.Start(t)
		sandbox.AddLinkedInBulkMember(sb)
		bulk, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInBulkMember)
		dana, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
		r := liRest(t, srv.URL, bulk, search+"&pageSize=10", "FINDER", nil)
		next := r.json(t)["metadata"].(map[string]any)["nextPageToken"].(string)
		liErrorShape(t, liRest(t, srv.URL, dana, search+"&pageToken="+next, "FINDER", nil), 400)
	})
}

// TestLinkedInBatchEntryFailsAsTheSingleRead: a fault set on one organization
// fails its batch entry with the status and code GET /rest/organizations/{id}
// answers, and leaves the other entry alone, whichever fault it is.
func TestLinkedInBatchEntryFailsAsTheSingleRead(t *testing.T) {
	tests := []sandbox.FaultRequest{
		{Fault: "provider_unavailable"},
		{Fault: "rate_limited"},
		{Fault: "policy_blocked"},
		{Fault: "unknown"},
		{Fault: "missing_permission", Scope: "r_organization_admin"},
		// A scope no endpoint family covers fails every read of the asset.
		{Fault: "missing_permission", Scope: "w_member_social"},
	}
	for _, f := range tests {
		t.Run(f.Fault+" "+f.Scope, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			tok, _ := sandboxtest.LinkedInLogin(t, srv, sandbox.LinkedInMember)
			f.Provider, f.User, f.Asset = "linkedin", sandbox.LinkedInMember, "5100002"
			sandboxtest.Inject(t, srv, f)
			single := liGet(t, srv.URL, tok, "/rest/organizations/5100002")
			if single.status == 200 {
				t.Fatalf("the single read went through: %s", single.body)
			}
			r := liRest(t, srv.URL, tok, "/rest/organizations?ids=List(5100001,5100002)", "BATCH_GET", nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			statuses, _ := m["statuses"].(map[string]any)
			entry, _ := m["errors"].(map[string]any)["5100002"].(map[string]any)
			want := single.json(t)
			if statuses["5100001"] != float64(200) || statuses["5100002"] != float64(single.status) ||
				entry["status"] != want["status"] || entry["code"] != want["code"] {
				t.Errorf("batch %s; single read %d %s", r.body, single.status, single.body)
			}
		})
	}
}
