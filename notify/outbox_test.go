package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/notify"
	"github.com/relink/relink/notify/smtptest"
	"github.com/relink/relink/providers"
)

// secretToken stands for a token a connection holds: no email may ever contain it.
const secretToken = "EAAB-secret-token-never-in-an-email"

const baseURL = "https://relink.example.com/app"

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is two agencies with people of every role and a connection that broke.
type world struct {
	t       *testing.T
	ctx     context.Context
	store   *models.Store
	clock   *clock
	outbox  *notify.Outbox
	smtp    *smtptest.Server
	support models.Principal

	northwind, rival     models.Agency
	bluebird, cedar, far models.SubAccount
	// users by email
	users map[string]models.User
	conn  models.Connection
}

// People of the world, by role.
const (
	owner       = "owner@northwind.test" // agency owner of Northwind
	agencyAdmin = "agency-admin@northwind.test"
	agencyUser  = "agency-user@northwind.test"
	accAdmin    = "admin@bluebird.test" // account admin of Bluebird
	accUser     = "user@bluebird.test"
	dual        = "dual@northwind.test" // agency admin and account admin of Bluebird
	cedarAdmin  = "admin@cedar.test"
	rivalOwner  = "owner@rival.test"
	support     = "support@relink.test"
)

// bluebirdRecipients are those emailed about Bluebird's connections by default.
var bluebirdRecipients = []string{owner, agencyAdmin, accAdmin, dual}

