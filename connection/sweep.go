package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// BatchInspector is a provider that inspects many tokens in one request (Meta's Graph
// batch requests, up to 50 calls each). The sweep uses it when a provider has it.
type BatchInspector interface {
	// InspectTokens returns, in input order, each token's TokenInfo or its own error; the
	// last error is a failure of the whole request.
	InspectTokens(ctx context.Context, toks []providers.Token) ([]providers.TokenInfo, []error, error)
}

// TokenChecker is a provider whose health check is its own (LinkedIn calls its member
// endpoint with the token); the others are checked with InspectToken.
type TokenChecker interface {
	CheckToken(ctx context.Context, tok providers.Token) (providers.TokenInfo, error)
}

// Metrics counts what the health engine does. A nil Metrics counts nothing.
type Metrics interface {
	// Checked counts one connection check by outcome: "ok", "transient", "action", "skipped".
	Checked(provider, outcome string)
	// ProviderError counts a provider failure by reason.
	ProviderError(provider string, reason providers.Reason)
	// Renewal counts a token renewal attempt.
	Renewal(provider string, ok bool)
	// Swept records one whole sweep.
	Swept(d time.Duration, checked int)
}

// SweepStats says what one sweep did.
type SweepStats struct {
	// Due counts the connections found due; Checked those actually checked.
	Due, Checked int
	// OK, Transient and Action count checks whose token was fine, whose provider did not
	// answer, and whose connection needs someone to act.
	OK, Transient, Action int
	// Skipped counts due connections left for a later sweep: busy with another operation,
	// or their provider is in an incident or rate-limited.
	Skipped int
	// IncidentsOpened and IncidentsClosed name the providers whose incident changed.
	IncidentsOpened, IncidentsClosed []string
	Duration                         time.Duration
}

// Sweep defaults.
const (
	// sweepPage is how many due connections one query reads.
	sweepPage = 500
	// incidentMin is how many connections of one provider must fail as unavailable in one
	// sweep (and be at least half of its checks) to declare a provider incident.
	incidentMin = 3
	// incidentProbes is how many due connections of a provider in an incident a sweep
	// checks to learn whether it answers again.
	incidentProbes = 3
	// sweepTx is how many checks are saved per transaction: short enough not to hold the
	// database, long enough not to pay a commit per connection.
	sweepTx = 50
)

// providerRun is a sweep's state for one provider.
type providerRun struct {
	name     string
	incident *models.ProviderIncident
	// stopped is set once the provider is in an incident with no probe answering, or
	// rate-limits: its remaining connections wait for the next sweep.
	stopped              bool
	probesLeft           int
	checked, unavailable int
	// since is when the sweep began: its failed checks are those after it.
	since time.Time
	// opening is set while one group declares the incident, so that no other does too;
	// openedHere marks an incident declared by this sweep, whose failures it already counts.
	opening, openedHere bool
}

