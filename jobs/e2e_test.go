package jobs_test

import (
	"context"
	"fmt"
	"html"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/jobs"
	"github.com/relink/relink/models"
	"github.com/relink/relink/notify"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/sandbox"
)

// The tests below run the whole of Relink's health engine end to end: a fault injected in
// the provider sandbox, the sweep that notices it, the outbox row written in the same
// transaction, the SMTP delivery, and the email as it arrives. Each case says in its name
// what an agency would see.

// TestABrokenConnectionEmailsItsAdminsOnce: whatever breaks a connection, one sweep sets
// the right status, and the sub-account's admin and the agency's owner each get one email
// that names the account and the reason and links to Reauthenticate, and never a token.
func TestABrokenConnectionEmailsItsAdminsOnce(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		user     string
		fault    string
		// advance is how long after connecting the sweep runs: a fault is only seen
		// when the connection's check is due.
		advance    time.Duration
		wantStatus models.Status
		wantReason providers.Reason
	}{
		{name: "a changed Facebook password asks for reauthentication", provider: "meta", user: avery, fault: "password_changed",
			advance: time.Hour, wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonPasswordChanged},
		{name: "Relink removed from the Facebook account asks for reauthentication", provider: "meta", user: avery, fault: "app_removed",
			advance: time.Hour, wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonAppRemoved},
		{name: "a Facebook security checkpoint asks for reauthentication", provider: "meta", user: avery, fault: "security_checkpoint",
			advance: time.Hour, wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonSecurityCheckpoint},
		{name: "a Facebook logout asks for reauthentication", provider: "meta", user: avery, fault: "session_invalidated",
			advance: time.Hour, wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonSessionInvalidated},
		{name: "an expired Facebook token asks for reauthentication", provider: "meta", user: avery, fault: "token_expired",
			advance: time.Hour, wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonTokenExpired},
		{name: "an unticked Facebook permission is permissions missing", provider: "meta", user: avery, fault: "missing_permission",
			advance: time.Hour, wantStatus: models.StatusPermissionsMissing, wantReason: providers.ReasonMissingPermission},
		{name: "a LinkedIn renewal refused 55 days in asks for reauthentication", provider: "linkedin", user: dana, fault: "refresh_token_invalid",
			advance: 55 * day, wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonRefreshTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			c := s.connect(tt.provider, tt.user)
			s.inject(tt.provider, tt.user, tt.fault)
			s.advance(tt.advance)
			if st := s.sweep(); st.Checked != 1 {
				t.Fatalf("sweep: %+v, want one check", st)
			}
			got := s.conn(c.ID)
			if got.Status != tt.wantStatus || got.Reason != tt.wantReason {
				t.Fatalf("after the sweep: %s/%s, want %s/%s", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
			}

			if sent, failed := s.deliver(); sent != len(told) || failed != 0 {
				t.Fatalf("delivered %d, failed %d; want %d, 0", sent, failed, len(told))
			}
			if got := s.received(); !maps.Equal(got, told) {
				t.Fatalf("the SMTP server got %v, want one each for %v (and none for %s)", got, told, userEmail)
			}
			name := accountName(t, s.sb, tt.provider, tt.user)
			if got.ExternalUserName != name {
				t.Errorf("the connection names the account %q, the provider %q", got.ExternalUserName, name)
			}
			label := connection.ProviderLabel(tt.provider)
			link := fmt.Sprintf("%s/accounts/%d/connections/%d/reauthenticate", relinkURL, s.sub.ID, c.ID)
			secrets := s.secrets(c.ID)
			for _, m := range s.smtp.Messages() {
				if want := "Action needed: the " + label + " connection of Bluebird Bakery"; !strings.HasPrefix(m.Subject(), want) {
					t.Errorf("to %v: subject %q, want it to start %q", m.To, m.Subject(), want)
				}
				parts := map[string]string{"text": m.Text, "HTML": html.UnescapeString(m.HTML)}
				for part, body := range parts {
					for _, want := range []string{name, tt.user, "Bluebird Bakery", tt.wantReason.Message(), link} {
						if !strings.Contains(body, want) {
							t.Errorf("to %v: the %s part lacks %q:\n%s", m.To, part, want, body)
						}
					}
				}
				for _, tok := range secrets {
					for where, body := range map[string]string{"raw message": string(m.Raw), "text": m.Text, "HTML": m.HTML} {
						if strings.Contains(body, tok) {
							t.Errorf("to %v: the %s holds a token", m.To, where)
						}
					}
				}
			}

			// A day later the connection is checked again and found as broken: nothing new.
			s.advance(day + time.Hour)
			if st := s.sweep(); st.Checked != 1 {
				t.Fatalf("second sweep: %+v, want the connection checked again", st)
			}
			if got := s.conn(c.ID); got.Status != tt.wantStatus || got.Reason != tt.wantReason {
				t.Fatalf("after the second sweep: %s/%s", got.Status, got.Reason)
			}
			if sent, failed := s.deliver(); sent+failed != 0 {
				t.Fatalf("second delivery sent %d, failed %d; want nothing", sent, failed)
			}
			if got := s.received(); !maps.Equal(got, told) {
				t.Fatalf("after the second sweep the SMTP server has %v, want still %v", got, told)
			}
		})
	}
}

