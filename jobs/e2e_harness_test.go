package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/markbates/goth"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/jobs"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/notify"
	"github.com/relink/relink/notify/smtptest"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

// Sandbox users the end-to-end tests connect.
const (
	avery = "10000000000001" // "Avery Agency": 3 Pages, 4 ad accounts
	blake = "10000000000002"
	casey = "10000000000003"
	dana  = "lnk-dana-0001" // LinkedIn
)

// The demo people (models.SeedDemo) an email about Bluebird Bakery may reach.
const (
	ownerEmail = "owner@northwind.test" // agency owner of Northwind Marketing: told
	adminEmail = "admin@bluebird.test"  // account admin of Bluebird Bakery: told
	userEmail  = "user@bluebird.test"   // account user of Bluebird Bakery: never told
)

const (
	day = 24 * time.Hour
	// relinkURL is the BASE_URL the emails' links start with.
	relinkURL    = "https://relink.example"
	demoPassword = "correct horse battery staple"
)

// told is who gets one email about a connection of Bluebird Bakery: its account admin and
// its agency's owner, each once.
var told = map[string]int{adminEmail: 1, ownerEmail: 1}

// stack is Relink as serve wires it, minus HTTP: the provider sandbox on a frozen clock, a
// store on that clock with the demo data, the connection service over Meta and LinkedIn
// clients that talk to the sandbox, and the real email outbox, whose mailer speaks SMTP
// to a server in the test's process. What the tests see is what a person would: the
// connection's row and the emails that arrived.
type stack struct {
	t      *testing.T
	ctx    context.Context
	sb     *sandbox.Sandbox
	ts     *httptest.Server
	store  *models.Store
	cipher *models.Cipher
	svc    *connection.Service
	outbox *notify.Outbox
	smtp   *smtptest.Server
	log    *slog.Logger
	// bluebird is Bluebird Bakery as its account admin acts in it.
	bluebird connection.Tenant
	sub      models.SubAccountRef
	admin    int64
	support  models.Principal
	// runner is the one the outbox kicks, once a test starts one (serve's wiring).
	runner atomic.Pointer[jobs.Runner]

	mu     sync.Mutex
	flows  int
	tokens []string // every token the sandbox handed out to this stack's logins
}

