package connection_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/sandbox"
)

const (
	blake = "10000000000002"
	casey = "10000000000003"
)

// notices is a Notifier that keeps what it was asked, once per incident, as the outbox's
// dedupe key does.
type notices struct {
	mu    sync.Mutex
	seen  map[string]bool
	got   []connection.Notice
	kicks int
}

func (n *notices) key(x connection.Notice) string {
	return fmt.Sprintf("%s:%d:%d:%s:%d", x.Kind, x.Connection.ID, x.Since.Unix(), x.Clock, x.DaysLeft)
}

func (n *notices) Queue(_ context.Context, _ *models.Store, x connection.Notice) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	if n.seen[n.key(x)] {
		return 0, nil
	}
	n.seen[n.key(x)] = true
	n.got = append(n.got, x)
	return 1, nil
}

func (n *notices) Sent(_ context.Context, _ *models.Store, c models.Connection, since time.Time) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range n.got {
		if x.Connection.ID == c.ID && x.Since.Equal(since) && (x.Kind == connection.NoticeIncident || x.Kind == connection.NoticeUnreachable) {
			return true, nil
		}
	}
	return false, nil
}

func (n *notices) Kick(context.Context) {
	n.mu.Lock()
	n.kicks++
	n.mu.Unlock()
}

func (n *notices) kinds() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.got {
		s := string(x.Kind)
		if x.Kind == connection.NoticeReminder {
			s += fmt.Sprintf(":%d", x.DaysLeft)
		}
		out = append(out, s)
	}
	return out
}

// healthWorld is a world whose service has a notifier.
func healthWorld(t *testing.T) (*world, *notices) {
	t.Helper()
	w := newWorld(t)
	n := &notices{}
	w.svc = w.withConfig(func(c *connection.Config) { c.Notifier = n })
	return w, n
}

func (w *world) sweep() connection.SweepStats {
	w.t.Helper()
	st, err := w.svc.Sweep(w.ctx)
	if err != nil {
		w.t.Fatalf("sweep: %v", err)
	}
	return st
}

// due makes every connection due now, as the passing of the check interval would.
func (w *world) due() {
	w.t.Helper()
	w.sb.Clock().Advance(connection.DefaultCheckEvery * 2)
}

func (w *world) conn(id int64) models.Connection {
	w.t.Helper()
	c, err := w.store.Connection(w.ctx, w.tenant.SubAccountID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) inject(provider, user, fault string) {
	w.t.Helper()
	if err := w.sb.Inject(sandbox.FaultRequest{Provider: provider, User: user, Fault: fault}); err != nil {
		w.t.Fatal(err)
	}
}

func TestSweepFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      string
		wantStatus models.Status
		wantReason providers.Reason
		wantEmail  bool
	}{
		{name: "password changed", fault: "password_changed", wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonPasswordChanged, wantEmail: true},
		{name: "app removed", fault: "app_removed", wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonAppRemoved, wantEmail: true},
		{name: "security checkpoint", fault: "security_checkpoint", wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonSecurityCheckpoint, wantEmail: true},
		{name: "logged out", fault: "session_invalidated", wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonSessionInvalidated, wantEmail: true},
		{name: "token expired", fault: "token_expired", wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonTokenExpired, wantEmail: true},
		{name: "permission unticked", fault: "missing_permission", wantStatus: models.StatusPermissionsMissing, wantReason: providers.ReasonMissingPermission, wantEmail: true},
		{name: "provider down is degraded, never expired", fault: "provider_unavailable", wantStatus: models.StatusDegraded, wantReason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, n := healthWorld(t)
			c := w.connectAll(w.tenant, "meta", avery)
			w.due()
			w.inject("meta", avery, tt.fault)
			st := w.sweep()
			if st.Checked != 1 {
				t.Fatalf("sweep checked %d, want 1 (%+v)", st.Checked, st)
			}
			got := w.conn(c.ID)
			if got.Status != tt.wantStatus || got.Reason != tt.wantReason {
				t.Fatalf("status %s/%s, want %s/%s", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
			}
			if len(got.AccessToken) == 0 {
				t.Fatal("the token was dropped")
			}
			wantKinds := []string(nil)
			if tt.wantEmail {
				wantKinds = []string{"incident"}
			}
			if k := n.kinds(); !slices.Equal(k, wantKinds) {
				t.Fatalf("notices %v, want %v", k, wantKinds)
			}
			// Checked again: no new email, no new history event.
			before := len(w.events(""))
			w.due()
			w.sweep()
			if k := n.kinds(); !slices.Equal(k, wantKinds) {
				t.Fatalf("second sweep: notices %v, want %v", k, wantKinds)
			}
			if after := len(w.events("")); after != before {
				t.Fatalf("second sweep of an unchanged connection wrote %d events", after-before)
			}
		})
	}
}