// TestASweepCountsAnUntickedPermissionAsNeedingAction: the sweep's own account of what it
// found (its log line, and the checks metric counted the same way) tells operators how many
// connections now need someone to act; a Facebook permission unticked is one of them, as
// the connection's status and the email already say.
func TestASweepCountsAnUntickedPermissionAsNeedingAction(t *testing.T) {
	s := newStack(t)
	c := s.connect("meta", avery)
	s.inject("meta", avery, "missing_permission")
	s.advance(time.Hour)
	st := s.sweep()
	if got := s.conn(c.ID); got.Status != models.StatusPermissionsMissing {
		t.Fatalf("after the sweep: %s/%s, want permissions_missing", got.Status, got.Reason)
	}
	if st.Checked != 1 || st.Action != 1 || st.OK != 0 {
		t.Fatalf("sweep stats %+v: the connection now needs action, want Action 1 and OK 0", st)
	}
}

// accountName is the provider account's display name, as the sandbox knows it.
func accountName(t *testing.T, sb *sandbox.Sandbox, provider, user string) string {
	t.Helper()
	for _, u := range sb.State().Users {
		if u.Provider == provider && u.ID == user {
			return u.Name
		}
	}
	t.Fatalf("no %s user %s in the sandbox", provider, user)
	return ""
}

// TestAnOutageIsDegradedAndSilent: a provider that stops answering for a while proves
// nothing about the connection, so it is degraded, never expired, and nobody is emailed;
// nor when it answers again.
func TestAnOutageIsDegradedAndSilent(t *testing.T) {
	s := newStack(t)
	c := s.connect("meta", avery)
	s.inject("meta", avery, "provider_unavailable")
	for range 2 {
		s.advance(8 * time.Hour) // past the longest backoff, 6 h plus a fifth of jitter
		if st := s.sweep(); st.Checked != 1 || st.Transient != 1 {
			t.Fatalf("sweep in the outage: %+v", st)
		}
		s.deliver()
	}
	got := s.conn(c.ID)
	if got.Status != models.StatusDegraded || got.Reason != providers.ReasonProviderUnavailable || got.ConsecutiveFailures != 2 {
		t.Fatalf("after two failed sweeps: %s/%s, %d failures", got.Status, got.Reason, got.ConsecutiveFailures)
	}
	if n := len(s.smtp.Messages()); n != 0 {
		t.Fatalf("the outage sent %d emails: %v", n, s.received())
	}
	s.inject("meta", avery, sandbox.FaultClear)
	s.advance(8 * time.Hour)
	s.sweep()
	if got := s.conn(c.ID); got.Status != models.StatusHealthy || got.UnreachableSince != nil {
		t.Fatalf("after the provider answered again: %s", got.Status)
	}
	if sent, failed := s.deliver(); sent+failed != 0 || len(s.smtp.Messages()) != 0 {
		t.Fatalf("the recovery sent %d (failed %d): %v", sent, failed, s.received())
	}
	if rows := s.outboxRows(); len(rows) != 0 {
		t.Fatalf("the outbox holds %d emails after a silent outage", len(rows))
	}
}

