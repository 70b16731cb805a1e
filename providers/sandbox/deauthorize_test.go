package sandbox_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// deauthApp stands for Relink's Deauthorize Callback URL: it keeps the user of
// every signed_request that verifies with the sandbox's app secret, and fails the
// test on any other.
type deauthApp struct {
	t     *testing.T
	sb    func() *sandbox.Sandbox
	mu    sync.Mutex
	users []string
}

func (a *deauthApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		a.t.Errorf("callback: %s with %q", r.Method, r.Header.Get("Content-Type"))
	}
	sr, err := meta.ParseSignedRequest(r.PostFormValue("signed_request"), sandbox.DefaultMetaAppSecret, a.sb().Clock().Now())
	if err != nil {
		a.t.Errorf("callback: %v", err)
		http.Error(w, "bad signed_request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.users = append(a.users, sr.UserID)
	a.mu.Unlock()
}

func (a *deauthApp) received() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := slices.Clone(a.users)
	slices.Sort(out)
	return out
}

// TestDeauthorizeCallback: injecting app_removed for a Meta user, from the JSON API
// or the panel, posts Meta's signed_request to DeauthorizeURL, signed with the app
// secret and naming the user by the id /me gives; other faults, asset faults and
// LinkedIn do not.
func TestDeauthorizeCallback(t *testing.T) {
	all := []string{sandbox.MetaAgencyUser, sandbox.MetaBulkUser, sandbox.MetaSmallUser}
	slices.Sort(all)
	tests := []struct {
		name  string
		req   sandbox.FaultRequest
		panel bool
		want  []string
	}{
		{name: "JSON API", req: sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: "app_removed"}, want: []string{sandbox.MetaAgencyUser}},
		{name: "panel", req: sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "app_removed"}, panel: true, want: []string{sandbox.MetaSmallUser}},
		{name: "every user", req: sandbox.FaultRequest{Provider: "meta", User: "*", Fault: "app_removed"}, want: all},
		{name: "another fault", req: sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Fault: "password_changed"}},
		{name: "on an asset", req: sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaAgencyUser, Asset: "110000000000001", Fault: "app_removed"}},
		{name: "LinkedIn", req: sandbox.FaultRequest{Provider: "linkedin", User: sandbox.LinkedInMember, Fault: "app_removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb *sandbox.Sandbox
			app := &deauthApp{t: t, sb: func() *sandbox.Sandbox { return sb }}
			appSrv := httptest.NewServer(app)
			t.Cleanup(appSrv.Close)
			sb, srv := sandboxtest.StartWith(t, sandbox.Options{DeauthorizeURL: appSrv.URL + "/auth/facebook/deauthorize", DeauthorizeClient: appSrv.Client()})
			tok := longLived(t, srv, sandbox.MetaAgencyUser)
			if id := graph(t, srv, "/me", tok, nil).json(t)["id"]; id != sandbox.MetaAgencyUser {
				t.Fatalf("/me id = %v", id)
			}
			if tt.panel {
				form := url.Values{"provider": {tt.req.Provider}, "user": {tt.req.User}, "fault": {tt.req.Fault}}
				if r := do(t, mustReq(http.MethodPost, srv.URL+"/sandbox/panel/faults", form.Encode())); r.status != http.StatusSeeOther {
					t.Fatalf("panel: %d %s", r.status, r.body)
				}
			} else {
				sandboxtest.Inject(t, srv, tt.req)
			}
			sb.WaitCallbacks()
			if got := app.received(); !slices.Equal(got, tt.want) {
				t.Errorf("callbacks for %v, want %v", got, tt.want)
			}
		})
	}
}

// syncBuffer is a log destination safe for the callback's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDeauthorizeCallbackUndelivered: an app that cannot be reached, or refuses the
// callback, is logged; the fault is injected all the same.
func TestDeauthorizeCallbackUndelivered(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	t.Cleanup(refusing.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	tests := []struct {
		name string
		url  string
		log  string
	}{
		{name: "unreachable", url: gone.URL + "/deauthorize", log: "deauthorize callback not delivered"},
		{name: "refused", url: refusing.URL + "/deauthorize", log: "deauthorize callback refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			sb, srv := sandboxtest.StartWith(t, sandbox.Options{DeauthorizeURL: tt.url, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			sandboxtest.Inject(t, srv, sandbox.FaultRequest{Provider: "meta", User: sandbox.MetaSmallUser, Fault: "app_removed"})
			sb.WaitCallbacks()
			if !strings.Contains(logs.String(), tt.log) || !strings.Contains(logs.String(), sandbox.MetaSmallUser) {
				t.Errorf("log: %s", logs.String())
			}
			if f := sb.Faults(); len(f) != 1 || f[0].Fault != "app_removed" {
				t.Errorf("faults: %+v", f)
			}
		})
	}
}
