package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// Health-check defaults; Config overrides each.
const (
	DefaultCheckEvery        = 15 * time.Minute
	DefaultRenewBefore       = 10 * 24 * time.Hour
	DefaultUnreachableNotice = 72 * time.Hour
	// maxBackoff caps the wait between checks of a connection whose provider does not answer.
	maxBackoff = 6 * time.Hour
	// deadCheckEvery is how often a connection that needs reauthentication is looked at:
	// its token cannot come back by itself, so checking it often only costs calls.
	deadCheckEvery = 24 * time.Hour
)

// ReminderDays are the days before a non-renewable expiry on which reminders go out.
var ReminderDays = []int{1, 3, 7}

// NeedsAction reports whether a status is one a person must act on: entering it sends
// the incident email.
func NeedsAction(s models.Status) bool {
	return s == models.StatusReauthRequired || s == models.StatusPermissionsMissing || s == models.StatusBlocked
}

// before is what a connection was before a change, for deciding which email it calls for.
type before struct {
	status           models.Status
	reason           providers.Reason
	statusChangedAt  time.Time
	unreachableSince time.Time
	incidentSince    time.Time
}

func beforeOf(c models.Connection) before {
	b := before{status: c.Status, reason: c.Reason}
	if c.StatusChangedAt != nil {
		b.statusChangedAt = *c.StatusChangedAt
	}
	if c.UnreachableSince != nil {
		b.unreachableSince = *c.UnreachableSince
	}
	// Rows from before incidents were dated fall back on the last change of status.
	b.incidentSince = b.statusChangedAt
	if c.IncidentSince != nil {
		b.incidentSince = *c.IncidentSince
	}
	return b
}

// outcome is what a check learned from the provider, before it is saved.
type outcome struct {
	info providers.TokenInfo
	// read is set when info is the provider's answer.
	read bool
	// problem is the classified failure; nil when the token is valid and answered.
	problem *providers.Error
	// asked is when the provider was asked: a status changed after it (a deauthorize
	// callback, a refresh) knows better than this answer, which is dropped.
	asked time.Time
}

// Check asks the provider about one connection of t's sub-account now (the "Check now"
// action): renews a refresh-token connection first when it is due, inspects the token
// (validity, both expiry clocks, scopes, the assets it still reaches) and saves what it
// learned, with a history event only when something changed. Another check or refresh of
// the same connection in progress is ErrBusy.
func (s *Service) Check(ctx context.Context, t Tenant, connectionID int64) (Result, error) {
	return s.withConnection(ctx, t, connectionID, true, func(conn models.Connection, p providers.Provider, tok providers.Token) (Result, error) {
		res, err := s.checkLeased(ctx, t, conn, p, tok)
		if err == nil {
			s.countCheck(conn.Provider, res.Problem)
		}
		return res, err
	})
}

// countCheck counts one check by its outcome: "ok", "transient" or "action".
func (s *Service) countCheck(provider string, pe *providers.Error) {
	if s.metrics == nil {
		return
	}
	switch {
	case pe == nil:
		s.metrics.Checked(provider, "ok")
		return
	case pe.Reason.Transient():
		s.metrics.Checked(provider, "transient")
	default:
		s.metrics.Checked(provider, "action")
	}
	s.metrics.ProviderError(provider, pe.Reason)
}

// errRateLimited: checkLeasedWith was asked to keep a rate limit to itself and met one.
var errRateLimited = errors.New("connection: the provider is rate-limiting the app")

// checkLeased checks a connection whose lease the caller holds.
func (s *Service) checkLeased(ctx context.Context, t Tenant, conn models.Connection, p providers.Provider, tok providers.Token) (Result, error) {
	return s.checkLeasedWith(ctx, t, conn, p, tok, false)
}