// Sweep checks every connection whose check is due, in pages of due connections, with
// bounded concurrency per provider (see Config.SweepConcurrency), slowing down as the
// provider's usage rises. Each connection's result is saved on its own (in small groups),
// so a sweep stopped halfway loses nothing: what it did not reach is still due.
func (s *Service) Sweep(ctx context.Context) (SweepStats, error) {
	start := time.Now()
	var st SweepStats
	runs, err := s.sweepRuns(ctx, &st)
	if err != nil {
		return st, err
	}
	var mu sync.Mutex
	now := s.now()
	after := int64(0)
	for {
		page, err := s.store.System().DueConnections(ctx, now, after, sweepPage)
		if err != nil {
			return st, err
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		st.Due += len(page)
		byProvider := map[string][]models.Connection{}
		for _, c := range page {
			byProvider[c.Provider] = append(byProvider[c.Provider], c)
		}
		g, gctx := errgroup.WithContext(ctx)
		for name, conns := range byProvider {
			run := runs[name]
			if run == nil {
				run = &providerRun{name: name, since: now}
				runs[name] = run
			}
			g.Go(func() error { return s.sweepProvider(gctx, run, conns, &st, &mu) })
		}
		if err := g.Wait(); err != nil {
			return st, err
		}
		if len(page) < sweepPage {
			break
		}
	}
	for _, run := range runs {
		if err := s.settleIncident(ctx, run, &st); err != nil {
			return st, err
		}
	}
	st.Duration = time.Since(start)
	if s.metrics != nil {
		s.metrics.Swept(st.Duration, st.Checked)
	}
	return st, nil
}

// sweepRuns starts a sweep's per-provider state with the open incidents.
// An incident that nothing has failed in for staleIncident ends by itself: its provider's
// checks no longer fail (no connection was due to probe it, or the provider was taken out
// of the configuration), and its banner would otherwise stay for ever.
func (s *Service) sweepRuns(ctx context.Context, st *SweepStats) (map[string]*providerRun, error) {
	open, err := s.store.OpenIncidents(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	runs := map[string]*providerRun{}
	for _, in := range open {
		if _, configured := s.providers[in.Provider]; !configured || now.Sub(in.LastFailureAt) > staleIncident {
			if closed, err := s.store.CloseIncident(ctx, in.ID, now); err != nil {
				return nil, err
			} else if closed {
				st.IncidentsClosed = append(st.IncidentsClosed, in.Provider)
			}
			continue
		}
		runs[in.Provider] = &providerRun{name: in.Provider, incident: &in, probesLeft: incidentProbes, since: now}
	}
	return runs, nil
}

// staleIncident is how long an incident lasts without a failed check.
const staleIncident = 24 * time.Hour

// sweepProvider checks one provider's share of a page of due connections, in groups: a
// Graph batch for a BatchInspector, one connection at a time otherwise, with at most
// SweepConcurrency groups in flight.
func (s *Service) sweepProvider(ctx context.Context, run *providerRun, conns []models.Connection, st *SweepStats, mu *sync.Mutex) error {
	p, err := s.provider(run.name)
	if err != nil {
		mu.Lock()
		st.Skipped += len(conns)
		mu.Unlock()
		return nil
	}
	bi, batched := p.(BatchInspector)
	size := 1
	if batched {
		size = sweepTx
	}
	// In an incident only probes go out, one group at a time, until one answers.
	for len(conns) > 0 {
		mu.Lock()
		stopped, probing := run.stopped, run.incident != nil && run.incident.EndedAt == nil
		mu.Unlock()
		if stopped {
			mu.Lock()
			st.Skipped += len(conns)
			mu.Unlock()
			return nil
		}
		if !probing {
			break
		}
		n := min(incidentProbes, len(conns))
		probe := conns[:n]
		conns = conns[n:]
		outs := s.inspectGroup(ctx, p, bi, probe)
		if err := s.saveGroup(ctx, run, probe, outs, st, mu); err != nil {
			return err
		}
		answered := false
		for _, o := range outs {
			if o.err == nil && !o.skipped && (o.problem == nil || !o.problem.Reason.Transient()) {
				answered = true
			}
		}
		mu.Lock()
		if answered {
			if err := s.closeIncident(ctx, run, st); err != nil {
				mu.Unlock()
				return err
			}
		} else {
			run.probesLeft -= n
			if run.probesLeft <= 0 {
				run.stopped = true
			}
		}
		mu.Unlock()
	}
	if len(conns) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	// Each group takes a share of the provider's slots that grows as its usage rises, so
	// that fewer groups run at once; past its limit none is sent until the time it gave.
	slots := semaphore.NewWeighted(int64(s.sweepConcurrency))
	for i := 0; i < len(conns); i += size {
		group := conns[i:min(i+size, len(conns))]
		limit, pause, stop := s.pace(gctx, run.name)
		mu.Lock()
		if stop {
			run.stopped = true
		}
		stopped := run.stopped
		mu.Unlock()
		if stopped {
			mu.Lock()
			st.Skipped += len(conns) - i
			mu.Unlock()
			break
		}
		weight := int64(s.sweepConcurrency / limit)
		if err := slots.Acquire(gctx, weight); err != nil {
			break
		}
		if pause > 0 {
			select {
			case <-time.After(pause):
			case <-gctx.Done():
			}
		}
		g.Go(func() error {
			defer slots.Release(weight)
			outs := s.inspectGroup(gctx, p, bi, group)
			if err := s.saveGroup(gctx, run, group, outs, st, mu); err != nil {
				return err
			}
			return s.maybeOpenIncident(gctx, run, st, mu)
		})
	}
	return g.Wait()
}

// checked is one connection's inspection in a sweep.
type checked struct {
	outcome
	tok providers.Token
	// err is a failure to open the token or a cancelled call: nothing is saved for it.
	err error
	// whole is set when the provider refused the whole request, not this token.
	whole bool
	// skipped: another operation holds the connection; it waits for the next sweep.
	skipped bool
	// result is set when the check (with renewal) already saved itself.
	result *Result
}

// inspectGroup asks the provider about a group of connections: one batch request for a
// BatchInspector, otherwise a leased check per connection (which renews first when due).
func (s *Service) inspectGroup(ctx context.Context, p providers.Provider, bi BatchInspector, group []models.Connection) []checked {
	outs := make([]checked, len(group))
	if bi == nil {
		for i, c := range group {
			outs[i] = s.checkOne(ctx, p, c)
		}
		return outs
	}
	toks := make([]providers.Token, 0, len(group))
	idx := make([]int, 0, len(group))
	for i, c := range group {
		tok, err := s.token(c)
		if err != nil {
			outs[i].err = err
			continue
		}
		outs[i].tok = tok
		toks = append(toks, tok)
		idx = append(idx, i)
	}
	if len(toks) == 0 {
		return outs
	}
	asked := s.now()
	infos, errs, err := bi.InspectTokens(ctx, toks)
	for j, i := range idx {
		outs[i].asked = asked
		switch {
		case providers.IsCanceled(err):
			outs[i].err = err
		case err != nil:
			outs[i].problem, outs[i].whole = p.Classify(err), true
		case errs[j] != nil && providers.IsCanceled(errs[j]):
			outs[i].err = errs[j]
		case errs[j] != nil:
			outs[i].problem = p.Classify(errs[j])
		default:
			outs[i].info, outs[i].read = infos[j], true
			if !infos[j].Valid {
				outs[i].problem = infos[j].Problem
			}
		}
	}
	return outs
}

// checkOne runs a full leased check of one connection (renewal first when due); it saves
// its own result.
func (s *Service) checkOne(ctx context.Context, p providers.Provider, c models.Connection) checked {
	t := Tenant{SubAccountID: c.SubAccountID, Actor: SystemActor, RequestID: "sweep"}
	tok, err := s.token(c)
	if err != nil {
		return checked{err: err}
	}
	owner := newOwner()
	if err := s.store.LeaseConnection(ctx, c.SubAccountID, c.ID, owner, s.leaseFor); err != nil {
		if errors.Is(err, models.ErrBusy) {
			return checked{skipped: true}
		}
		return checked{err: err}
	}
	defer s.release(t, func(ctx context.Context) error { return s.store.ReleaseConnection(ctx, c.SubAccountID, c.ID, owner) })
	res, err := s.checkLeasedWith(ctx, t, c, p, tok, true)
	if errors.Is(err, errRateLimited) {
		// Not saved: the provider limits the app, which says nothing of this connection.
		return checked{outcome: outcome{problem: res.Problem}, whole: true}
	}
	if err != nil {
		return checked{err: err}
	}
	return checked{outcome: outcome{problem: res.Problem}, result: &res}
}

// saveGroup saves the inspections of a group in one transaction (those not saved by a
// leased check already), then counts them.
func (s *Service) saveGroup(ctx context.Context, run *providerRun, group []models.Connection, outs []checked, st *SweepStats, mu *sync.Mutex) error {
	var pending []int
	for i := range outs {
		o := &outs[i]
		switch {
		case o.whole && o.problem.Reason == providers.ReasonRateLimited:
			// The app, not this connection, is over its limit: nothing is learned about
			// the token, and the provider's remaining connections wait for the time it
			// gave (the client refuses to call before then).
			o.skipped = true
			mu.Lock()
			run.stopped = true
			mu.Unlock()
		case o.whole && !o.problem.Reason.Transient():
			// The provider refused the request itself (the app restricted, a permission
			// of the app): that says nothing about any one user's token. Nothing is
			// saved; the provider's remaining connections wait for the next sweep.
			o.skipped = true
			mu.Lock()
			if !run.stopped {
				s.log.Warn("the provider refused a whole health-check request; its checks wait for the next sweep",
					"provider", run.name, "reason", o.problem.Reason, "code", o.problem.Code)
			}
			run.stopped = true
			mu.Unlock()
		}
		if o.err == nil && !o.skipped && o.result == nil {
			pending = append(pending, i)
		}
	}
	queued := 0
	if len(pending) > 0 {
		ids := make([]int64, 0, len(pending))
		for _, i := range pending {
			ids = append(ids, group[i].ID)
		}
		assets, err := s.store.System().SelectedAssetsOf(ctx, ids)
		if err != nil {
			return err
		}
		byConn := map[int64][]models.Asset{}
		for _, a := range assets {
			byConn[a.ConnectionID] = append(byConn[a.ConnectionID], a)
		}
		mu.Lock()
		incident := run.incident
		mu.Unlock()
		// Most checks find a healthy connection as it was: those are stamped with one
		// statement for the group; only a change goes through applyCheck, row by row.
		var quiet []int64
		slow := pending[:0:0]
		now := s.now()
		for _, i := range pending {
			if s.unchanged(group[i], outs[i].outcome, byConn[group[i].ID], now) {
				quiet = append(quiet, group[i].ID)
				continue
			}
			slow = append(slow, i)
		}
		if len(quiet) > 0 {
			if _, err := s.store.System().MarkChecked(ctx, quiet, now, *s.nextHealthyCheck(models.Connection{}, now)); err != nil {
				return err
			}
		}
		err = s.store.Tx(ctx, func(tx *models.Store) error {
			for _, i := range slow {
				c := group[i]
				t := Tenant{SubAccountID: c.SubAccountID, Actor: SystemActor, RequestID: "sweep"}
				as := byConn[c.ID]
				if as == nil {
					as = []models.Asset{}
				}
				o := outs[i].outcome
				// Each row in a savepoint of its own: a row that fails (disconnected
				// meanwhile, an email that cannot be written) is undone alone and logged,
				// and the group's other checks are still saved.
				var (
					res Result
					n   int
				)
				err := tx.Savepoint(ctx, func(tx *models.Store) error {
					var err error
					res, n, err = s.applyCheckIn(ctx, tx, t, c, o, as, incident)
					return err
				})
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					if !errors.Is(err, ErrDisconnected) && !errors.Is(err, models.ErrNotFound) {
						s.log.Error("saving a health check failed; it is retried at the next sweep", "connection_id", c.ID, "sub_account_id", c.SubAccountID, "err", err)
					}
					outs[i].err = err
					continue
				}
				queued += n
				outs[i].result = &res
				// A valid token can still lack a permission: what the save found counts.
				outs[i].problem = res.Problem
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.kick(ctx, queued)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, o := range outs {
		outcome := "skipped"
		switch {
		case o.skipped || o.err != nil:
			st.Skipped++
		case o.problem == nil:
			st.Checked++
			st.OK++
			run.checked++
			outcome = "ok"
		case o.problem.Reason.Transient():
			st.Checked++
			st.Transient++
			run.checked++
			outcome = "transient"
			if o.problem.Reason == providers.ReasonProviderUnavailable {
				run.unavailable++
			}
		default:
			st.Checked++
			st.Action++
			run.checked++
			outcome = "action"
		}
		if outcome == "skipped" {
			if s.metrics != nil {
				s.metrics.Checked(run.name, outcome)
			}
		} else {
			s.countCheck(run.name, o.problem)
		}
	}
	return nil
}

// unchanged reports whether a check found connection c exactly as it was stored: healthy,
// valid, the same expiries and scopes, no asset gaining or losing its grant, and nothing
// within the reminder window. Such a check only moves the connection's check times.
func (s *Service) unchanged(c models.Connection, o outcome, assets []models.Asset, now time.Time) bool {
	if o.problem != nil || !o.read || c.Status != models.StatusHealthy || c.ConsecutiveFailures != 0 || s.renewable(c) {
		return false
	}
	if !sameTime(c.TokenExpiresAt, o.info.ExpiresAt) || !sameTime(c.DataAccessExpiresAt, o.info.DataAccessExpiresAt) {
		return false
	}
	if len(o.info.Scopes) > 0 && (strings.Join(o.info.Scopes, ",") != c.Scopes || missingScope(c.Provider, o.info.Scopes) != "") {
		return false
	}
	if _, exp := s.nextManualExpiry(c, now); !exp.IsZero() && exp.Sub(now) <= time.Duration(ReminderDays[len(ReminderDays)-1])*24*time.Hour {
		return false
	}
	for _, a := range assets {
		granted, known := grantedTo(o.info.Targets, a.Kind, a.ExternalID)
		flagged := a.MissingSince != nil && a.LastErrorReason == providers.ReasonMissingPermission
		if known && granted == flagged {
			return false
		}
	}
	return true
}

// sameTime reports whether a stored time and one the provider gave agree to the second; a
// provider that gave none agrees with anything.
func sameTime(stored *time.Time, got time.Time) bool {
	if got.IsZero() {
		return true
	}
	return stored != nil && stored.Unix() == got.Unix()
}

// applyCheckIn saves one sweep inspection, tying a transient failure to the provider's
// open incident.
func (s *Service) applyCheckIn(ctx context.Context, tx *models.Store, t Tenant, c models.Connection, o outcome, assets []models.Asset, incident *models.ProviderIncident) (Result, int, error) {
	res, n, err := s.applyCheck(ctx, tx, t, c.AccessToken, c.ID, o, assets)
	if err != nil || incident == nil || incident.EndedAt != nil || o.problem == nil || !o.problem.Reason.Transient() {
		return res, n, err
	}
	return res, n, s.joinIncident(ctx, tx, []models.Connection{res.Connection}, *incident)
}

// joinIncident ties connections to their provider's incident, with one history event per
// connection and incident, so its history shows the outage without a line per check. It
// writes only the incident column: rows read earlier are never written back whole.
func (s *Service) joinIncident(ctx context.Context, tx *models.Store, conns []models.Connection, in models.ProviderIncident) error {
	ids := make([]int64, len(conns))
	for i, c := range conns {
		ids[i] = c.ID
	}
	joined, err := tx.JoinIncident(ctx, in.ID, ids)
	if err != nil {
		return err
	}
	for _, c := range joined {
		t := Tenant{SubAccountID: c.SubAccountID, Actor: SystemActor, RequestID: "sweep"}
		if err := record(ctx, tx, t, models.EventProviderIncident, &c, nil, func(e *models.ConnectionEvent) {
			e.Detail = fmt.Sprintf("%s is not answering since %s (many connections at once); the connection is presumed fine and nothing is lost",
				ProviderLabel(in.Provider), in.StartedAt.UTC().Format("2 Jan 15:04 MST"))
		}); err != nil {
			return err
		}
	}
	return nil
}

// maybeOpenIncident declares a provider incident once enough of a provider's checks in
// this sweep failed as unavailable; the provider's remaining connections wait.
func (s *Service) maybeOpenIncident(ctx context.Context, run *providerRun, st *SweepStats, mu *sync.Mutex) error {
	mu.Lock()
	if run.incident != nil || run.opening || run.unavailable < incidentMin || run.unavailable*2 < run.checked {
		mu.Unlock()
		return nil
	}
	failed := run.unavailable
	run.stopped, run.opening = true, true
	mu.Unlock()
	now := s.now()
	in, opened, err := s.store.OpenIncident(ctx, run.name, string(providers.ReasonProviderUnavailable), failed, now)
	if err != nil {
		return err
	}
	mu.Lock()
	run.incident, run.openedHere = &in, true
	if opened {
		st.IncidentsOpened = append(st.IncidentsOpened, run.name)
	}
	mu.Unlock()
	// The connections whose checks just failed belong to it, in groups of sweepTx so that
	// no transaction holds the database long.
	touched, err := s.store.System().UnreachableSince(ctx, run.name, run.since)
	if err != nil {
		return err
	}
	for i := 0; i < len(touched); i += sweepTx {
		if err := s.store.Tx(ctx, func(tx *models.Store) error {
			return s.joinIncident(ctx, tx, touched[i:min(i+sweepTx, len(touched))], in)
		}); err != nil {
			return err
		}
	}
	return nil
}

// closeIncident ends a provider's incident: a probe got an answer. Caller holds mu.
func (s *Service) closeIncident(ctx context.Context, run *providerRun, st *SweepStats) error {
	if run.incident == nil || run.incident.EndedAt != nil {
		return nil
	}
	now := s.now()
	closed, err := s.store.CloseIncident(ctx, run.incident.ID, now)
	if err != nil {
		return err
	}
	run.incident.EndedAt = &now
	run.stopped = false
	if closed {
		st.IncidentsClosed = append(st.IncidentsClosed, run.name)
	}
	return nil
}

// settleIncident notes the failed probes of a provider still in an incident.
func (s *Service) settleIncident(ctx context.Context, run *providerRun, st *SweepStats) error {
	if run.incident == nil || run.incident.EndedAt != nil || run.openedHere || run.unavailable == 0 {
		return nil
	}
	return s.store.NoteIncidentFailures(ctx, run.incident.ID, run.unavailable, s.now())
}

// pace says how hard a sweep may press a provider now, from the usage it last reported
// (Meta's x-app-usage, kept in the database so every replica sees it): how many groups may
// be in flight, how long to wait before the next, and whether to stop because it asked us
// to wait. Providers that report no usage get the configured bound.
func (s *Service) pace(ctx context.Context, provider string) (limit int, pause time.Duration, stop bool) {
	limit = s.sweepConcurrency
	if provider != "meta" {
		return limit, 0, false
	}
	usage, paused, err := s.store.ProviderLimits(provider).Load(ctx, []string{appScope})
	if err != nil {
		return 1, time.Second, false
	}
	if until, ok := paused[appScope]; ok && until.After(s.store.Now()) {
		return 1, 0, true
	}
	switch u := usage[appScope]; {
	case u >= 95:
		return 1, 5 * time.Second, false
	case u >= 85:
		return 1, time.Second, false
	case u >= 75:
		return max(1, limit/4), 0, false
	case u >= 50:
		return max(1, limit/2), 0, false
	}
	return limit, 0, false
}

// appScope is the rate-limit scope of the whole app (meta.ScopeApp).
const appScope = "app"