func TestHealthyConnectionIsQuiet(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	before := len(w.events(""))
	for range 3 {
		w.due()
		w.sweep()
	}
	if after := len(w.events("")); after != before {
		t.Fatalf("three sweeps of a healthy connection wrote %d events", after-before)
	}
	got := w.conn(c.ID)
	if got.Status != models.StatusHealthy || got.LastCheckedAt == nil || got.NextCheckAt == nil || !got.NextCheckAt.After(*got.LastCheckedAt) {
		t.Fatalf("after sweeps: %+v", got)
	}
	if len(n.kinds()) != 0 {
		t.Fatalf("notices %v", n.kinds())
	}
}

func TestOutageAcrossSweepsIsDegradedAndRecoversSilently(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	w.inject("meta", avery, "provider_unavailable")
	for range 2 {
		w.sb.Clock().Advance(8 * time.Hour) // past the longest backoff, 6 h plus 20 % jitter
		w.sweep()
	}
	got := w.conn(c.ID)
	if got.Status != models.StatusDegraded || got.ConsecutiveFailures != 2 || got.UnreachableSince == nil {
		t.Fatalf("after two failed sweeps: status %s, failures %d", got.Status, got.ConsecutiveFailures)
	}
	if k := n.kinds(); len(k) != 0 {
		t.Fatalf("an outage sent %v", k)
	}
	w.inject("meta", avery, sandbox.FaultClear)
	w.sb.Clock().Advance(8 * time.Hour)
	w.sweep()
	if got := w.conn(c.ID); got.Status != models.StatusHealthy || got.UnreachableSince != nil {
		t.Fatalf("after recovery: %s", got.Status)
	}
	if k := n.kinds(); len(k) != 0 {
		t.Fatalf("recovery sent %v", k)
	}
}

func TestLongOutageSendsOneUnreachableNoticeNeverExpired(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	w.inject("meta", avery, "provider_unavailable")
	for range 16 { // 16 × 6 h = 4 days
		w.sb.Clock().Advance(6*time.Hour + time.Minute)
		w.sweep()
	}
	if k := n.kinds(); !slices.Equal(k, []string{"unreachable"}) {
		t.Fatalf("notices %v, want one unreachable", k)
	}
	if got := w.conn(c.ID); got.Status != models.StatusDegraded {
		t.Fatalf("status %s", got.Status)
	}
	w.inject("meta", avery, sandbox.FaultClear)
	w.sb.Clock().Advance(8 * time.Hour)
	w.sweep()
	if k := n.kinds(); !slices.Equal(k, []string{"unreachable", "reconnected"}) {
		t.Fatalf("notices %v, want unreachable then reconnected", k)
	}
}

func TestRecoveryOfAnEmailedIncidentSendsReconnected(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	w.inject("meta", avery, "missing_permission")
	w.due()
	w.sweep()
	w.inject("meta", avery, sandbox.FaultClear)
	w.sb.Clock().Advance(2 * oneHour) // a connection that needs action is checked less often
	w.sweep()
	if got := w.conn(c.ID); got.Status != models.StatusHealthy {
		t.Fatalf("status %s", got.Status)
	}
	if k := n.kinds(); !slices.Equal(k, []string{"incident", "reconnected"}) {
		t.Fatalf("notices %v", k)
	}
}