func newWorld(t *testing.T, opts ...func(*notify.Config)) *world {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)}
	s := storetest.Open(t, storetest.Options{Clock: clk})
	w := &world{t: t, ctx: ctx, store: s, clock: clk, users: map[string]models.User{}}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.northwind, err = s.CreateAgency(ctx, "Northwind Marketing")
	check(err)
	w.rival, err = s.CreateAgency(ctx, "Rival Agency")
	check(err)
	w.bluebird, err = s.CreateSubAccount(ctx, w.northwind.ID, "Bluebird Bakery")
	check(err)
	w.cedar, err = s.CreateSubAccount(ctx, w.northwind.ID, "Cedar Dental")
	check(err)
	w.far, err = s.CreateSubAccount(ctx, w.rival.ID, "Far Away Client")
	check(err)
	add := func(email, name string, nu models.NewUser) models.User {
		nu.Email, nu.Name, nu.Password = email, name, "correct horse battery"
		u, err := s.CreateUser(ctx, nu)
		check(err)
		w.users[email] = u
		return u
	}
	add(owner, "Olivia Owner", models.NewUser{Role: models.RoleAgencyOwner, AgencyID: w.northwind.ID})
	add(agencyAdmin, "Adam Admin", models.NewUser{Role: models.RoleAgencyAdmin, AgencyID: w.northwind.ID})
	add(agencyUser, "Una User", models.NewUser{Role: models.RoleAgencyUser, AgencyID: w.northwind.ID})
	add(accAdmin, "Bea Baker", models.NewUser{Role: models.RoleAccountAdmin, SubAccountID: w.bluebird.ID})
	add(accUser, "", models.NewUser{Role: models.RoleAccountUser, SubAccountID: w.bluebird.ID})
	d := add(dual, "Dee Dual", models.NewUser{Role: models.RoleAgencyAdmin, AgencyID: w.northwind.ID})
	if err := s.AddAccountMembership(ctx, d.ID, w.bluebird.ID, models.RoleAccountAdmin); err != nil {
		t.Fatal(err)
	}
	add(cedarAdmin, "Cy Cedar", models.NewUser{Role: models.RoleAccountAdmin, SubAccountID: w.cedar.ID})
	add(rivalOwner, "Rex Rival", models.NewUser{Role: models.RoleAgencyOwner, AgencyID: w.rival.ID})
	sup := add(support, "Sam Support", models.NewUser{Support: true})
	w.support, err = s.LoadPrincipal(ctx, sup.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.conn = w.connection(w.bluebird.ID, "10000000000001", "Avery Agency")
	w.smtp = smtptest.Start(t)
	mailer, err := notify.NewSMTPMailer(w.smtp.URL() + "?from=" + url.QueryEscape("Relink <alerts@relink.example.com>") + "&timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(baseURL)
	cfg := notify.Config{Store: s, BaseURL: base, Mailer: mailer, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	w.outbox, err = notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// connection creates a Facebook connection that needs reauthentication in sub-account sub.
func (w *world) connection(sub int64, extID, name string) models.Connection {
	w.t.Helper()
	c, err := w.store.CreateConnection(w.ctx, sub, models.Connection{Provider: "meta", ExternalUserID: extID,
		ExternalUserName: name, AccessToken: []byte(secretToken), Status: models.StatusReauthRequired,
		Reason: providers.ReasonTokenExpired})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// incident is the notice of w.conn's incident.
func (w *world) incident() connection.Notice {
	return connection.Notice{Kind: connection.NoticeIncident, Connection: w.conn, Since: w.clock.Now().Add(-time.Minute)}
}

// queue queues n in a transaction, as the connection service does.
func (w *world) queue(n connection.Notice) int {
	w.t.Helper()
	var written int
	err := w.store.Tx(w.ctx, func(tx *models.Store) error {
		var err error
		written, err = w.outbox.Queue(w.ctx, tx, n)
		return err
	})
	if err != nil {
		w.t.Fatalf("queue: %v", err)
	}
	return written
}

// emails lists the whole outbox, oldest first, with bodies.
func (w *world) emails() []models.OutboxEmail {
	w.t.Helper()
	heads, err := w.store.EmailsFor(w.ctx, w.support, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	out := make([]models.OutboxEmail, len(heads))
	for i, h := range heads {
		if out[len(heads)-1-i], err = w.store.EmailFor(w.ctx, w.support, h.ID); err != nil {
			w.t.Fatal(err)
		}
	}
	return out
}

func (w *world) setPrefs(email string, ch models.NotificationChange) {
	w.t.Helper()
	p, err := w.store.LoadPrincipal(w.ctx, w.users[email].ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if ch.Default == "" {
		ch.Default = models.NotifyImmediate
	}
	if err := w.store.SaveNotificationPrefs(w.ctx, p, ch); err != nil {
		w.t.Fatalf("save prefs of %s: %v", email, err)
	}
}

func (w *world) deliver(limit int) (int, int) {
	w.t.Helper()
	sent, failed, err := w.outbox.DeliverDue(w.ctx, limit)
	if err != nil {
		w.t.Fatalf("deliver: %v", err)
	}
	return sent, failed
}

func addresses(es []models.OutboxEmail) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ToAddress)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestQueueWritesOneRowPerRecipientOnce(t *testing.T) {
	w := newWorld(t)
	n := w.incident()
	if got := w.queue(n); got != len(bluebirdRecipients) {
		t.Fatalf("first queue wrote %d rows, want %d", got, len(bluebirdRecipients))
	}
	if got := w.queue(n); got != 0 {
		t.Fatalf("second queue of the same notice wrote %d rows, want 0", got)
	}
	es := w.emails()
	if got, want := addresses(es), sorted(bluebirdRecipients); !slices.Equal(got, want) {
		t.Fatalf("recipients %v, want %v", got, want)
	}
	for _, e := range es {
		if e.Kind != models.EmailIncident || e.Status != models.EmailPending || e.Digest ||
			e.ConnectionID == nil || *e.ConnectionID != w.conn.ID || e.SubAccountID == nil || *e.SubAccountID != w.bluebird.ID ||
			e.UserID == nil || *e.UserID != w.users[e.ToAddress].ID {
			t.Errorf("row %+v", e)
		}
		want := fmt.Sprintf("incident:%d:%d:%d", w.conn.ID, n.Since.Unix(), w.users[e.ToAddress].ID)
		if e.DedupeKey != want {
			t.Errorf("dedupe key %q, want %q", e.DedupeKey, want)
		}
	}
	// A new incident of the same connection is another email.
	later := n
	later.Since = n.Since.Add(time.Hour)
	if got := w.queue(later); got != len(bluebirdRecipients) {
		t.Fatalf("next incident wrote %d rows, want %d", got, len(bluebirdRecipients))
	}
}

func TestRecipientsByRoleAndPreference(t *testing.T) {
	tests := []struct {
		name  string
		prefs map[string]func(w *world) models.NotificationChange
		// want maps each recipient to whether their row is held for the digest.
		want map[string]bool
	}{
		{
			name: "admins and owners of the sub-account and its agency, each once; not users, not support, not another agency",
			want: map[string]bool{owner: false, agencyAdmin: false, accAdmin: false, dual: false},
		},
		{
			name: "default off leaves the person out",
			prefs: map[string]func(*world) models.NotificationChange{
				owner: func(*world) models.NotificationChange { return models.NotificationChange{Default: models.NotifyOff} },
			},
			want: map[string]bool{agencyAdmin: false, accAdmin: false, dual: false},
		},
		{
			name: "default digest holds the row for the digest",
			prefs: map[string]func(*world) models.NotificationChange{
				accAdmin: func(*world) models.NotificationChange { return models.NotificationChange{Default: models.NotifyDigest} },
			},
			want: map[string]bool{owner: false, agencyAdmin: false, accAdmin: true, dual: false},
		},
		{
			name: "a sub-account's override beats the default",
			prefs: map[string]func(*world) models.NotificationChange{
				owner: func(w *world) models.NotificationChange {
					return models.NotificationChange{Default: models.NotifyOff,
						Overrides: map[int64]models.NotificationMode{w.bluebird.ID: models.NotifyImmediate}}
				},
				agencyAdmin: func(w *world) models.NotificationChange {
					return models.NotificationChange{Default: models.NotifyImmediate,
						Overrides: map[int64]models.NotificationMode{w.bluebird.ID: models.NotifyOff}}
				},
				dual: func(w *world) models.NotificationChange {
					return models.NotificationChange{Default: models.NotifyOff,
						Overrides: map[int64]models.NotificationMode{w.bluebird.ID: models.NotifyDigest}}
				},
			},
			want: map[string]bool{owner: false, accAdmin: false, dual: true},
		},
		{
			name: "another sub-account's override changes nothing here",
			prefs: map[string]func(*world) models.NotificationChange{
				owner: func(w *world) models.NotificationChange {
					return models.NotificationChange{Default: models.NotifyImmediate,
						Overrides: map[int64]models.NotificationMode{w.cedar.ID: models.NotifyOff}}
				},
			},
			want: map[string]bool{owner: false, agencyAdmin: false, accAdmin: false, dual: false},
		},
		{
			name: "everyone off writes nothing",
			prefs: map[string]func(*world) models.NotificationChange{
				owner:       func(*world) models.NotificationChange { return models.NotificationChange{Default: models.NotifyOff} },
				agencyAdmin: func(*world) models.NotificationChange { return models.NotificationChange{Default: models.NotifyOff} },
				accAdmin:    func(*world) models.NotificationChange { return models.NotificationChange{Default: models.NotifyOff} },
				dual:        func(*world) models.NotificationChange { return models.NotificationChange{Default: models.NotifyOff} },
			},
			want: map[string]bool{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			for email, ch := range tt.prefs {
				w.setPrefs(email, ch(w))
			}
			if got := w.queue(w.incident()); got != len(tt.want) {
				t.Errorf("wrote %d rows, want %d", got, len(tt.want))
			}
			got := map[string]bool{}
			for _, e := range w.emails() {
				if _, dup := got[e.ToAddress]; dup {
					t.Errorf("%s got two rows", e.ToAddress)
				}
				got[e.ToAddress] = e.Digest
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("recipients (address: held for digest) %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSentAndReconnected(t *testing.T) {
	w := newWorld(t)
	n := w.incident()
	sent := func(since time.Time) bool {
		t.Helper()
		var ok bool
		err := w.store.Tx(w.ctx, func(tx *models.Store) error {
			var err error
			ok, err = w.outbox.Sent(w.ctx, tx, w.conn, since)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if sent(n.Since) {
		t.Fatal("Sent before anything was queued")
	}
	// The account admin hears of the incident only after it began: not of its end either.
	w.setPrefs(accAdmin, models.NotificationChange{Default: models.NotifyOff})
	w.queue(n)
	if !sent(n.Since) {
		t.Fatal("Sent is false after the incident email was queued")
	}
	if sent(n.Since.Add(time.Second)) {
		t.Fatal("Sent is true for another incident")
	}
	w.setPrefs(accAdmin, models.NotificationChange{Default: models.NotifyImmediate})
	fixed := w.conn
	fixed.Status, fixed.Reason = models.StatusHealthy, ""
	got := w.queue(connection.Notice{Kind: connection.NoticeReconnected, Connection: fixed, Since: n.Since})
	if want := len(bluebirdRecipients) - 1; got != want {
		t.Fatalf("reconnected wrote %d rows, want %d", got, want)
	}
	for _, e := range w.emails() {
		if e.Kind != models.EmailReconnected {
			continue
		}
		if e.ToAddress == accAdmin {
			t.Errorf("%s was told of the end of an incident they were not told of", accAdmin)
		}
		if !strings.Contains(e.Subject, "works again") {
			t.Errorf("subject %q", e.Subject)
		}
	}
}

func TestDeliverDueSendsEachEmailOnce(t *testing.T) {
	w := newWorld(t)
	w.queue(w.incident())
	sent, failed := w.deliver(100)
	if sent != len(bluebirdRecipients) || failed != 0 {
		t.Fatalf("sent %d, failed %d; want %d, 0", sent, failed, len(bluebirdRecipients))
	}
	if sent, failed := w.deliver(100); sent != 0 || failed != 0 {
		t.Fatalf("second run sent %d, failed %d; want nothing", sent, failed)
	}
	msgs := w.smtp.Messages()
	if len(msgs) != len(bluebirdRecipients) {
		t.Fatalf("server got %d messages, want %d", len(msgs), len(bluebirdRecipients))
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		if len(m.To) != 1 || m.From != "alerts@relink.example.com" {
			t.Errorf("envelope from %q to %v", m.From, m.To)
		}
		if got := m.Header.Get("Auto-Submitted"); got != "auto-generated" {
			t.Errorf("Auto-Submitted %q", got)
		}
		id := m.MessageID()
		if !strings.HasPrefix(id, "<relink.") || !strings.HasSuffix(id, "@relink.example.com>") || ids[id] {
			t.Errorf("Message-ID %q (seen before: %v)", id, ids[id])
		}
		ids[id] = true
		if !strings.HasPrefix(m.Subject(), "Action needed: the Facebook connection of Bluebird Bakery has expired") {
			t.Errorf("subject %q", m.Subject())
		}
		if !strings.Contains(m.Text, "Avery Agency") || !strings.Contains(m.HTML, "Avery Agency") {
			t.Errorf("parts do not name the account: text %q", m.Text)
		}
		if strings.Contains(string(m.Raw), secretToken) {
			t.Error("the email carries the token")
		}
	}
	for _, e := range w.emails() {
		if e.Status != models.EmailSent || e.SentAt == nil || e.LeaseUntil != nil || e.Attempts != 0 {
			t.Errorf("row after sending: %+v", e)
		}
	}
}

func TestDeliverDueRetriesUntilTheServerAcceptsAndSendsOnce(t *testing.T) {
	w := newWorld(t)
	w.queue(w.incident())
	w.smtp.Fail(451)
	sent, failed := w.deliver(100)
	if sent != 0 || failed != len(bluebirdRecipients) {
		t.Fatalf("with the server refusing: sent %d, failed %d", sent, failed)
	}
	for _, e := range w.emails() {
		wait := e.SendAfter.Sub(w.clock.Now())
		if e.Status != models.EmailPending || e.Attempts != 1 || e.LeaseUntil != nil || wait < 40*time.Second || wait > time.Minute {
			t.Errorf("row after a failure: status %s attempts %d lease %v retry in %s", e.Status, e.Attempts, e.LeaseUntil, wait)
		}
		if !strings.Contains(e.LastError, "451") || strings.Contains(e.LastError, "@") {
			t.Errorf("last error %q: want the code, no address", e.LastError)
		}
	}
	// Not due yet: nothing is tried.
	if sent, failed := w.deliver(100); sent+failed != 0 {
		t.Fatalf("retried before the backoff: sent %d failed %d", sent, failed)
	}
	// Still down at the second attempt: the wait doubles.
	w.clock.Advance(time.Minute)
	if _, failed := w.deliver(100); failed != len(bluebirdRecipients) {
		t.Fatalf("second attempt: failed %d", failed)
	}
	for _, e := range w.emails() {
		if wait := e.SendAfter.Sub(w.clock.Now()); e.Attempts != 2 || wait < 90*time.Second || wait > 2*time.Minute {
			t.Errorf("after two failures: attempts %d, retry in %s", e.Attempts, wait)
		}
	}
	w.smtp.Recover()
	w.clock.Advance(2 * time.Minute)
	if sent, failed := w.deliver(100); sent != len(bluebirdRecipients) || failed != 0 {
		t.Fatalf("after recovery: sent %d, failed %d", sent, failed)
	}
	w.clock.Advance(time.Hour)
	w.deliver(100)
	got := map[string]int{}
	for _, m := range w.smtp.Messages() {
		got[m.To[0]]++
	}
	for _, r := range bluebirdRecipients {
		if got[r] != 1 {
			t.Errorf("%s received %d copies, want 1", r, got[r])
		}
	}
}

func TestDeliverDueGivesUp(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		attempts int
	}{
		{name: "after the last attempt", code: 421, attempts: 3},
		{name: "at once when the server refuses the recipient for good", code: 550, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, func(c *notify.Config) { c.MaxAttempts = 3 })
			w.queue(w.incident())
			w.smtp.Fail(tt.code)
			for range 5 {
				w.deliver(100)
				w.clock.Advance(time.Hour)
			}
			for _, e := range w.emails() {
				if e.Status != models.EmailFailed || e.Attempts != tt.attempts {
					t.Errorf("%s: status %s after %d attempts, want failed after %d", e.ToAddress, e.Status, e.Attempts, tt.attempts)
				}
			}
			if got, want := w.smtp.Refused(), tt.attempts*len(bluebirdRecipients); got != want {
				t.Errorf("server refused %d transactions, want %d", got, want)
			}
		})
	}
}

func TestConcurrentWorkersSendEachEmailOnce(t *testing.T) {
	w := newWorld(t)
	for i := range 5 {
		w.conn = w.connection(w.bluebird.ID, fmt.Sprint(20000000000000+i), fmt.Sprintf("Person %d", i))
		w.queue(w.incident())
	}
	total := 5 * len(bluebirdRecipients)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent int
	)
	for range 4 {
		wg.Go(func() {
			for {
				n, _, err := w.outbox.DeliverDue(w.ctx, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sent += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	// A worker may stop while another still sends: finish what is left.
	for {
		n, _ := w.deliver(100)
		if n == 0 {
			break
		}
		sent += n
	}
	msgs := w.smtp.Messages()
	if sent != total || len(msgs) != total {
		t.Fatalf("workers sent %d, server got %d; want %d each", sent, len(msgs), total)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.MessageID()] {
			t.Errorf("message %s arrived twice", m.MessageID())
		}
		seen[m.MessageID()] = true
	}
}

func TestExpiredLeaseIsRetried(t *testing.T) {
	w := newWorld(t)
	w.queue(w.incident())
	es := w.emails()
	// A worker claimed the first email and died before sending it.
	now := w.clock.Now()
	if ok, err := w.store.System().ClaimEmail(w.ctx, es[0].ID, now, now.Add(notify.DefaultLease)); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if sent, _ := w.deliver(100); sent != len(es)-1 {
		t.Fatalf("sent %d while one email is leased, want %d", sent, len(es)-1)
	}
	w.clock.Advance(notify.DefaultLease + time.Second)
	if sent, _ := w.deliver(100); sent != 1 {
		t.Fatalf("after the lease expired sent %d, want 1", sent)
	}
	if got := len(w.smtp.Messages()); got != len(es) {
		t.Fatalf("server got %d messages, want %d", got, len(es))
	}
}

func TestWithoutMailerNothingIsSent(t *testing.T) {
	w := newWorld(t, func(c *notify.Config) { c.Mailer = nil })
	w.queue(w.incident())
	if sent, failed := w.deliver(100); sent+failed != 0 {
		t.Fatalf("sent %d failed %d without a mailer", sent, failed)
	}
	for _, e := range w.emails() {
		if e.Status != models.EmailPending {
			t.Errorf("status %s", e.Status)
		}
	}
}

func TestKick(t *testing.T) {
	var nilOutbox *notify.Outbox
	nilOutbox.Kick(context.Background())
	kicked := 0
	w := newWorld(t, func(c *notify.Config) { c.Kick = func(context.Context) { kicked++ } })
	w.outbox.Kick(w.ctx)
	if kicked != 1 {
		t.Fatalf("kicked %d times, want 1", kicked)
	}
	newWorld(t).outbox.Kick(context.Background())
}

func TestSendDigestsGathersHeldEmails(t *testing.T) {
	w := newWorld(t)
	w.setPrefs(accAdmin, models.NotificationChange{Default: models.NotifyDigest})
	first := w.conn
	w.queue(w.incident())
	w.conn = w.connection(w.bluebird.ID, "10000000000002", "Blake Bulk")
	second := w.conn
	w.queue(connection.Notice{Kind: connection.NoticeReminder, Connection: second, Since: w.clock.Now().Add(72 * time.Hour),
		Clock: connection.ClockDataAccess, ExpiresAt: w.clock.Now().Add(72 * time.Hour), DaysLeft: 3})
	w.deliver(100)
	for _, m := range w.smtp.Messages() {
		if m.To[0] == accAdmin {
			t.Fatalf("%s chose the digest but got %q on its own", accAdmin, m.Subject())
		}
	}
	n, err := w.outbox.SendDigests(w.ctx, w.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("SendDigests: %d, %v; want 1 digest", n, err)
	}
	if n, err := w.outbox.SendDigests(w.ctx, w.clock.Now()); err != nil || n != 0 {
		t.Fatalf("SendDigests again: %d, %v; want nothing", n, err)
	}
	var digest models.OutboxEmail
	for _, e := range w.emails() {
		if e.Kind == models.EmailDigest {
			digest = e
		}
	}
	if digest.ID == 0 || digest.ToAddress != accAdmin || digest.DedupeKey != fmt.Sprintf("digest:%d:2026-06-15", w.users[accAdmin].ID) {
		t.Fatalf("digest row %+v", digest)
	}
	for _, e := range w.emails() {
		if e.ToAddress == accAdmin && e.Kind != models.EmailDigest {
			if e.Status != models.EmailSent || e.DigestID == nil || *e.DigestID != digest.ID {
				t.Errorf("held row %s: status %s digest %v", e.Kind, e.Status, e.DigestID)
			}
		}
	}
	if sent, _ := w.deliver(100); sent != 1 {
		t.Fatalf("delivered %d, want the digest", sent)
	}
	msgs := w.smtp.Messages()
	m := msgs[len(msgs)-1]
	if m.To[0] != accAdmin || m.Subject() != "Relink daily digest: 2 updates about your connections" {
		t.Fatalf("last message to %v: %q", m.To, m.Subject())
	}
	for _, want := range []string{
		"Action needed: the Facebook connection of Bluebird Bakery has expired",
		"The Facebook connection of Bluebird Bakery expires in 3 days",
		fmt.Sprintf("%s/accounts/%d/connections/%d/reauthenticate", baseURL, w.bluebird.ID, first.ID),
		fmt.Sprintf("%s/accounts/%d/connections/%d/reauthenticate", baseURL, w.bluebird.ID, second.ID),
	} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("digest lacks %q:\n%s", want, m.Text)
		}
	}
	// Held the next day, it goes into the next day's digest.
	w.clock.Advance(24 * time.Hour)
	w.queue(connection.Notice{Kind: connection.NoticeIncident, Connection: first, Since: w.clock.Now()})
	if n, err := w.outbox.SendDigests(w.ctx, w.clock.Now()); err != nil || n != 1 {
		t.Fatalf("next day's digest: %d, %v", n, err)
	}
}