// newStack builds the stack with the demo agency seeded.
func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	sb, ts := sandboxtest.Start(t)
	store := storetest.Open(t, storetest.Options{Clock: sb.Clock()})
	if _, err := store.SeedDemo(ctx, demoPassword); err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, ctx: ctx, sb: sb, ts: ts, store: store, log: testLog(t)}
	owner := s.principal(ownerEmail)
	found, err := store.SearchSubAccounts(ctx, owner, "Bluebird Bakery", 2)
	if err != nil || len(found.Results) != 1 {
		t.Fatalf("Bluebird Bakery in the demo data: %+v, %v", found, err)
	}
	s.sub = found.Results[0]
	admin := s.principal(adminEmail)
	s.admin = admin.User.ID
	s.bluebird = connection.Tenant{AgencyID: s.sub.AgencyID, SubAccountID: s.sub.ID,
		Actor: connection.UserActor(admin.User.ID), Viewer: &admin}
	s.support = s.principal("support@relink.test")
	if s.cipher, err = models.NewCipher(bytes.Repeat([]byte{7}, 32)); err != nil {
		t.Fatal(err)
	}
	s.smtp = smtptest.Start(t)
	mailer, err := notify.NewSMTPMailer(s.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(relinkURL)
	if err != nil {
		t.Fatal(err)
	}
	s.outbox, err = notify.New(notify.Config{Store: store, BaseURL: base, Mailer: mailer, Log: s.log,
		Kick: func(ctx context.Context) {
			if r := s.runner.Load(); r != nil {
				r.Kick(ctx)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.svc = s.replica()
	return s
}

// replica is another connection service over the same store and outbox, with provider
// clients of its own: what a second Relink process would run.
func (s *stack) replica() *connection.Service {
	s.t.Helper()
	mc, lc := s.providerConfigs()
	svc, err := connection.New(connection.Config{Store: s.store, Cipher: s.cipher,
		Providers: []providers.Provider{meta.New(mc), linkedin.New(lc)}, Log: s.log, Notifier: s.outbox})
	if err != nil {
		s.t.Fatal(err)
	}
	return svc
}

// providerConfigs are the Meta and LinkedIn clients' settings as serve makes them in
// sandbox mode: the sandbox's apps and clock, Meta's usage kept in the store.
func (s *stack) providerConfigs() (meta.Config, linkedin.Config) {
	urls := s.sb.URLs(s.ts.URL)
	return meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
			GraphURL: urls.MetaGraph, WWWURL: urls.MetaWWW, Clock: s.sb.Clock(), RedirectURL: sandboxtest.RedirectURI,
			Limits: s.store.ProviderLimits("meta")},
		linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: sandbox.DefaultLinkedInClientSecret,
			APIURL: urls.LinkedInAPI, WWWURL: urls.LinkedInWWW, Clock: s.sb.Clock(), RedirectURL: sandboxtest.RedirectURI}
}

// login runs the provider's dialog as user and completes it as gothic does on the
// callback: the code exchanged for tokens, then the user read from the provider (its
// name included, which the emails repeat).
func (s *stack) login(provider, user string) goth.User {
	s.t.Helper()
	mc, lc := s.providerConfigs()
	var (
		gp      goth.Provider
		session goth.Session
		scopes  []string
	)
	switch provider {
	case "meta":
		gp, session, scopes = meta.NewGoth(mc), &meta.Session{}, sandboxtest.MetaScopes
	case "linkedin":
		gp, session, scopes = linkedin.NewGoth(lc), &linkedin.Session{}, sandboxtest.LinkedInScopes
	default:
		s.t.Fatalf("no provider %q", provider)
	}
	code := sandboxtest.Code(s.t, s.ts, provider, user, scopes)
	if _, err := session.Authorize(gp, url.Values{"code": {code}, "state": {"st"}}); err != nil {
		s.t.Fatalf("%s login of %s: %v", provider, user, err)
	}
	gu, err := gp.FetchUser(session)
	if err != nil {
		s.t.Fatalf("%s user %s: %v", provider, user, err)
	}
	return gu
}

func (s *stack) principal(email string) models.Principal {
	s.t.Helper()
	u, err := s.store.UserByEmail(s.ctx, email)
	if err != nil {
		s.t.Fatalf("%s: %v", email, err)
	}
	p, err := s.store.LoadPrincipal(s.ctx, u.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// connect connects every asset of provider user into Bluebird Bakery, as its account
// admin going through the dialog and the picker.
func (s *stack) connect(provider, user string) models.Connection {
	s.t.Helper()
	gu := s.login(provider, user)
	s.mu.Lock()
	s.flows++
	state := fmt.Sprintf("e2e-state-%d", s.flows)
	s.tokens = append(s.tokens, gu.AccessToken, gu.RefreshToken)
	s.mu.Unlock()
	f := models.OAuthFlow{UserID: s.admin, SubAccountID: s.sub.ID, Provider: provider, Intent: models.IntentConnect,
		ExpiresAt: s.store.Now().Add(time.Hour)}
	if _, err := s.store.CreateFlow(s.ctx, state, f); err != nil {
		s.t.Fatal(err)
	}
	claimed, err := s.store.ClaimFlow(s.ctx, state, s.admin)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.svc.Authorize(s.ctx, s.bluebird, claimed, gu); err != nil {
		s.t.Fatalf("authorize %s %s: %v", provider, user, err)
	}
	pk, err := s.svc.Pending(s.ctx, s.bluebird, s.admin, claimed.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	var keys []string
	for _, c := range pk.Choices {
		keys = append(keys, c.Key)
	}
	c, err := s.svc.Connect(s.ctx, s.bluebird, s.admin, claimed.ID, keys)
	if err != nil {
		s.t.Fatalf("connect %s %s: %v", provider, user, err)
	}
	if c.Status != models.StatusHealthy {
		s.t.Fatalf("connected %s %s is %s (%s)", provider, user, c.Status, c.Reason)
	}
	return c
}

// secrets are every token string of connection id: those its logins got from the
// sandbox, and those it holds now, opened.
func (s *stack) secrets(id int64) []string {
	s.t.Helper()
	c := s.conn(id)
	s.mu.Lock()
	out := slices.Clone(s.tokens)
	s.mu.Unlock()
	for _, col := range []struct {
		name   string
		sealed []byte
	}{{"access_token", c.AccessToken}, {"refresh_token", c.RefreshToken}} {
		tok, err := s.cipher.Decrypt(col.sealed, fmt.Appendf(nil, "connections:%d:%s", id, col.name))
		if err != nil {
			s.t.Fatalf("open the %s of connection %d: %v", col.name, id, err)
		}
		out = append(out, string(tok))
	}
	return slices.DeleteFunc(out, func(tok string) bool { return len(tok) < 8 })
}

func (s *stack) conn(id int64) models.Connection {
	s.t.Helper()
	c, err := s.store.Connection(s.ctx, s.sub.ID, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *stack) inject(provider, user, fault string) {
	s.t.Helper()
	if err := s.sb.Inject(sandbox.FaultRequest{Provider: provider, User: user, Fault: fault}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) advance(d time.Duration) { s.sb.Clock().Advance(d) }

// sweep runs one health sweep of the stack's service.
func (s *stack) sweep() connection.SweepStats {
	s.t.Helper()
	st, err := s.svc.Sweep(s.ctx)
	if err != nil {
		s.t.Fatalf("sweep: %v", err)
	}
	return st
}

// deliver runs the outbox as its worker does, and reports what it sent and what failed.
func (s *stack) deliver() (sent, failed int) {
	s.t.Helper()
	sent, failed, err := s.outbox.DeliverDue(s.ctx, 100)
	if err != nil {
		s.t.Fatalf("deliver: %v", err)
	}
	return sent, failed
}

// received counts the messages the SMTP server accepted, per recipient address.
func (s *stack) received() map[string]int {
	got := map[string]int{}
	for _, m := range s.smtp.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

// outboxRows is the whole outbox, with bodies, as support sees it.
func (s *stack) outboxRows() []models.OutboxEmail {
	s.t.Helper()
	heads, err := s.store.EmailsFor(s.ctx, s.support, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	out := make([]models.OutboxEmail, 0, len(heads))
	for _, h := range heads {
		e, err := s.store.EmailFor(s.ctx, s.support, h.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// newRunner builds a River runner over the stack's store, as serve does. stop stops it,
// once; it also runs at cleanup, before the store closes, so a test that fails midway
// leaves no worker touching a dropped database.
func (s *stack) newRunner(cfg jobs.Config) (r *jobs.Runner, stop func()) {
	s.t.Helper()
	cfg.Store = s.store
	if cfg.Log == nil {
		cfg.Log = s.log
	}
	r, err := jobs.New(s.ctx, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := r.Stop(ctx); err != nil {
				s.t.Errorf("stop runner %s: %v", cfg.ID, err)
			}
		})
	}
	s.t.Cleanup(stop)
	return r, stop
}

// eventually polls cond until it holds, or fails the test after within with what it
// says then (what runs only on failure, so it can describe the state at that moment).
func (s *stack) eventually(within time.Duration, cond func() bool, what func() string) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("after %s: %s", within, what())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testLog keeps the product's log lines of a test, and shows them only when it fails:
// the sweeps' summaries and the warnings (a check that could not be saved, an email not
// sent) explain a failure, and are noise otherwise.
func testLog(t *testing.T) *slog.Logger {
	w := &lockedBuffer{}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if t.Failed() && w.buf.Len() > 0 {
			t.Logf("relink log:\n%s", w.buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
