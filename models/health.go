package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ProviderIncident is a provider that stopped answering for many connections at once.
// At most one is open (EndedAt nil) per provider.
type ProviderIncident struct {
	ID            int64
	Provider      string
	StartedAt     time.Time
	EndedAt       *time.Time
	FailedChecks  int
	LastFailureAt time.Time
	Reason        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DueConnections returns up to limit connections whose check is due at now (never checked,
// or next_check_at reached), not disconnected, with ids above afterID, in id order: the
// sweep pages through them with the last id it saw, so a connection it could not check is
// not read again in the same sweep. Tokens come as ciphertext.
func (sys System) DueConnections(ctx context.Context, now time.Time, afterID int64, limit int) ([]Connection, error) {
	var cs []Connection
	err := sys.s.db.WithContext(ctx).
		Where("status <> ? AND (next_check_at IS NULL OR next_check_at <= ?) AND id > ?", StatusDisconnected, now, afterID).
		Order("id").Limit(limit).Find(&cs).Error
	return cs, dbError("load due connections", err)
}

// ConnectionsOfProviderUser returns every connection, in every sub-account, of the provider
// user externalUserID that is not disconnected: a signal about that user (Meta's
// deauthorize callback) concerns all of them.
func (sys System) ConnectionsOfProviderUser(ctx context.Context, provider, externalUserID string) ([]Connection, error) {
	var cs []Connection
	err := sys.s.db.WithContext(ctx).
		Where("provider = ? AND external_user_id = ? AND status <> ?", provider, externalUserID, StatusDisconnected).
		Order("id").Find(&cs).Error
	return cs, dbError("load connections of provider user", err)
}

// SelectedAssetsOf returns the selected assets of the given connections, with one query.
func (sys System) SelectedAssetsOf(ctx context.Context, connectionIDs []int64) ([]Asset, error) {
	if len(connectionIDs) == 0 {
		return nil, nil
	}
	var as []Asset
	err := sys.s.db.WithContext(ctx).Where("connection_id IN ? AND selected", connectionIDs).
		Order("connection_id, id").Find(&as).Error
	return as, dbError("load assets of connections", err)
}

// OpenIncidents returns the open provider incidents, oldest first.
func (s *Store) OpenIncidents(ctx context.Context) ([]ProviderIncident, error) {
	var is []ProviderIncident
	err := s.db.WithContext(ctx).Where("ended_at IS NULL").Order("started_at, id").Find(&is).Error
	return is, dbError("load open incidents", err)
}

// OpenIncident opens an incident of provider at now, or returns the one already open: two
// replicas declaring the same outage share one incident (the partial unique index on open
// incidents decides).
func (s *Store) OpenIncident(ctx context.Context, provider, reason string, failedChecks int, now time.Time) (ProviderIncident, bool, error) {
	in := ProviderIncident{Provider: provider, StartedAt: now, LastFailureAt: now, FailedChecks: failedChecks, Reason: reason}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&in)
	if res.Error != nil {
		return in, false, dbError("open incident", res.Error)
	}
	if res.RowsAffected == 1 {
		return in, true, nil
	}
	var open ProviderIncident
	err := s.db.WithContext(ctx).Where("provider = ? AND ended_at IS NULL", provider).Take(&open).Error
	return open, false, dbError("load open incident", err)
}

// NoteIncidentFailures adds failed checks to an open incident.
func (s *Store) NoteIncidentFailures(ctx context.Context, id int64, failed int, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&ProviderIncident{}).Where("id = ? AND ended_at IS NULL", id).
		Updates(map[string]any{"failed_checks": gorm.Expr("failed_checks + ?", failed), "last_failure_at": now}).Error
	return dbError("note incident failures", err)
}

// CloseIncident ends incident id at now; it reports false when it was already closed.
func (s *Store) CloseIncident(ctx context.Context, id int64, now time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&ProviderIncident{}).Where("id = ? AND ended_at IS NULL", id).
		Update("ended_at", now)
	return res.RowsAffected == 1, dbError("close incident", res.Error)
}