// TestRemindersArriveOnceBeforeFacebookExpiry: a Facebook token cannot be renewed without
// its person, so its admins hear of its end 7 and 3 days ahead, once each, however often
// the connection is checked meanwhile.
func TestRemindersArriveOnceBeforeFacebookExpiry(t *testing.T) {
	s := newStack(t)
	c := s.connect("meta", avery)
	const subject = "The Facebook connection of Bluebird Bakery expires in %d days"
	steps := []struct {
		name    string
		advance time.Duration
		// want counts the reminders each recipient has received so far, by subject.
		want map[string]int
	}{
		{name: "53 days in: the 7-day reminder", advance: 53 * day, want: map[string]int{fmt.Sprintf(subject, 7): 1}},
		{name: "an hour later: nothing new", advance: time.Hour, want: map[string]int{fmt.Sprintf(subject, 7): 1}},
		{name: "57 days in: the 3-day reminder", advance: 4 * day, want: map[string]int{fmt.Sprintf(subject, 7): 1, fmt.Sprintf(subject, 3): 1}},
		{name: "an hour later: still nothing new", advance: time.Hour, want: map[string]int{fmt.Sprintf(subject, 7): 1, fmt.Sprintf(subject, 3): 1}},
	}
	for _, step := range steps {
		s.advance(step.advance)
		if st := s.sweep(); st.Checked != 1 {
			t.Fatalf("%s: sweep %+v, want the connection checked", step.name, st)
		}
		if _, failed := s.deliver(); failed != 0 {
			t.Fatalf("%s: %d emails failed", step.name, failed)
		}
		got := map[string]map[string]int{}
		for _, m := range s.smtp.Messages() {
			for _, to := range m.To {
				if got[to] == nil {
					got[to] = map[string]int{}
				}
				got[to][m.Subject()]++
			}
		}
		if len(got) != len(told) {
			t.Fatalf("%s: emails went to %v, want %v", step.name, got, told)
		}
		for to := range told {
			if !maps.Equal(got[to], step.want) {
				t.Fatalf("%s: %s received %v, want %v", step.name, to, got[to], step.want)
			}
		}
	}
	if got := s.conn(c.ID); got.Status != models.StatusExpiring {
		t.Fatalf("three days before the end: %s, want expiring", got.Status)
	}
	for _, m := range s.smtp.Messages() {
		link := fmt.Sprintf("%s/accounts/%d/connections/%d/reauthenticate", relinkURL, s.sub.ID, c.ID)
		if !strings.Contains(m.Text, link) || !strings.Contains(html.UnescapeString(m.HTML), link) {
			t.Errorf("reminder %q to %v lacks the Reauthenticate link", m.Subject(), m.To)
		}
	}
}

