package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relink/relink/providers"
)

// ErrBusy is returned when another request holds the lease of an asset or connection: it
// is being refreshed right now, perhaps by another replica.
var ErrBusy = errors.New("models: already in progress")

// CreateConnection stores a new connection in sub-account subAccountID; the id in c is ignored.
func (s *Store) CreateConnection(ctx context.Context, subAccountID int64, c Connection) (Connection, error) {
	if c.Provider == "" || c.ExternalUserID == "" {
		return Connection{}, errors.New("models: create connection: provider and external user id are required")
	}
	c.ID = 0
	c.SubAccountID = subAccountID
	if c.Status == "" {
		c.Status = StatusHealthy
	}
	err := s.db.WithContext(ctx).Create(&c).Error
	return c, dbError("create connection", err)
}

// UpdateConnection writes every field of c (tokens as they are: ciphertext) to connection
// c.ID of sub-account subAccountID, except its lease, which only LeaseConnection and
// ReleaseConnection change: a refresh of one asset must not clear the lease a refresh of
// the whole connection took meanwhile.
func (s *Store) UpdateConnection(ctx context.Context, subAccountID int64, c Connection) error {
	c.SubAccountID = subAccountID
	res := s.db.WithContext(ctx).Model(&Connection{}).Where("id = ? AND sub_account_id = ?", c.ID, subAccountID).
		Select("*").Omit("id", "sub_account_id", "created_at", "lease_until", "lease_owner").Updates(&c)
	if res.Error != nil {
		return dbError("update connection", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Connection returns connection id of sub-account subAccountID.
func (s *Store) Connection(ctx context.Context, subAccountID, id int64) (Connection, error) {
	var c Connection
	err := s.db.WithContext(ctx).Where("id = ? AND sub_account_id = ?", id, subAccountID).Take(&c).Error
	return c, dbError("load connection", err)
}

// ConnectionForUpdate is Connection read inside a transaction that is about to change the
// row: on PostgreSQL it locks the row until the transaction ends, so two checks or a check
// and a callback deciding on the same connection take turns instead of both acting on the
// status they read (SQLite's immediate transactions already take turns).
func (s *Store) ConnectionForUpdate(ctx context.Context, subAccountID, id int64) (Connection, error) {
	var c Connection
	err := s.forUpdate(s.db.WithContext(ctx).Where("id = ? AND sub_account_id = ?", id, subAccountID)).Take(&c).Error
	return c, dbError("load connection", err)
}

// forUpdate locks the rows q reads until the transaction ends, on PostgreSQL inside Tx;
// SQLite's immediate transactions already take turns.
func (s *Store) forUpdate(q *gorm.DB) *gorm.DB {
	if s.dialect == DialectPostgres && s.inTx {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// ConnectionOf returns the connection of provider user externalUserID in sub-account
// subAccountID, disconnected or not.
func (s *Store) ConnectionOf(ctx context.Context, subAccountID int64, provider, externalUserID string) (Connection, error) {
	var c Connection
	err := s.db.WithContext(ctx).Where("sub_account_id = ? AND provider = ? AND external_user_id = ?",
		subAccountID, provider, externalUserID).Take(&c).Error
	return c, dbError("load connection", err)
}

// ConnectionRow is a connection as the connections page lists it: without its tokens, with
// the name of who connected it.
type ConnectionRow struct {
	Connection
	ConnectedByName  string
	ConnectedByEmail string
}

// ConnectionsOf lists every connection of a sub-account, disconnected ones last, in one
// statement. The token columns are not read.
func (s *Store) ConnectionsOf(ctx context.Context, subAccountID int64) ([]ConnectionRow, error) {
	var rows []ConnectionRow
	err := s.db.WithContext(ctx).Table("connections").
		Select(connectionColumns+", users.name AS connected_by_name, users.email AS connected_by_email").
		Joins("LEFT JOIN users ON users.id = connections.connected_by_user_id").
		Where("connections.sub_account_id = ?", subAccountID).
		Order("CASE WHEN connections.status = 'disconnected' THEN 1 ELSE 0 END, connections.provider, connections.created_at, connections.id").
		Scan(&rows).Error
	return rows, dbError("list connections", err)
}

// connectionColumns are the columns of connections without the tokens.
const connectionColumns = `connections.id, connections.sub_account_id, connections.provider,
	connections.external_user_id, connections.external_user_name, connections.scopes,
	connections.token_expires_at, connections.refresh_expires_at, connections.data_access_expires_at,
	connections.status, connections.reason, connections.reason_detail, connections.last_error_code,
	connections.last_error_subcode, connections.last_error_message, connections.last_checked_at,
	connections.next_check_at, connections.consecutive_failures, connections.total_failures,
	connections.status_changed_at, connections.connected_by_user_id, connections.connected_at, connections.disconnected_at,
	connections.created_at, connections.updated_at`

// NeedingAction lists the connections of a sub-account that someone must act on
// (reauthenticate, grant a permission, resolve a block), for the banner on its pages.
func (s *Store) NeedingAction(ctx context.Context, subAccountID int64) ([]ConnectionRow, error) {
	var rows []ConnectionRow
	err := s.db.WithContext(ctx).Table("connections").Select(connectionColumns).
		Where("connections.sub_account_id = ? AND connections.status IN ?", subAccountID,
			[]Status{StatusReauthRequired, StatusPermissionsMissing, StatusBlocked}).
		Order("connections.id").Scan(&rows).Error
	return rows, dbError("list connections needing action", err)
}

// kindOrder sorts assets by kind in providers.AssetKinds' order (Pages, ad accounts,
// Instagram accounts, datasets, then LinkedIn's), as the picker groups them.
var kindOrder = func() string {
	var b strings.Builder
	b.WriteString("CASE kind")
	for i, k := range providers.AssetKinds() {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", k, i)
	}
	b.WriteString(" ELSE 99 END")
	return b.String()
}()

// AssetsOf lists the assets shown on a sub-account's connections page: those chosen for it,
// of every connection, ordered by connection, kind and name, in one statement.
func (s *Store) AssetsOf(ctx context.Context, subAccountID int64) ([]Asset, error) {
	var as []Asset
	err := s.db.WithContext(ctx).Where("sub_account_id = ? AND selected", subAccountID).
		Order("connection_id, " + kindOrder + ", LOWER(name), id").Find(&as).Error
	return as, dbError("list assets", err)
}

// UnchosenCounts says, per connection of a sub-account, how many reachable assets it
// reaches that are not chosen here (Choose assets offers them), in one statement.
func (s *Store) UnchosenCounts(ctx context.Context, subAccountID int64) (map[int64]int, error) {
	var rows []struct {
		ConnectionID int64
		N            int
	}
	err := s.db.WithContext(ctx).Table("assets").Select("connection_id, COUNT(*) AS n").
		Where("sub_account_id = ? AND NOT selected AND missing_since IS NULL", subAccountID).
		Group("connection_id").Scan(&rows).Error
	if err != nil {
		return nil, dbError("count unchosen assets", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ConnectionID] = r.N
	}
	return out, nil
}

// AssetsOfConnection lists every asset a connection reaches, chosen or not.
func (s *Store) AssetsOfConnection(ctx context.Context, subAccountID, connectionID int64) ([]Asset, error) {
	var as []Asset
	err := s.db.WithContext(ctx).Where("sub_account_id = ? AND connection_id = ?", subAccountID, connectionID).
		Order(kindOrder + ", LOWER(name), id").Find(&as).Error
	return as, dbError("list assets", err)
}

// Asset returns asset id of sub-account subAccountID.
func (s *Store) Asset(ctx context.Context, subAccountID, id int64) (Asset, error) {
	var a Asset
	err := s.db.WithContext(ctx).Where("id = ? AND sub_account_id = ?", id, subAccountID).Take(&a).Error
	return a, dbError("load asset", err)
}

// SaveAsset creates a (when a.ID is zero) or rewrites it, in sub-account subAccountID.
func (s *Store) SaveAsset(ctx context.Context, subAccountID int64, a *Asset) error {
	a.SubAccountID = subAccountID
	if a.ID == 0 {
		return dbError("create asset", s.db.WithContext(ctx).Create(a).Error)
	}
	res := s.db.WithContext(ctx).Model(&Asset{}).Where("id = ? AND sub_account_id = ?", a.ID, subAccountID).
		Select("*").Omit("id", "sub_account_id", "connection_id", "created_at", "lease_until", "lease_owner").Updates(a)
	if res.Error != nil {
		return dbError("update asset", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ConnectedElsewhere returns, for each external id in ids, the other sub-accounts of
// agency agencyID where an asset with that id is chosen on a live connection, in one
// statement. Callers show a person only those they can reach (Principal.RoleIn).
func (s *Store) ConnectedElsewhere(ctx context.Context, agencyID, subAccountID int64, ids []string) (map[string][]SubAccountRef, error) {
	out := map[string][]SubAccountRef{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ExternalID string
		SubAccountRef
	}
	err := s.db.WithContext(ctx).Table("assets").
		Select("DISTINCT assets.external_id, sub_accounts.id, sub_accounts.name, sub_accounts.agency_id").
		Joins("JOIN sub_accounts ON sub_accounts.id = assets.sub_account_id").
		Joins("JOIN connections ON connections.id = assets.connection_id").
		Where("sub_accounts.agency_id = ? AND assets.sub_account_id <> ? AND assets.selected AND assets.missing_since IS NULL AND connections.status <> ? AND assets.external_id IN ?",
			agencyID, subAccountID, StatusDisconnected, ids).
		Order("sub_accounts.name").Scan(&rows).Error
	if err != nil {
		return nil, dbError("find assets connected elsewhere", err)
	}
	for _, r := range rows {
		out[r.ExternalID] = append(out[r.ExternalID], r.SubAccountRef)
	}
	return out, nil
}

// SetIncidentSince dates (or, with nil, ends) the current incident of connection id of
// sub-account subAccountID.
func (s *Store) SetIncidentSince(ctx context.Context, subAccountID, id int64, at *time.Time) error {
	err := s.db.WithContext(ctx).Model(&Connection{}).Where("id = ? AND sub_account_id = ?", id, subAccountID).
		Update("incident_since", at).Error
	return dbError("date incident", err)
}

// LeaseAsset takes the refresh lease of an asset for d, or returns ErrBusy while someone
// else holds an unexpired one. ErrNotFound when the asset is not the sub-account's.
func (s *Store) LeaseAsset(ctx context.Context, subAccountID, id int64, owner string, d time.Duration) error {
	return s.lease(ctx, "assets", subAccountID, id, owner, d)
}

// ReleaseAsset gives the lease back, if owner still holds it.
func (s *Store) ReleaseAsset(ctx context.Context, subAccountID, id int64, owner string) error {
	return s.release(ctx, "assets", subAccountID, id, owner)
}

// LeaseConnection takes the lease of a whole connection (refresh all, and later checks and
// renewals), like LeaseAsset.
func (s *Store) LeaseConnection(ctx context.Context, subAccountID, id int64, owner string, d time.Duration) error {
	return s.lease(ctx, "connections", subAccountID, id, owner, d)
}

// ReleaseConnection gives the connection's lease back, if owner still holds it.
func (s *Store) ReleaseConnection(ctx context.Context, subAccountID, id int64, owner string) error {
	return s.release(ctx, "connections", subAccountID, id, owner)
}

func (s *Store) lease(ctx context.Context, table string, subAccountID, id int64, owner string, d time.Duration) error {
	now := s.Now()
	res := s.db.WithContext(ctx).Table(table).
		Where("id = ? AND sub_account_id = ? AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)", id, subAccountID, now, owner).
		Updates(map[string]any{"lease_until": now.Add(d), "lease_owner": owner})
	if res.Error != nil {
		return dbError("take lease", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.db.WithContext(ctx).Table(table).Where("id = ? AND sub_account_id = ?", id, subAccountID).Count(&n).Error; err != nil {
		return dbError("take lease", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return ErrBusy
}

func (s *Store) release(ctx context.Context, table string, subAccountID, id int64, owner string) error {
	err := s.db.WithContext(ctx).Table(table).Where("id = ? AND sub_account_id = ? AND lease_owner = ?", id, subAccountID, owner).
		Updates(map[string]any{"lease_until": nil, "lease_owner": ""}).Error
	return dbError("release lease", err)
}