// Incident returns incident id.
func (s *Store) Incident(ctx context.Context, id int64) (ProviderIncident, error) {
	var in ProviderIncident
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&in).Error
	return in, dbError("load incident", err)
}

// ConnectionCount is how many connections of one provider are in one status.
type ConnectionCount struct {
	Provider string
	Status   Status
	Count    int64
}

// CountConnections returns how many connections each provider has in each status.
func (sys System) CountConnections(ctx context.Context) ([]ConnectionCount, error) {
	var out []ConnectionCount
	err := sys.s.db.WithContext(ctx).Model(&Connection{}).Select("provider, status, COUNT(*) AS count").
		Group("provider, status").Order("provider, status").Scan(&out).Error
	return out, dbError("count connections", err)
}

// UnreachableSince returns provider's connections whose last check, at or after since,
// failed because the provider did not answer.
func (sys System) UnreachableSince(ctx context.Context, provider string, since time.Time) ([]Connection, error) {
	var cs []Connection
	err := sys.s.db.WithContext(ctx).
		Where("provider = ? AND unreachable_since IS NOT NULL AND last_checked_at >= ? AND status <> ?", provider, since, StatusDisconnected).
		Order("id").Find(&cs).Error
	return cs, dbError("load unreachable connections", err)
}

// CountNotifications counts the outbox's emails by status, for the metrics.
func (sys System) CountNotifications(ctx context.Context) (map[string]int64, error) {
	return sys.countBy(ctx, "notifications", "status")
}

// CountJobs counts River's jobs by state, for the metrics (the queue depth is the
// available, scheduled and retryable ones).
func (sys System) CountJobs(ctx context.Context) (map[string]int64, error) {
	return sys.countBy(ctx, "river_job", "state")
}

func (sys System) countBy(ctx context.Context, table, column string) (map[string]int64, error) {
	var rows []struct {
		Key   string
		Count int64
	}
	err := sys.s.db.WithContext(ctx).Table(table).Select(column + " AS key, COUNT(*) AS count").Group(column).Scan(&rows).Error
	if err != nil {
		return nil, dbError("count "+table, err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Key] = r.Count
	}
	return out, nil
}

// CountJobsOfKind counts River's jobs of one kind in any state.
func (sys System) CountJobsOfKind(ctx context.Context, kind string) (int64, error) {
	var n int64
	err := sys.s.db.WithContext(ctx).Table("river_job").Where("kind = ?", kind).Count(&n).Error
	return n, dbError("count jobs", err)
}

// MarkChecked stamps a check that found nothing new on the given connections: their check
// times move and nothing else does. A connection whose status changed meanwhile (a refresh
// or reauthentication in between) is left to what changed it.
func (sys System) MarkChecked(ctx context.Context, ids []int64, checkedAt, nextAt time.Time) (int64, error) {
	res := sys.s.db.WithContext(ctx).Model(&Connection{}).Where("id IN ? AND status = ?", ids, StatusHealthy).
		Updates(map[string]any{"last_checked_at": checkedAt, "next_check_at": nextAt, "updated_at": sys.s.Now()})
	return res.RowsAffected, dbError("mark connections checked", res.Error)
}

// JoinIncident ties the given connections to incident id, and returns those it changed (the
// others already belonged to it, or changed meanwhile): only those get a history event.
// It writes the one column, so nothing else of a row read earlier is written back.
func (s *Store) JoinIncident(ctx context.Context, id int64, connectionIDs []int64) ([]Connection, error) {
	if len(connectionIDs) == 0 {
		return nil, nil
	}
	var cs []Connection
	q := s.db.WithContext(ctx).Where("id IN ? AND unreachable_since IS NOT NULL AND status <> ? AND (incident_id IS NULL OR incident_id <> ?)",
		connectionIDs, StatusDisconnected, id)
	if err := s.forUpdate(q).Order("id").Find(&cs).Error; err != nil {
		return nil, dbError("load connections joining incident", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	err := s.db.WithContext(ctx).Model(&Connection{}).Where("id IN ?", ids).Update("incident_id", id).Error
	return cs, dbError("join incident", err)
}