// TestTwoReplicasRenewALinkedInTokenOnce: LinkedIn rotates refresh tokens, so a token
// renewed twice is a connection lost. Two Relink processes sweeping the same database at
// once, directly or through River, renew it exactly once, and the renewed token works.
func TestTwoReplicasRenewALinkedInTokenOnce(t *testing.T) {
	tests := []struct {
		name string
		// run sweeps the stack with two replicas at once, and returns when they are done.
		run func(t *testing.T, s *stack)
	}{
		{name: "two services sweep at once", run: func(t *testing.T, s *stack) {
			replicas := []*connection.Service{s.svc, s.replica()}
			var wg sync.WaitGroup
			errs := make([]error, len(replicas))
			start := make(chan struct{})
			for i, svc := range replicas {
				wg.Go(func() {
					<-start
					_, errs[i] = svc.Sweep(s.ctx)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("replica %d: sweep: %v", i, err)
				}
			}
		}},
		{name: "two River runners sweep at once", run: func(t *testing.T, s *stack) {
			var runners []*jobs.Runner
			var stops []func()
			for i, svc := range []*connection.Service{s.svc, s.replica()} {
				r, stop := s.newRunner(jobs.Config{Service: svc, HealthEvery: time.Hour,
					PollEvery: 200 * time.Millisecond, ID: fmt.Sprintf("replica-%d", i)})
				runners, stops = append(runners, r), append(stops, stop)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2*len(runners))
			for i, r := range runners {
				wg.Go(func() {
					if errs[2*i] = r.Start(s.ctx); errs[2*i] == nil {
						errs[2*i+1] = r.SweepNow(s.ctx)
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			s.eventually(20*time.Second, func() bool {
				return len(s.history(models.EventTokenRenewed)) > 0
			}, func() string { return fmt.Sprintf("no sweep renewed the token; River's jobs %v", s.jobStates()) })
			s.eventually(20*time.Second, func() bool {
				byState, err := s.store.System().CountJobs(s.ctx)
				if err != nil {
					t.Fatal(err)
				}
				total := int64(0)
				for _, n := range byState {
					total += n
				}
				return total > 0 && byState["completed"] == total
			}, func() string { return fmt.Sprintf("sweeps still waiting or running: %v", s.jobStates()) })
			for _, stop := range stops {
				stop()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t)
			c := s.connect("linkedin", dana)
			s.advance(55 * day)
			s.sb.ResetCalls()
			tt.run(t, s)
			if n := s.sb.CallsTo("linkedin", "POST /oauth/v2/accessToken refresh_token"); n != 1 {
				t.Fatalf("%d refresh-token calls, want exactly 1: %+v", n, s.sb.Calls())
			}
			got := s.conn(c.ID)
			if got.Status != models.StatusHealthy || got.TokenExpiresAt == nil || got.TokenExpiresAt.Sub(s.store.Now()) < 50*day {
				t.Fatalf("after the renewal: %s/%s, expires %v", got.Status, got.Reason, got.TokenExpiresAt)
			}
			if n := len(s.history(models.EventTokenRenewed)); n != 1 {
				t.Fatalf("%d token_renewed events, want 1", n)
			}
			res, err := s.svc.Check(s.ctx, s.bluebird, c.ID)
			if err != nil || res.Problem != nil {
				t.Fatalf("a check with the renewed token: %v, problem %v", err, res.Problem)
			}
			if n := s.sb.CallsTo("linkedin", "POST /oauth/v2/accessToken refresh_token"); n != 1 {
				t.Fatalf("the check renewed again: %d refresh-token calls", n)
			}
			if n := len(s.smtp.Messages()); n != 0 {
				t.Fatalf("a renewal sent %d emails", n)
			}
		})
	}
}

// history is Bluebird Bakery's history events of one kind.
func (s *stack) history(kind string) []models.HistoryRow {
	s.t.Helper()
	rows, _, err := s.store.History(s.ctx, s.sub.ID, models.HistoryQuery{Kind: kind, Limit: 200})
	if err != nil {
		s.t.Fatal(err)
	}
	return rows
}

// TestEmailsWaitOutAMailServerOutage: the incident email of a connection that broke while
// the mail server refused mail stays in the outbox, counted and scheduled for a retry, and
// arrives exactly once per recipient when the server takes mail again.
func TestEmailsWaitOutAMailServerOutage(t *testing.T) {
	s := newStack(t)
	c := s.connect("meta", avery)
	s.smtp.Fail(451)
	s.inject("meta", avery, "password_changed")
	s.advance(time.Hour)
	s.sweep()
	if got := s.conn(c.ID); got.Status != models.StatusReauthRequired {
		t.Fatalf("after the sweep: %s", got.Status)
	}
	if sent, failed := s.deliver(); sent != 0 || failed != len(told) {
		t.Fatalf("with the server refusing: sent %d, failed %d; want 0, %d", sent, failed, len(told))
	}
	if n := len(s.smtp.Messages()); n != 0 {
		t.Fatalf("the refusing server accepted %d messages", n)
	}
	rows := s.outboxRows()
	if len(rows) != len(told) {
		t.Fatalf("%d outbox rows, want %d", len(rows), len(told))
	}
	for _, e := range rows {
		if e.Status != models.EmailPending || e.Attempts != 1 || !e.SendAfter.After(s.store.Now()) || !strings.Contains(e.LastError, "451") {
			t.Errorf("%s after a refusal: status %s, attempts %d, retry at %v (now %v), last error %q",
				e.ToAddress, e.Status, e.Attempts, e.SendAfter, s.store.Now(), e.LastError)
		}
	}
	// Retried before its time, nothing is tried.
	if sent, failed := s.deliver(); sent+failed != 0 {
		t.Fatalf("before the retry time: sent %d, failed %d", sent, failed)
	}

	s.smtp.Recover()
	s.advance(2 * time.Minute) // the first retry waits a minute at most
	if sent, failed := s.deliver(); sent != len(told) || failed != 0 {
		t.Fatalf("after the server recovered: sent %d, failed %d; want %d, 0", sent, failed, len(told))
	}
	s.advance(time.Hour)
	s.deliver()
	if got := s.received(); !maps.Equal(got, told) {
		t.Fatalf("the server got %v, want %v", got, told)
	}
	for _, e := range s.outboxRows() {
		if e.Status != models.EmailSent || e.Attempts != 1 {
			t.Errorf("%s: status %s after %d failed attempts", e.ToAddress, e.Status, e.Attempts)
		}
	}
}

// TestAFacebookOutageIsOneIncidentAndNoEmail: when Facebook stops answering for everyone,
// the sweep opens one provider incident instead of flagging each connection, nobody is
// emailed, and once Facebook answers the incident closes and every connection is healthy.
func TestAFacebookOutageIsOneIncidentAndNoEmail(t *testing.T) {
	s := newStack(t)
	var ids []int64
	for _, user := range []string{avery, blake, casey} {
		ids = append(ids, s.connect("meta", user).ID)
	}
	s.inject("meta", "*", "provider_unavailable")
	s.advance(time.Hour)
	st := s.sweep()
	if len(st.IncidentsOpened) != 1 || st.IncidentsOpened[0] != "meta" {
		t.Fatalf("incidents opened %v (%+v), want meta", st.IncidentsOpened, st)
	}
	open, err := s.store.OpenIncidents(s.ctx)
	if err != nil || len(open) != 1 || open[0].Provider != "meta" {
		t.Fatalf("open incidents %+v (%v), want one of meta", open, err)
	}
	for _, id := range ids {
		got := s.conn(id)
		if got.Status == models.StatusReauthRequired || got.IncidentID == nil || *got.IncidentID != open[0].ID {
			t.Errorf("connection %d in the outage: %s, incident %v", id, got.Status, got.IncidentID)
		}
	}
	if sent, failed := s.deliver(); sent+failed != 0 || len(s.smtp.Messages()) != 0 {
		t.Fatalf("the outage sent %d emails (failed %d)", sent, failed)
	}

	s.inject("meta", "*", sandbox.FaultClear)
	s.advance(8 * time.Hour)
	st = s.sweep()
	if len(st.IncidentsClosed) != 1 || st.IncidentsClosed[0] != "meta" {
		t.Fatalf("incidents closed %v (%+v), want meta", st.IncidentsClosed, st)
	}
	if open, err := s.store.OpenIncidents(s.ctx); err != nil || len(open) != 0 {
		t.Fatalf("still open after Facebook answered: %+v (%v)", open, err)
	}
	if in, err := s.store.Incident(s.ctx, open[0].ID); err != nil || in.EndedAt == nil {
		t.Fatalf("incident %d not ended: %+v (%v)", open[0].ID, in, err)
	}
	for _, id := range ids {
		if got := s.conn(id); got.Status != models.StatusHealthy {
			t.Errorf("connection %d after the outage: %s/%s", id, got.Status, got.Reason)
		}
	}
	if sent, failed := s.deliver(); sent+failed != 0 || len(s.smtp.Messages()) != 0 {
		t.Fatalf("the end of the outage sent %d emails (failed %d)", sent, failed)
	}
}

// TestRiverSweepsAndMailsOnItsOwn: started as serve starts it, the runner sweeps at once,
// and the sweep's kick makes River deliver the incident email promptly, well before the
// outbox's own schedule (30 s), once to each recipient.
func TestRiverSweepsAndMailsOnItsOwn(t *testing.T) {
	s := newStack(t)
	c := s.connect("meta", avery)
	s.advance(time.Hour)
	s.inject("meta", avery, "password_changed")
	r, stop := s.newRunner(jobs.Config{Service: s.svc, Outbox: s.outbox, HealthEvery: time.Hour,
		PollEvery: 200 * time.Millisecond, ID: "serve"})
	s.runner.Store(r)
	started := time.Now()
	if err := r.Start(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.eventually(20*time.Second, func() bool { return len(s.smtp.Messages()) >= len(told) }, func() string {
		return fmt.Sprintf("the incident emails did not arrive; the outbox holds %s; River's jobs %v", s.outboxSummary(), s.jobStates())
	})
	t.Logf("the emails arrived %s after the runner started", time.Since(started).Round(time.Millisecond))
	time.Sleep(time.Second) // time enough for a second copy, were one on its way
	stop()
	if got := s.received(); !maps.Equal(got, told) {
		t.Fatalf("the server got %v, want %v", got, told)
	}
	if got := s.conn(c.ID); got.Status != models.StatusReauthRequired || got.Reason != providers.ReasonPasswordChanged {
		t.Fatalf("after River's sweep: %s/%s", got.Status, got.Reason)
	}
	for _, m := range s.smtp.Messages() {
		if !strings.HasPrefix(m.Subject(), "Action needed: the Facebook connection of Bluebird Bakery") {
			t.Errorf("to %v: subject %q", m.To, m.Subject())
		}
	}
}

// gatedOutbox is the real outbox whose first delivery run, once it has looked for due
// emails, waits until the test lets it finish: what a run that is still sending, or
// that River has not yet marked completed, looks like to a kick.
type gatedOutbox struct {
	*notify.Outbox
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gatedOutbox) DeliverDue(ctx context.Context, limit int) (int, int, error) {
	sent, failed, err := g.Outbox.DeliverDue(ctx, limit)
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return sent, failed, err
}

// TestAKickDuringADeliveryRunIsNotLost: an incident email queued while a delivery run is
// under way (it has already looked for due emails) is still sent promptly. The kick that
// follows the sweep's commit must not be swallowed by the run in progress, or the email
// waits for the outbox's next scheduled run (30 s by default, here an hour).
func TestAKickDuringADeliveryRunIsNotLost(t *testing.T) {
	s := newStack(t)
	c := s.connect("meta", avery)
	gate := &gatedOutbox{Outbox: s.outbox, entered: make(chan struct{}), release: make(chan struct{})}
	r, stop := s.newRunner(jobs.Config{Service: s.svc, Outbox: gate, HealthEvery: time.Hour, OutboxEvery: time.Hour,
		PollEvery: 200 * time.Millisecond, ID: "serve"})
	s.runner.Store(r)
	released := false
	defer func() {
		if !released {
			close(gate.release)
		}
	}()
	if err := r.Start(s.ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gate.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the outbox's run on start never came")
	}
	// The sweep River ran on start found nothing due; let it finish before the fault.
	s.eventually(20*time.Second, func() bool { return s.jobsIn("health_sweep", "completed") == 1 },
		func() string { return fmt.Sprintf("the sweep on start did not complete: %v", s.jobStates()) })
	s.advance(time.Hour)
	s.inject("meta", avery, "password_changed")
	s.sweep() // commits the incident email, then kicks
	if got := s.conn(c.ID); got.Status != models.StatusReauthRequired {
		t.Fatalf("after the sweep: %s", got.Status)
	}
	close(gate.release)
	released = true
	s.eventually(10*time.Second, func() bool { return len(s.smtp.Messages()) >= len(told) }, func() string {
		return fmt.Sprintf("the incident emails were not sent after the kick; the outbox holds %s; River's jobs %v",
			s.outboxSummary(), s.jobStates())
	})
	stop()
	if got := s.received(); !maps.Equal(got, told) {
		t.Fatalf("the server got %v, want %v", got, told)
	}
}

// jobsIn counts River's jobs of kind in state.
func (s *stack) jobsIn(kind, state string) int {
	s.t.Helper()
	var n int
	// Literals, not placeholders: the same text runs on SQLite and PostgreSQL.
	q := fmt.Sprintf("SELECT COUNT(*) FROM river_job WHERE kind = '%s' AND state = '%s'", kind, state)
	if err := s.store.SQLDB().QueryRowContext(s.ctx, q).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// jobStates lists River's jobs as "kind:state", for failure messages.
func (s *stack) jobStates() []string {
	s.t.Helper()
	rows, err := s.store.SQLDB().QueryContext(s.ctx, "SELECT kind, state FROM river_job ORDER BY id")
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, state string
		if err := rows.Scan(&kind, &state); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, kind+":"+state)
	}
	return out
}

// outboxSummary is the outbox in a line, for failure messages.
func (s *stack) outboxSummary() string {
	var parts []string
	for _, e := range s.outboxRows() {
		parts = append(parts, fmt.Sprintf("%s %s to %s (attempts %d)", e.Kind, e.Status, e.ToAddress, e.Attempts))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}