// checkLeasedWith is checkLeased; with holdRateLimit (the sweep), a rate limit is returned
// as errRateLimited with the problem in Result, unsaved: the sweep stops asking the
// provider rather than marking every connection it reaches degraded.
func (s *Service) checkLeasedWith(ctx context.Context, t Tenant, conn models.Connection, p providers.Provider, tok providers.Token, holdRateLimit bool) (Result, error) {
	if s.renewalDue(tok) {
		renewed, rconn, res, err := s.renewLeased(ctx, t, conn, p, tok)
		if err != nil || res.Problem != nil {
			return res, err
		}
		conn, tok = rconn, renewed
	}
	inspect := p.InspectToken
	if tc, ok := p.(TokenChecker); ok {
		inspect = tc.CheckToken
	}
	asked := s.now()
	info, callErr := inspect(ctx, tok)
	if providers.IsCanceled(callErr) {
		return Result{}, callErr
	}
	out := outcome{info: info, read: callErr == nil, asked: asked}
	if callErr != nil {
		out.problem = p.Classify(callErr)
	} else if !info.Valid {
		out.problem = info.Problem
	}
	if holdRateLimit && out.problem != nil && out.problem.Reason == providers.ReasonRateLimited {
		return Result{Problem: out.problem}, errRateLimited
	}
	var res Result
	queued := 0
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		var err error
		res, queued, err = s.applyCheck(ctx, tx, t, conn.AccessToken, conn.ID, out, nil)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	s.kick(ctx, queued)
	return res, nil
}

// applyCheck saves one check's outcome on connection id, inside tx. sealed is the token
// ciphertext the check used: when the row holds another one now (reauthenticated or
// renewed meanwhile), the outcome is about a token that is gone and is dropped. assets are
// the connection's selected assets when the caller loaded them in bulk; nil loads them.
func (s *Service) applyCheck(ctx context.Context, tx *models.Store, t Tenant, sealed []byte, id int64, out outcome, assets []models.Asset) (Result, int, error) {
	conn, err := tx.ConnectionForUpdate(ctx, t.SubAccountID, id)
	if err != nil {
		return Result{}, 0, err
	}
	if conn.Status == models.StatusDisconnected {
		return Result{Connection: conn}, 0, ErrDisconnected
	}
	if !bytes.Equal(conn.AccessToken, sealed) {
		return Result{Connection: conn}, 0, nil
	}
	if !out.asked.IsZero() && conn.StatusChangedAt != nil && conn.StatusChangedAt.After(out.asked) {
		return Result{Connection: conn}, 0, nil
	}
	now := s.now()
	was := beforeOf(conn)
	conn.LastCheckedAt = &now
	res := Result{Problem: out.problem}
	pe := out.problem
	if pe == nil && out.read {
		if !out.info.ExpiresAt.IsZero() {
			conn.TokenExpiresAt = timePtr(out.info.ExpiresAt)
		}
		if !out.info.DataAccessExpiresAt.IsZero() {
			conn.DataAccessExpiresAt = timePtr(out.info.DataAccessExpiresAt)
		}
		if len(out.info.Scopes) > 0 {
			if sc := missingScope(conn.Provider, out.info.Scopes); sc != "" {
				pe = &providers.Error{Provider: conn.Provider, Op: "inspect_token", Reason: providers.ReasonMissingPermission,
					Scope: sc, Message: "permission " + sc + " is not granted"}
				res.Problem = pe
			} else {
				conn.Scopes = strings.Join(out.info.Scopes, ",")
			}
		}
	}
	var queued int
	switch {
	case pe == nil && !checkSees(conn):
		// A working token says nothing about a policy block or a role on one asset:
		// only a refresh of what failed, or reauthenticating, clears those.
		conn.NextCheckAt = timePtr(now.Add(s.deadEvery(conn.Status)))
		err = tx.UpdateConnection(ctx, t.SubAccountID, conn)
	case pe == nil:
		queued, err = s.checkPassed(ctx, tx, t, &conn, was, out.info, assets, now)
	default:
		queued, err = s.checkFailed(ctx, tx, t, &conn, was, pe, "The health check failed", now)
	}
	if err != nil {
		return Result{}, 0, err
	}
	res.Connection = conn
	res.StatusChanged = conn.Status != was.status
	return res, queued, nil
}