func TestRemindersBeforeMetaExpiry(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	w.sb.Clock().Advance(53 * oneDay)
	w.sweep()
	w.sb.Clock().Advance(oneHour)
	w.sweep()
	if k := n.kinds(); !slices.Equal(k, []string{"reminder:7"}) {
		t.Fatalf("after 53 days: %v", k)
	}
	if got := w.conn(c.ID); got.Status != models.StatusExpiring {
		t.Fatalf("status %s, want expiring", got.Status)
	}
	w.sb.Clock().Advance(4 * oneDay)
	w.sweep()
	w.sb.Clock().Advance(oneHour)
	w.sweep()
	if k := n.kinds(); !slices.Equal(k, []string{"reminder:7", "reminder:3"}) {
		t.Fatalf("after 57 days: %v", k)
	}
	w.sb.Clock().Advance(4 * oneDay)
	w.sweep()
	if got := w.conn(c.ID); got.Status != models.StatusReauthRequired || got.Reason != providers.ReasonTokenExpired {
		t.Fatalf("after 61 days: %s/%s", got.Status, got.Reason)
	}
}

func TestLinkedInRenewsOnceUnderTwoWorkers(t *testing.T) {
	w, _ := healthWorld(t)
	c := w.connectAll(w.tenant, "linkedin", dana)
	w.sb.Clock().Advance(55 * oneDay)
	w.sb.ResetCalls()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := w.svc.Renew(w.ctx, w.tenant, c.ID)
			if err != nil && !errors.Is(err, connection.ErrBusy) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A sweep right after finds nothing left to renew.
	w.sweep()
	if n := w.sb.CallsTo("linkedin", "POST /oauth/v2/accessToken refresh_token"); n != 1 {
		t.Fatalf("refresh calls: %d, want 1 (%v)", n, w.sb.Calls())
	}
	got := w.conn(c.ID)
	if got.Status != models.StatusHealthy || got.TokenExpiresAt == nil || got.TokenExpiresAt.Sub(w.store.Now()) < 50*oneDay {
		t.Fatalf("after renewal: %s, expires %v", got.Status, got.TokenExpiresAt)
	}
	if len(w.events(models.EventTokenRenewed)) != 1 {
		t.Fatalf("renewed events: %d", len(w.events(models.EventTokenRenewed)))
	}
}

