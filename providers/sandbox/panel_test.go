package sandbox_test

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// pressEnter does what a browser does on Enter in a text field (HTML's implicit
// submission): it submits the field's form with the form's default button, the
// first submit button in tree order, whose name and value go with the fields.
func pressEnter(t *testing.T, srvURL string, doc *goquery.Document, field, typed string) result {
	t.Helper()
	in := doc.Find(field)
	if in.Length() != 1 {
		t.Fatalf("%d elements match %s", in.Length(), field)
	}
	if _, ok := in.Attr("form"); ok {
		t.Fatalf("%s names its form by id; pressEnter reads only the enclosing form", field)
	}
	form := in.Closest("form")
	if form.Length() != 1 {
		t.Fatalf("%s is in no form", field)
	}
	values := url.Values{}
	form.Find("input[name], select[name]").Each(func(_ int, e *goquery.Selection) {
		name, _ := e.Attr("name")
		switch typ, _ := e.Attr("type"); {
		case e.Is(field):
			values.Add(name, typed)
		case goquery.NodeName(e) == "select":
			opt := e.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = e.Find("option").First()
			}
			v, ok := opt.Attr("value")
			if !ok {
				v = opt.Text()
			}
			values.Add(name, v)
		case typ == "submit" || typ == "button" || typ == "reset" || typ == "image":
		case typ == "checkbox" || typ == "radio":
			if _, checked := e.Attr("checked"); checked {
				values.Add(name, e.AttrOr("value", "on"))
			}
		default:
			values.Add(name, e.AttrOr("value", ""))
		}
	})
	def := form.Find("button, input[type=submit]").FilterFunction(func(_ int, e *goquery.Selection) bool {
		typ := strings.ToLower(e.AttrOr("type", "submit"))
		return typ == "submit"
	}).First()
	if def.Length() == 0 {
		t.Fatalf("the form of %s has no submit button, so Enter would submit it only if it had no other field", field)
	}
	if name, ok := def.Attr("name"); ok {
		values.Add(name, def.AttrOr("value", ""))
	}
	action := form.AttrOr("action", "")
	return do(t, mustReq(http.MethodPost, srvURL+action, values.Encode()))
}

// TestPanelEnterInTheCustomFieldAdvancesByIt: typing a duration in the custom
// field and pressing Enter advances the clock by it, not by the form's first
// preset button.
func TestPanelEnterInTheCustomFieldAdvancesByIt(t *testing.T) {
	tests := []struct {
		name  string
		typed string
		want  time.Duration
	}{
		{name: "hours", typed: "36h", want: 36 * time.Hour},
		{name: "minutes", typed: "90m", want: 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			r := do(t, mustReq(http.MethodGet, srv.URL+"/sandbox", ""))
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(r.body)))
			if err != nil {
				t.Fatal(err)
			}
			r = pressEnter(t, srv.URL, doc, `[data-testid="sandbox-advance-custom"]`, tt.typed)
			if r.status != http.StatusSeeOther {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := sb.Clock().Offset(); got != tt.want {
				t.Errorf("the clock moved %s, want %s", got, tt.want)
			}
		})
	}
}

// TestClockAdvanceLimit: one advance may move the clock by at most 400 days, on the
// panel (422 page) and in the JSON API (400), since the app stamps its records with
// this clock.
func TestClockAdvanceLimit(t *testing.T) {
	tests := []struct {
		name    string
		api     bool
		advance string
		status  int
		moved   time.Duration
		says    string
	}{
		{name: "panel, 400 days", advance: "9600h", status: http.StatusSeeOther, moved: sandbox.MaxAdvance},
		{name: "panel, past 400 days", advance: "9601h", status: http.StatusUnprocessableEntity, says: "400 days"},
		{name: "panel, past 400 days in minutes", advance: "576001m", status: http.StatusUnprocessableEntity, says: "400 days"},
		{name: "panel, overflowing", advance: "99999999999h", status: http.StatusUnprocessableEntity},
		{name: "panel, not a duration", advance: "soon", status: http.StatusUnprocessableEntity, says: "36h"},
		{name: "panel, negative", advance: "-1h", status: http.StatusUnprocessableEntity},
		{name: "api, 400 days", api: true, advance: "9600h", status: http.StatusOK, moved: sandbox.MaxAdvance},
		{name: "api, past 400 days", api: true, advance: "9601h", status: http.StatusBadRequest, says: "400 days"},
		{name: "api, negative", api: true, advance: "-1h", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := sandboxtest.Start(t)
			var r result
			if tt.api {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sandbox/api/clock", strings.NewReader(`{"advance":"`+tt.advance+`"}`))
				req.Header.Set("Content-Type", "application/json")
				r = do(t, req)
			} else {
				r = do(t, mustReq(http.MethodPost, srv.URL+"/sandbox/panel/clock", url.Values{"advance": {tt.advance}}.Encode()))
			}
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if got := sb.Clock().Offset(); got != tt.moved {
				t.Errorf("the clock moved %s, want %s", got, tt.moved)
			}
			if tt.status < 400 {
				return
			}
			if tt.api {
				if e, _ := r.json(t)["error"].(string); e == "" || !strings.Contains(e, tt.says) {
					t.Errorf("error %q, want one saying %q", e, tt.says)
				}
				return
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), tt.says) {
				t.Errorf("not a sandbox page saying %q: %s", tt.says, r.body)
			}
		})
	}
}