// checkSees reports whether a health check can tell that c's problem is gone: a token
// problem (expired, removed, logged out…) or a missing permission that a check reads, yes;
// a policy block or anything else seen only by a call on an asset, no.
func checkSees(c models.Connection) bool {
	switch {
	case !NeedsAction(c.Status):
		return true
	case c.Reason == providers.ReasonMissingPermission:
		return c.ReasonDetail == "" || slices.Contains(RequiredScopes[c.Provider], c.ReasonDetail)
	}
	return c.Reason.NeedsReauth()
}

// checkPassed saves a valid token: healthy, or expiring inside the reminder window of a
// clock that cannot be renewed without the user; with the reminder due, if any.
func (s *Service) checkPassed(ctx context.Context, tx *models.Store, t Tenant, conn *models.Connection, was before, info providers.TokenInfo, assets []models.Asset, now time.Time) (int, error) {
	status, detail := models.StatusHealthy, ""
	clock, exp := s.nextManualExpiry(*conn, now)
	if !exp.IsZero() && exp.Sub(now) <= time.Duration(ReminderDays[len(ReminderDays)-1])*24*time.Hour {
		status, detail = models.StatusExpiring, clock
	}
	conn.ConsecutiveFailures = 0
	conn.UnreachableSince, conn.IncidentID = nil, nil
	conn.LastErrorCode, conn.LastErrorSubcode, conn.LastErrorMessage = 0, 0, ""
	if status != conn.Status {
		conn.StatusChangedAt = &now
	}
	conn.Status, conn.Reason, conn.ReasonDetail = status, "", detail
	conn.NextCheckAt = s.nextHealthyCheck(*conn, now)
	if err := tx.UpdateConnection(ctx, t.SubAccountID, *conn); err != nil {
		return 0, err
	}
	if status != was.status {
		// The end of an outage is a quiet line of its own kind, not a change of health
		// that needs reading: nothing was ever wrong with the connection.
		kind := models.EventStatusChanged
		if was.status == models.StatusDegraded {
			kind = models.EventCheckRecovered
		}
		if err := record(ctx, tx, t, kind, conn, nil, func(e *models.ConnectionEvent) {
			e.OldStatus, e.NewStatus = was.status, status
			e.Detail = recoveredDetail(*conn, was, status)
		}); err != nil {
			return 0, err
		}
	}
	if err := s.reachability(ctx, tx, t, *conn, info, assets, now); err != nil {
		return 0, err
	}
	queued, err := s.afterChange(ctx, tx, t, *conn, was, now)
	if err != nil {
		return 0, err
	}
	n, err := s.remind(ctx, tx, t, *conn, now)
	return queued + n, err
}

func recoveredDetail(c models.Connection, was before, status models.Status) string {
	switch {
	case status == models.StatusExpiring:
		what := "access token"
		if c.ReasonDetail == ClockDataAccess {
			what = "data access"
		}
		return fmt.Sprintf("The %s ends within %d days and cannot be renewed without reconnecting", what, ReminderDays[len(ReminderDays)-1])
	case was.status == models.StatusDegraded:
		return ProviderLabel(c.Provider) + " answers again; nothing was lost"
	case was.status == models.StatusExpiring:
		return "The expiry moved further away"
	}
	return "A health check with the connection's token succeeded again"
}