func TestAppRemovedFlagsEveryConnectionOfTheUser(t *testing.T) {
	w, n := healthWorld(t)
	a := w.connectAll(w.tenant, "meta", avery)
	b := w.connectAll(w.other, "meta", avery)
	other := w.connectAll(w.tenant, "meta", casey)
	changed, err := w.svc.AppRemoved(w.ctx, "meta", avery, w.store.Now(), "test")
	if err != nil || changed != 2 {
		t.Fatalf("AppRemoved: %d, %v", changed, err)
	}
	for _, tc := range []struct {
		sub, id int64
		want    models.Status
	}{{w.tenant.SubAccountID, a.ID, models.StatusReauthRequired}, {w.other.SubAccountID, b.ID, models.StatusReauthRequired},
		{w.tenant.SubAccountID, other.ID, models.StatusHealthy}} {
		got, err := w.store.Connection(w.ctx, tc.sub, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tc.want {
			t.Errorf("connection %d: %s, want %s", tc.id, got.Status, tc.want)
		}
	}
	if k := n.kinds(); !slices.Equal(k, []string{"incident", "incident"}) {
		t.Fatalf("notices %v", k)
	}
	// Said twice (Meta retries), nothing more happens.
	if changed, _ := w.svc.AppRemoved(w.ctx, "meta", avery, w.store.Now(), "test"); changed != 0 {
		t.Fatalf("second callback changed %d", changed)
	}
}

func TestProviderIncident(t *testing.T) {
	w, n := healthWorld(t)
	ids := []int64{w.connectAll(w.tenant, "meta", avery).ID, w.connectAll(w.tenant, "meta", blake).ID, w.connectAll(w.tenant, "meta", casey).ID}
	w.inject("meta", "*", "provider_unavailable")
	w.due()
	st := w.sweep()
	if !slices.Equal(st.IncidentsOpened, []string{"meta"}) {
		t.Fatalf("incidents opened %v (%+v)", st.IncidentsOpened, st)
	}
	open, err := w.store.OpenIncidents(w.ctx)
	if err != nil || len(open) != 1 {
		t.Fatalf("open incidents %v %v", open, err)
	}
	for _, id := range ids {
		if got := w.conn(id); got.Status == models.StatusReauthRequired || got.IncidentID == nil {
			t.Fatalf("connection %d: %s incident %v", id, got.Status, got.IncidentID)
		}
	}
	// A second sweep in the incident only probes, and says nothing new.
	events := len(w.events(""))
	w.sb.Clock().Advance(8 * time.Hour)
	w.sweep()
	if len(w.events("")) != events {
		t.Fatalf("a sweep in the incident wrote %d events", len(w.events(""))-events)
	}
	if len(n.kinds()) != 0 {
		t.Fatalf("notices %v", n.kinds())
	}
	w.inject("meta", "*", sandbox.FaultClear)
	w.sb.Clock().Advance(8 * time.Hour)
	st = w.sweep()
	if !slices.Equal(st.IncidentsClosed, []string{"meta"}) {
		t.Fatalf("incidents closed %v (%+v)", st.IncidentsClosed, st)
	}
	for _, id := range ids {
		if got := w.conn(id); got.Status != models.StatusHealthy {
			t.Fatalf("connection %d after the incident: %s", id, got.Status)
		}
	}
	if len(w.events(models.EventProviderIncident)) != 3 {
		t.Fatalf("incident events: %d, want one per connection", len(w.events(models.EventProviderIncident)))
	}
}

func TestLinkedInChecks(t *testing.T) {
	tests := []struct {
		name       string
		fault      string
		advance    time.Duration
		wantStatus models.Status
		wantReason providers.Reason
	}{
		{name: "member endpoint refuses a revoked token", fault: "app_removed", advance: time.Hour,
			wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonAppRemoved},
		{name: "renewal refused", fault: "refresh_token_invalid", advance: 55 * oneDay,
			wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonRefreshTokenInvalid},
		{name: "LinkedIn down", fault: "provider_unavailable", advance: time.Hour,
			wantStatus: models.StatusDegraded, wantReason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, n := healthWorld(t)
			c := w.connectAll(w.tenant, "linkedin", dana)
			w.inject("linkedin", dana, tt.fault)
			w.sb.Clock().Advance(tt.advance)
			w.sweep()
			got := w.conn(c.ID)
			if got.Status != tt.wantStatus || got.Reason != tt.wantReason {
				t.Fatalf("status %s/%s, want %s/%s", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
			}
			if len(got.RefreshToken) == 0 || len(got.AccessToken) == 0 {
				t.Fatal("a token was dropped")
			}
			wantNotices := 1
			if tt.wantStatus == models.StatusDegraded {
				wantNotices = 0
			}
			if len(n.kinds()) != wantNotices {
				t.Fatalf("notices %v", n.kinds())
			}
		})
	}
}

func TestSweepWaitsOutARateLimit(t *testing.T) {
	w, _ := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	w.due()
	until := w.store.Now().Add(time.Hour)
	if err := w.store.ProviderLimits("meta").Record(w.ctx, map[string]int{"app": 100}, map[string]time.Time{"app": until}); err != nil {
		t.Fatal(err)
	}
	w.sb.ResetCalls()
	st := w.sweep()
	if st.Checked != 0 || st.Skipped != 1 {
		t.Fatalf("sweep under a rate limit: %+v", st)
	}
	if n := w.sb.CallsTo("meta", "GET /debug_token"); n != 0 {
		t.Fatalf("%d debug_token calls while paused", n)
	}
	if got := w.conn(c.ID); got.Status != models.StatusHealthy {
		t.Fatalf("a rate limit of the app changed the connection to %s", got.Status)
	}
	w.sb.Clock().Advance(2 * time.Hour)
	if err := w.store.ProviderLimits("meta").Record(w.ctx, map[string]int{"app": 10}, nil); err != nil {
		t.Fatal(err)
	}
	if st := w.sweep(); st.Checked != 1 {
		t.Fatalf("sweep after the pause: %+v", st)
	}
}

// reauthenticate runs the dialog again for connection id as provider user, keeping its assets.
func (w *world) reauthenticate(provider, user string, id int64) models.Connection {
	w.t.Helper()
	flow := w.authorize(w.tenant, provider, user, models.IntentReauthenticate, id)
	pk, err := w.svc.Pending(w.ctx, w.tenant, w.user, flow)
	if err != nil {
		w.t.Fatal(err)
	}
	var keys []string
	for _, c := range pk.Choices {
		if c.Selected {
			keys = append(keys, c.Key)
		}
	}
	c, err := w.svc.Connect(w.ctx, w.tenant, w.user, flow, keys)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func TestLateDeauthorizeCallbackSparesANewGrant(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	removedAt := w.store.Now()
	if _, err := w.svc.AppRemoved(w.ctx, "meta", avery, removedAt, "callback"); err != nil {
		t.Fatal(err)
	}
	w.sb.Clock().Advance(time.Hour)
	if got := w.reauthenticate("meta", avery, c.ID); got.Status != models.StatusHealthy {
		t.Fatalf("after reauthenticating: %s", got.Status)
	}
	// Meta retries the callback, or someone replays it.
	if changed, err := w.svc.AppRemoved(w.ctx, "meta", avery, removedAt, "replay"); err != nil || changed != 0 {
		t.Fatalf("a replayed callback changed %d (%v)", changed, err)
	}
	if k := n.kinds(); !slices.Equal(k, []string{"incident", "reconnected"}) {
		t.Fatalf("notices %v", k)
	}
}

// TestCheckDoesNotClearWhatItCannotSee: a policy block seen by an asset call is not
// cleared by a token that still works, nor does it earn a "reconnected" email.
func TestCheckDoesNotClearWhatItCannotSee(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	asset := w.assetByExternal(c.ID, "act_200000000000001")
	w.inject("meta", avery, "policy_blocked")
	if res, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID); err != nil || res.Connection.Status != models.StatusBlocked {
		t.Fatalf("refresh under a policy block: %v %v", err, res.Connection.Status)
	}
	w.sb.Clock().Advance(2 * oneHour)
	w.sweep()
	if got := w.conn(c.ID); got.Status != models.StatusBlocked {
		t.Fatalf("a check turned a blocked connection %s", got.Status)
	}
	if k := n.kinds(); !slices.Equal(k, []string{"incident"}) {
		t.Fatalf("notices %v", k)
	}
}

// TestOneIncidentAcrossTwoStatusesEndsWithReconnected: a permission unticked, then the
// password changed, then one reauthentication: one incident, one email, and the
// "works again" email that closes it.
func TestOneIncidentAcrossTwoStatusesEndsWithReconnected(t *testing.T) {
	w, n := healthWorld(t)
	c := w.connectAll(w.tenant, "meta", avery)
	w.inject("meta", avery, "missing_permission")
	w.due()
	w.sweep()
	w.inject("meta", avery, "password_changed")
	w.sb.Clock().Advance(2 * oneHour)
	w.sweep()
	if got := w.conn(c.ID); got.Status != models.StatusReauthRequired {
		t.Fatalf("after the password change: %s", got.Status)
	}
	w.sb.Clock().Advance(oneHour)
	if got := w.reauthenticate("meta", avery, c.ID); got.Status != models.StatusHealthy {
		t.Fatalf("after reauthenticating: %s", got.Status)
	}
	if k := n.kinds(); !slices.Equal(k, []string{"incident", "reconnected"}) {
		t.Fatalf("notices %v, want one incident and its reconnected", k)
	}
	if got := w.conn(c.ID); got.IncidentSince != nil {
		t.Fatalf("a working connection still dates an incident: %v", got.IncidentSince)
	}
}

// TestAnIncidentNothingFailsInEndsByItself: no connection left to probe it (all
// disconnected, or the provider taken out), a day later the banner goes.
func TestAnIncidentNothingFailsInEndsByItself(t *testing.T) {
	w, _ := healthWorld(t)
	if _, _, err := w.store.OpenIncident(w.ctx, "meta", "provider_unavailable", 3, w.store.Now()); err != nil {
		t.Fatal(err)
	}
	w.sb.Clock().Advance(time.Hour)
	if st := w.sweep(); len(st.IncidentsClosed) != 0 {
		t.Fatalf("an incident an hour old closed: %+v", st)
	}
	w.sb.Clock().Advance(oneDay)
	if st := w.sweep(); !slices.Equal(st.IncidentsClosed, []string{"meta"}) {
		t.Fatalf("a day without a failure: %+v", st)
	}
	if open, err := w.store.OpenIncidents(w.ctx); err != nil || len(open) != 0 {
		t.Fatalf("still open: %v %v", open, err)
	}
}
