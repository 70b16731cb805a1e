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