// checkFailed saves a failed check: a transient failure degrades a working connection and
// backs off; anything else follows Classify.
func (s *Service) checkFailed(ctx context.Context, tx *models.Store, t Tenant, conn *models.Connection, was before, pe *providers.Error, detail string, now time.Time) (int, error) {
	effect, status := Classify(pe.Reason)
	conn.ConsecutiveFailures++
	conn.TotalFailures++
	conn.LastErrorCode, conn.LastErrorSubcode, conn.LastErrorMessage = pe.Code, pe.Subcode, pe.Message
	kind := models.EventCheckFailing
	switch {
	case effect == EffectTransient && NeedsAction(was.status):
		// An outage proves nothing about a connection that already needs action: it
		// keeps saying so, and waits as long as such a connection does.
		status = was.status
		conn.NextCheckAt = timePtr(now.Add(max(s.deadEvery(status), pe.RetryAfter)))
	case effect == EffectTransient:
		if conn.UnreachableSince == nil {
			conn.UnreachableSince = &now
		}
		status = was.status
		if was.status == models.StatusHealthy || was.status == models.StatusExpiring {
			status = models.StatusDegraded
			conn.Reason, conn.ReasonDetail = pe.Reason, ""
		}
		conn.NextCheckAt = timePtr(now.Add(backoff(conn.ConsecutiveFailures, pe.RetryAfter)))
	case effect == EffectConnection:
		conn.Reason, conn.ReasonDetail = pe.Reason, pe.Scope
		conn.UnreachableSince, conn.IncidentID = nil, nil
		conn.NextCheckAt = timePtr(now.Add(s.deadEvery(status)))
	default:
		// A failure we cannot read says nothing about the token: keep the status, look
		// again sooner than usual.
		status = was.status
		conn.NextCheckAt = timePtr(now.Add(backoff(conn.ConsecutiveFailures, pe.RetryAfter)))
	}
	changed := status != was.status
	if changed {
		conn.Status = status
		conn.StatusChangedAt = &now
	}
	if err := tx.UpdateConnection(ctx, t.SubAccountID, *conn); err != nil {
		return 0, err
	}
	// A degraded connection failing again, or one that needs action failing the same
	// way, is not news: the history says so once.
	if changed || (effect == EffectConnection && was.reason != pe.Reason) {
		if err := record(ctx, tx, t, kind, conn, nil, func(e *models.ConnectionEvent) {
			withProblem(e, pe)
			e.OldStatus, e.NewStatus = was.status, status
			// The reason is shown in words beside the detail, which says what found it.
			e.Detail = detail
			if pe.Scope != "" {
				e.Detail += " Missing permission: " + pe.Scope
			}
		}); err != nil {
			return 0, err
		}
	}
	queued, err := s.afterChange(ctx, tx, t, *conn, was, now)
	if err != nil {
		return 0, err
	}
	if effect == EffectTransient && !NeedsAction(status) && conn.UnreachableSince != nil && now.Sub(*conn.UnreachableSince) >= s.unreachableNotice {
		n, err := s.queue(ctx, tx, t, Notice{Kind: NoticeUnreachable, Connection: *conn, Since: *conn.UnreachableSince})
		return queued + n, err
	}
	return queued, nil
}

// deadEvery is how long a connection that needs action waits for its next check.
func (s *Service) deadEvery(st models.Status) time.Duration {
	if st == models.StatusReauthRequired {
		return deadCheckEvery
	}
	// A permission ticked again or a restriction lifted on the provider's side shows up
	// at the next check.
	return 4 * s.checkEvery
}

// backoff is how long to wait before checking again after n consecutive transient
// failures: exponential from one minute up to maxBackoff, with jitter, and never sooner
// than the provider asked.
func backoff(n int, retryAfter time.Duration) time.Duration {
	d := time.Minute << min(n-1, 16)
	d = min(d, maxBackoff)
	d = jitter(d, 0.2)
	return max(d, retryAfter, time.Second)
}

// jitter spreads d by ±frac so that connections failing together do not retry together.
func jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*rand.Float64()))
}

// nextHealthyCheck is when a working connection is looked at again: after the check
// interval (spread a little), or when its token is due for renewal if that is sooner.
func (s *Service) nextHealthyCheck(c models.Connection, now time.Time) *time.Time {
	next := now.Add(jitter(s.checkEvery, 0.1))
	if len(c.RefreshToken) > 0 && c.TokenExpiresAt != nil {
		if at := c.TokenExpiresAt.Add(-s.renewBefore); at.Before(next) {
			next = now.Add(time.Minute)
			if at.After(next) {
				next = at
			}
		}
	}
	return timePtr(next)
}

