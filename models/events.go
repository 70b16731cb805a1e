package models

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Event kinds of a connection's history.
const (
	EventConnected          = "connected"
	EventAssetAdded         = "asset_added"
	EventAssetRemoved       = "asset_removed"
	EventRefreshOK          = "refresh_ok"
	EventRefreshFailed      = "refresh_failed"
	EventTokenRenewed       = "token_renewed"
	EventCheckFailing       = "check_failing"
	EventCheckRecovered     = "check_recovered"
	EventStatusChanged      = "status_changed"
	EventReauthenticated    = "reauthenticated"
	EventDisconnected       = "disconnected"
	EventNotificationSent   = "notification_sent"
	EventSupportView        = "support_view"
	maxEventMessageLength   = 1000
	maxEventDetailLength    = 2000
	maxEventRequestIDLength = 64
)

// RecordEvent appends e to the history of sub-account subAccountID; the sub-account in e is
// ignored. Free text is cut to a bounded length.
func (s *Store) RecordEvent(ctx context.Context, subAccountID int64, e ConnectionEvent) (ConnectionEvent, error) {
	if e.Kind == "" || e.ActorType == "" {
		return ConnectionEvent{}, errors.New("models: record event: kind and actor are required")
	}
	e.ID = 0
	e.SubAccountID = subAccountID
	e.ProviderMessage = truncate(e.ProviderMessage, maxEventMessageLength)
	e.Detail = truncate(e.Detail, maxEventDetailLength)
	e.RequestID = truncate(e.RequestID, maxEventRequestIDLength)
	err := s.db.WithContext(ctx).Create(&e).Error
	return e, dbError("record event", err)
}

// RecordSupportViews appends a support_view event by supportUserID to the history of each
// sub-account in ids: support saw them all on one page. It is one statement whatever the
// number of sub-accounts, with the ids as a single array parameter.
func (s *Store) RecordSupportViews(ctx context.Context, supportUserID int64, ids []int64, requestID, detail string) error {
	if len(ids) == 0 {
		return nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatInt(id, 10)
	}
	var where, arg string
	if s.dialect == DialectPostgres {
		where, arg = "id = ANY(CAST(? AS bigint[]))", "{"+strings.Join(list, ",")+"}"
	} else {
		where, arg = "id IN (SELECT value FROM json_each(?))", "["+strings.Join(list, ",")+"]"
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO connection_events
		(sub_account_id, kind, actor_type, actor_user_id, request_id, detail, created_at)
		SELECT id, ?, ?, ?, ?, ?, ? FROM sub_accounts WHERE `+where,
		EventSupportView, ActorSupport, supportUserID, truncate(requestID, maxEventRequestIDLength),
		truncate(detail, maxEventDetailLength), s.Now().Truncate(time.Second), arg).Error
	return dbError("record support views", err)
}

// EventsOf lists the newest history events of a sub-account, at most limit.
func (s *Store) EventsOf(ctx context.Context, subAccountID int64, limit int) ([]ConnectionEvent, error) {
	var es []ConnectionEvent
	err := s.db.WithContext(ctx).Where("sub_account_id = ?", subAccountID).
		Order("created_at DESC, id DESC").Limit(limit).Find(&es).Error
	return es, dbError("list events", err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Event kinds added with the connection life cycle.
const (
	// EventAssetUnreachable: an asset the connection reached before is no longer returned
	// by the provider; it is kept and flagged.
	EventAssetUnreachable = "asset_unreachable"
	// EventAssetRecovered: a flagged asset is reachable again.
	EventAssetRecovered = "asset_recovered"
	// EventAssetProblem: one asset failed to refresh on its own (lost role, disabled).
	EventAssetProblem = "asset_problem"
	// EventProviderIncident: the connection's checks failed during an outage of its
	// provider that touched many connections at once.
	EventProviderIncident = "provider_incident"
)

// EventKinds lists every event kind, for the history filter.
var EventKinds = []string{EventConnected, EventReauthenticated, EventAssetAdded, EventAssetRemoved,
	EventAssetUnreachable, EventAssetRecovered, EventAssetProblem, EventRefreshOK, EventRefreshFailed,
	EventTokenRenewed, EventCheckFailing, EventCheckRecovered, EventProviderIncident, EventStatusChanged, EventDisconnected,
	EventNotificationSent, EventSupportView}

// HistoryQuery selects one page of history, newest first.
type HistoryQuery struct {
	// ConnectionID narrows to one connection; zero is the whole sub-account.
	ConnectionID int64
	// Kind narrows to one event kind; empty is every kind.
	Kind string
	// Before is the cursor: events strictly older than this one. Zero starts at the newest.
	Before HistoryCursor
	Limit  int
}

// HistoryCursor is the position of an event in the newest-first order.
type HistoryCursor struct {
	At time.Time
	ID int64
}

// HistoryRow is an event with the names of who did it and what it is about.
type HistoryRow struct {
	ConnectionEvent
	ActorName        string
	ActorEmail       string
	Provider         string
	ExternalUserName string
	AssetName        string
	AssetExternalID  string
}

// History returns one page of a sub-account's history (keyset-paginated, so the thousandth
// page costs what the first does) and the cursor of the next page, zero when none.
func (s *Store) History(ctx context.Context, subAccountID int64, q HistoryQuery) ([]HistoryRow, HistoryCursor, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	db := s.db.WithContext(ctx).Table("connection_events AS e").
		Select(`e.*, users.name AS actor_name, users.email AS actor_email, connections.provider,
			connections.external_user_name, assets.name AS asset_name, assets.external_id AS asset_external_id`).
		Joins("LEFT JOIN users ON users.id = e.actor_user_id").
		Joins("LEFT JOIN connections ON connections.id = e.connection_id").
		Joins("LEFT JOIN assets ON assets.id = e.asset_id").
		Where("e.sub_account_id = ?", subAccountID)
	if q.ConnectionID != 0 {
		db = db.Where("e.connection_id = ?", q.ConnectionID)
	}
	if q.Kind != "" {
		db = db.Where("e.kind = ?", q.Kind)
	}
	if !q.Before.At.IsZero() {
		db = db.Where("(e.created_at < ? OR (e.created_at = ? AND e.id < ?))", q.Before.At, q.Before.At, q.Before.ID)
	}
	var rows []HistoryRow
	if err := db.Order("e.created_at DESC, e.id DESC").Limit(q.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, HistoryCursor{}, dbError("list history", err)
	}
	var next HistoryCursor
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		next = HistoryCursor{At: last.CreatedAt, ID: last.ID}
	}
	return rows, next, nil
}