// TestSandboxErrorPages: the sandbox's own pages answer unknown paths and wrong
// methods with a page in its layout that links back to the panel; the JSON API
// keeps JSON errors and the wire paths keep the providers' error shapes.
func TestSandboxErrorPages(t *testing.T) {
	const (
		page     = "sandbox page"
		apiJSON  = "JSON API error"
		graph    = "Graph error"
		linkedIn = "LinkedIn error"
	)
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		status int
		shape  string
	}{
		{name: "unknown top-level path", path: "/sandbox/nope", status: http.StatusNotFound, shape: page},
		{name: "unknown panel path", path: "/sandbox/panel/nope", status: http.StatusNotFound, shape: page},
		{name: "unknown static file", path: "/sandbox/static/nope.css", status: http.StatusNotFound, shape: page},
		{name: "unknown facebook www path", path: "/sandbox/meta/www/v24.0/nope", status: http.StatusNotFound, shape: page},
		{name: "unknown linkedin www path", path: "/sandbox/linkedin/www/oauth/v2/nope", status: http.StatusNotFound, shape: page},
		{name: "outside the prefix", path: "/elsewhere", status: http.StatusNotFound, shape: page},
		{name: "panel posted to", method: http.MethodPost, path: "/sandbox", status: http.StatusMethodNotAllowed, shape: page},
		{name: "panel form read", path: "/sandbox/panel/clock", status: http.StatusMethodNotAllowed, shape: page},
		{name: "panel form from another site", method: http.MethodPost, path: "/sandbox/panel/clock", header: crossSite, status: http.StatusForbidden, shape: page},
		{name: "API from another site", method: http.MethodPost, path: "/sandbox/api/clock", header: crossSite, status: http.StatusForbidden, shape: apiJSON},
		{name: "unknown API path", path: "/sandbox/api/nope", status: http.StatusNotFound, shape: apiJSON},
		{name: "API root", path: "/sandbox/api", status: http.StatusNotFound, shape: apiJSON},
		{name: "unknown Graph path", path: "/sandbox/meta/graph/v24.0/nope/deeper", status: http.StatusBadRequest, shape: graph},
		{name: "unknown LinkedIn API path", path: "/sandbox/linkedin/api/v2/nope", status: http.StatusUnauthorized, shape: linkedIn},
		{name: "LinkedIn token endpoint read", path: "/sandbox/linkedin/www/oauth/v2/accessToken", status: http.StatusMethodNotAllowed, shape: apiJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := sandboxtest.Start(t)
			req := mustReq(cmp.Or(tt.method, http.MethodGet), srv.URL+tt.path, "")
			for k, v := range tt.header {
				req.Header[k] = v
			}
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			ct := r.header.Get("Content-Type")
			switch tt.shape {
			case page:
				doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(r.body)))
				if err != nil || !strings.HasPrefix(ct, "text/html") {
					t.Fatalf("%s, not a page: %s", ct, r.body)
				}
				if doc.Find(`link[rel=stylesheet][href="/sandbox/static/sandbox.css"]`).Length() != 1 ||
					doc.Find(`a[href="/sandbox"]`).Length() == 0 || doc.Find("h1").Length() != 1 {
					t.Errorf("not in the sandbox layout with a link to the panel: %s", r.body)
				}
				assertStrictCSP(t, string(r.body))
				if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			case apiJSON:
				if e, _ := r.json(t)["error"].(string); e == "" || !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s %s, want a JSON error", ct, r.body)
				}
			case graph:
				e, _ := r.json(t)["error"].(map[string]any)
				if e["code"] == nil || e["type"] == nil || e["fbtrace_id"] == nil {
					t.Errorf("not a Graph error: %s", r.body)
				}
			case linkedIn:
				m := r.json(t)
				if m["status"] == nil || m["serviceErrorCode"] == nil {
					t.Errorf("not a LinkedIn error: %s", r.body)
				}
			}
		})
	}
}