// nextManualExpiry returns the soonest expiry of c that Relink cannot push back by itself
// (Meta's token and data-access clocks; a refresh token's own end), with its clock name.
func (s *Service) nextManualExpiry(c models.Connection, now time.Time) (string, time.Time) {
	type clock struct {
		name string
		at   *time.Time
	}
	clocks := []clock{{ClockToken, c.TokenExpiresAt}, {ClockDataAccess, c.DataAccessExpiresAt}}
	if s.renewable(c) {
		clocks[0] = clock{ClockRefresh, c.RefreshExpiresAt}
	}
	var (
		name string
		soon time.Time
	)
	for _, ck := range clocks {
		if ck.at == nil || !ck.at.After(now) {
			continue
		}
		if soon.IsZero() || ck.at.Before(soon) {
			name, soon = ck.name, *ck.at
		}
	}
	return name, soon
}

// renewable reports whether Relink can renew c's access token on its own.
func (s *Service) renewable(c models.Connection) bool {
	return len(c.RefreshToken) > 0 && c.RefreshExpiresAt != nil
}

// remind queues the reminder of the soonest non-renewable expiry when one of ReminderDays
// has been reached; the notifier's dedupe key makes each day's reminder go out once.
func (s *Service) remind(ctx context.Context, tx *models.Store, t Tenant, c models.Connection, now time.Time) (int, error) {
	clock, exp := s.nextManualExpiry(c, now)
	if exp.IsZero() {
		return 0, nil
	}
	left := exp.Sub(now)
	for _, d := range ReminderDays {
		if left <= time.Duration(d)*24*time.Hour {
			return s.queue(ctx, tx, t, Notice{Kind: NoticeReminder, Connection: c, Since: exp, Clock: clock, ExpiresAt: exp, DaysLeft: d})
		}
	}
	return 0, nil
}

// afterChange queues the emails a status change calls for: the incident email on entering
// a status someone must act on, the "reconnected" email when a connection whose incident
// (or long outage) was emailed works again.
func (s *Service) afterChange(ctx context.Context, tx *models.Store, t Tenant, c models.Connection, was before, now time.Time) (int, error) {
	if c.Status == was.status {
		return 0, nil
	}
	// The incident's date: set on entering, kept between statuses that need action,
	// cleared on leaving.
	entering := NeedsAction(c.Status) && !NeedsAction(was.status)
	leaving := NeedsAction(was.status) && !NeedsAction(c.Status)
	switch {
	case entering:
		if err := tx.SetIncidentSince(ctx, t.SubAccountID, c.ID, &now); err != nil {
			return 0, err
		}
		c.IncidentSince = &now
	case leaving:
		if err := tx.SetIncidentSince(ctx, t.SubAccountID, c.ID, nil); err != nil {
			return 0, err
		}
		c.IncidentSince = nil
	}
	switch {
	case s.notifier == nil:
		return 0, nil
	case entering:
		return s.queue(ctx, tx, t, Notice{Kind: NoticeIncident, Connection: c, Since: now})
	case leaving && c.Status != models.StatusDisconnected:
		return s.reconnected(ctx, tx, t, c, was.incidentSince)
	case was.status == models.StatusDegraded && !NeedsAction(c.Status) && !was.unreachableSince.IsZero():
		return s.reconnected(ctx, tx, t, c, was.unreachableSince)
	}
	return 0, nil
}

func (s *Service) reconnected(ctx context.Context, tx *models.Store, t Tenant, c models.Connection, since time.Time) (int, error) {
	if since.IsZero() {
		return 0, nil
	}
	sent, err := s.notifier.Sent(ctx, tx, c, since)
	if err != nil || !sent {
		return 0, err
	}
	return s.queue(ctx, tx, t, Notice{Kind: NoticeReconnected, Connection: c, Since: since})
}

// queue hands a notice to the notifier and, when it wrote emails, records so in the history.
func (s *Service) queue(ctx context.Context, tx *models.Store, t Tenant, n Notice) (int, error) {
	if s.notifier == nil {
		return 0, nil
	}
	written, err := s.notifier.Queue(ctx, tx, n)
	if err != nil || written == 0 {
		return written, err
	}
	c := n.Connection
	return written, record(ctx, tx, t, models.EventNotificationSent, &c, nil, func(e *models.ConnectionEvent) {
		e.Detail = fmt.Sprintf("%s email queued for %d %s", noticeLabel(n), written, plural(written, "person", "people"))
	})
}

func noticeLabel(n Notice) string {
	switch n.Kind {
	case NoticeIncident:
		return "Action-needed"
	case NoticeReconnected:
		return "Reconnected"
	case NoticeReminder:
		return fmt.Sprintf("%d-day expiry reminder", n.DaysLeft)
	case NoticeUnreachable:
		return "Cannot-reach-" + ProviderLabel(n.Connection.Provider)
	}
	return string(n.Kind)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// kick asks for prompt delivery after a transaction that queued emails committed.
func (s *Service) kick(ctx context.Context, queued int) {
	if queued > 0 && s.notifier != nil {
		s.notifier.Kick(context.WithoutCancel(ctx))
	}
}

// reachability flags the selected assets the token no longer reaches, as the provider's
// per-object grants say (Meta's granular scopes), and clears the flag of those it reaches
// again. Without per-object grants it says nothing.
func (s *Service) reachability(ctx context.Context, tx *models.Store, t Tenant, c models.Connection, info providers.TokenInfo, assets []models.Asset, now time.Time) error {
	if len(info.Targets) == 0 {
		return nil
	}
	if assets == nil {
		var err error
		if assets, err = tx.System().SelectedAssetsOf(ctx, []int64{c.ID}); err != nil {
			return err
		}
	}
	for i := range assets {
		a := &assets[i]
		if a.ConnectionID != c.ID || !a.Selected {
			continue
		}
		granted, known := grantedTo(info.Targets, a.Kind, a.ExternalID)
		if !known {
			continue
		}
		switch {
		case !granted && a.MissingSince == nil:
			a.MissingSince = &now
			a.LastErrorReason = providers.ReasonMissingPermission
			if err := tx.SaveAsset(ctx, t.SubAccountID, a); err != nil {
				return err
			}
			if err := record(ctx, tx, t, models.EventAssetUnreachable, &c, a, func(e *models.ConnectionEvent) {
				e.Reason = providers.ReasonMissingPermission
				e.Detail = "The grant no longer includes " + assetLabel(*a) + "; reauthenticate and choose it in the pop-up"
			}); err != nil {
				return err
			}
		case granted && a.MissingSince != nil && a.LastErrorReason == providers.ReasonMissingPermission:
			a.MissingSince, a.LastErrorReason = nil, ""
			if err := tx.SaveAsset(ctx, t.SubAccountID, a); err != nil {
				return err
			}
			if err := record(ctx, tx, t, models.EventAssetRecovered, &c, a, func(e *models.ConnectionEvent) {
				e.Detail = assetLabel(*a) + " is granted again"
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// grantScopes are the scopes whose per-object grants say whether an asset of a kind is
// reachable.
var grantScopes = map[providers.AssetKind][]string{
	providers.KindPage:             {"pages_show_list", "pages_read_engagement", "pages_manage_metadata"},
	providers.KindAdAccount:        {"ads_management", "ads_read"},
	providers.KindInstagramAccount: {"instagram_basic"},
}

// grantedTo reports whether targets grant the asset; known is false when no scope of its
// kind lists objects (the grant then covers every object, or the provider does not say).
func grantedTo(targets map[string][]string, kind providers.AssetKind, externalID string) (granted, known bool) {
	id := strings.TrimPrefix(externalID, "act_")
	for _, sc := range grantScopes[kind] {
		ids, ok := targets[sc]
		if !ok || ids == nil {
			continue
		}
		known = true
		for _, x := range ids {
			if strings.TrimPrefix(x, "act_") == id {
				return true, true
			}
		}
	}
	return false, known
}
