package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// Result is the outcome of a refresh: the asset (for RefreshAsset) and connection as now
// stored, and the provider's problem when fresh data could not be read.
type Result struct {
	Asset      models.Asset
	Connection models.Connection
	// Problem is nil when fresh data was saved.
	Problem *providers.Error
	// StatusChanged is set when the connection's status changed.
	StatusChanged bool
	// Refreshed counts the assets re-read by RefreshAll.
	Refreshed int
}

// Effect is what a provider failure does to a connection.
type Effect int

// The effects of a failure.
const (
	// EffectAsset: a problem of that asset alone (lost role, unknown); the connection
	// stays as it is.
	EffectAsset Effect = iota
	// EffectTransient: the provider is unavailable or limiting; the connection is
	// degraded, its token and data untouched.
	EffectTransient
	// EffectConnection: the token or grant is at fault; the connection needs action.
	EffectConnection
)

// Classify says what a failure with reason r does and, for EffectConnection, to which status.
func Classify(r providers.Reason) (Effect, models.Status) {
	switch {
	case r == providers.ReasonMissingPermission:
		return EffectConnection, models.StatusPermissionsMissing
	case r == providers.ReasonPolicyBlocked:
		return EffectConnection, models.StatusBlocked
	case r.NeedsReauth():
		return EffectConnection, models.StatusReauthRequired
	case r.Transient():
		return EffectTransient, models.StatusDegraded
	}
	return EffectAsset, ""
}

// RefreshAsset fetches one asset's current data from its provider and saves it, with a
// refresh_ok event; or records why it could not (see Classify). Two refreshes of one asset
// never run at once: the second gets ErrBusy.
func (s *Service) RefreshAsset(ctx context.Context, t Tenant, assetID int64) (Result, error) {
	asset, err := s.store.Asset(ctx, t.SubAccountID, assetID)
	if err != nil {
		return Result{}, err
	}
	conn, p, tok, err := s.open(ctx, t, asset.ConnectionID)
	if err != nil {
		return Result{}, err
	}
	owner := newOwner()
	if err := s.store.LeaseAsset(ctx, t.SubAccountID, asset.ID, owner, s.leaseFor); err != nil {
		return Result{}, err
	}
	defer s.release(t, func(ctx context.Context) error { return s.store.ReleaseAsset(ctx, t.SubAccountID, asset.ID, owner) })
	done, err := s.slot(ctx)
	if err != nil {
		return Result{}, err
	}
	defer done()

	fresh, callErr := p.RefreshAsset(ctx, tok, asset.Kind, asset.ExternalID)
	if providers.IsCanceled(callErr) {
		return Result{}, callErr
	}
	var res Result
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		// Re-read under the transaction: a disconnect or reauthentication may have
		// happened while the provider answered.
		if conn, err = tx.Connection(ctx, t.SubAccountID, conn.ID); err != nil {
			return err
		}
		if asset, err = tx.Asset(ctx, t.SubAccountID, asset.ID); err != nil {
			return err
		}
		if conn.Status == models.StatusDisconnected {
			return ErrDisconnected
		}
		now := s.now()
		if callErr == nil {
			applyData(&asset, fresh, now)
			asset.MissingSince = nil
			if err := tx.SaveAsset(ctx, t.SubAccountID, &asset); err != nil {
				return err
			}
			if err := record(ctx, tx, t, models.EventRefreshOK, &conn, &asset, func(e *models.ConnectionEvent) {
				e.Detail = "Refreshed " + assetLabel(asset)
			}); err != nil {
				return err
			}
			res.StatusChanged, err = s.recovered(ctx, tx, t, &conn, now)
			return err
		}
		pe := p.Classify(callErr)
		res.Problem = pe
		res.StatusChanged, err = s.failed(ctx, tx, t, &conn, &asset, pe, now)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if res.StatusChanged {
		s.kick(ctx, 1)
	}
	res.Asset, res.Connection = asset, conn
	return res, nil
}

// RefreshAll re-reads every asset of a connection with one paged list call per kind, and
// re-checks the token's validity, expiry and scopes. New assets are kept unchosen (Choose
// assets offers them); assets no longer returned are flagged, not deleted.
func (s *Service) RefreshAll(ctx context.Context, t Tenant, connectionID int64) (Result, error) {
	return s.withConnection(ctx, t, connectionID, true, func(conn models.Connection, p providers.Provider, tok providers.Token) (Result, error) {
		return s.refreshAllLeased(ctx, t, conn, p, tok)
	})
}

// withConnection opens a connection of t's sub-account, takes its lease (ErrBusy while a
// refresh, check or renewal of it runs anywhere) and, with slot, a provider-call slot,
// then runs fn and gives both back.
func (s *Service) withConnection(ctx context.Context, t Tenant, connectionID int64, slot bool,
	fn func(models.Connection, providers.Provider, providers.Token) (Result, error)) (Result, error) {
	conn, p, tok, err := s.open(ctx, t, connectionID)
	if err != nil {
		return Result{}, err
	}
	owner := newOwner()
	if err := s.store.LeaseConnection(ctx, t.SubAccountID, conn.ID, owner, s.leaseFor); err != nil {
		return Result{}, err
	}
	defer s.release(t, func(ctx context.Context) error {
		return s.store.ReleaseConnection(ctx, t.SubAccountID, conn.ID, owner)
	})
	if slot {
		done, err := s.slot(ctx)
		if err != nil {
			return Result{}, err
		}
		defer done()
	}
	return fn(conn, p, tok)
}

// refreshAllLeased is RefreshAll once the connection's lease is held.
func (s *Service) refreshAllLeased(ctx context.Context, t Tenant, conn models.Connection, p providers.Provider, tok providers.Token) (Result, error) {
	var err error
	var (
		info     providers.TokenInfo
		assets   []providers.Asset
		callErr  error
		problem  *providers.Error
		granted  []string
		infoRead bool
	)
	if info, callErr = p.InspectToken(ctx, tok); callErr == nil {
		infoRead = true
		granted = info.Scopes
		if !info.Valid {
			problem = info.Problem
		} else {
			assets, callErr = p.DiscoverAssets(ctx, tok)
		}
	}
	if providers.IsCanceled(callErr) {
		return Result{}, callErr
	}
	if callErr != nil {
		problem = p.Classify(callErr)
	}
	var res Result
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		if conn, err = tx.Connection(ctx, t.SubAccountID, conn.ID); err != nil {
			return err
		}
		if conn.Status == models.StatusDisconnected {
			return ErrDisconnected
		}
		now := s.now()
		if infoRead && info.Valid {
			if !info.ExpiresAt.IsZero() {
				conn.TokenExpiresAt = timePtr(info.ExpiresAt)
			}
			if !info.DataAccessExpiresAt.IsZero() {
				conn.DataAccessExpiresAt = timePtr(info.DataAccessExpiresAt)
			}
		}
		if problem == nil {
			if sc := missingScope(conn.Provider, granted); sc != "" && len(granted) > 0 {
				problem = &providers.Error{Provider: conn.Provider, Op: "inspect_token", Reason: providers.ReasonMissingPermission,
					Scope: sc, Message: "permission " + sc + " is not granted"}
			}
		}
		if problem != nil {
			res.Problem = problem
			res.StatusChanged, err = s.failed(ctx, tx, t, &conn, nil, problem, now)
			return err
		}
		if len(granted) > 0 {
			conn.Scopes = strings.Join(granted, ",")
		}
		if err := s.syncDiscovered(ctx, tx, t, conn, assets, nil); err != nil {
			return err
		}
		res.Refreshed = len(assets)
		if err := record(ctx, tx, t, models.EventRefreshOK, &conn, nil, func(e *models.ConnectionEvent) {
			e.Detail = fmt.Sprintf("Refreshed all: %d assets read, permissions checked", len(assets))
		}); err != nil {
			return err
		}
		res.StatusChanged, err = s.recovered(ctx, tx, t, &conn, now)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if res.StatusChanged {
		s.kick(ctx, 1)
	}
	res.Connection = conn
	return res, nil
}

// open loads a connection of t's sub-account with its provider and its token in clear,
// for a call to the provider.
func (s *Service) open(ctx context.Context, t Tenant, connectionID int64) (models.Connection, providers.Provider, providers.Token, error) {
	conn, err := s.store.Connection(ctx, t.SubAccountID, connectionID)
	if err != nil {
		return conn, nil, providers.Token{}, err
	}
	p, err := s.provider(conn.Provider)
	if err != nil {
		return conn, nil, providers.Token{}, err
	}
	tok, err := s.token(conn)
	return conn, p, tok, err
}

// recovered marks a connection healthy after a provider call with its token succeeded, and
// saves it; it reports whether the status changed.
func (s *Service) recovered(ctx context.Context, tx *models.Store, t Tenant, conn *models.Connection, now time.Time) (bool, error) {
	conn.LastCheckedAt = &now
	conn.ConsecutiveFailures = 0
	was := beforeOf(*conn)
	old := conn.Status
	changed := old != models.StatusHealthy && old != models.StatusExpiring
	conn.UnreachableSince, conn.IncidentID = nil, nil
	conn.NextCheckAt = s.nextHealthyCheck(*conn, now)
	if changed {
		conn.Status, conn.Reason, conn.ReasonDetail = models.StatusHealthy, "", ""
		conn.LastErrorCode, conn.LastErrorSubcode, conn.LastErrorMessage = 0, 0, ""
		conn.StatusChangedAt = &now
	}
	if err := tx.UpdateConnection(ctx, t.SubAccountID, *conn); err != nil {
		return false, err
	}
	if !changed {
		return false, nil
	}
	if err := record(ctx, tx, t, models.EventStatusChanged, conn, nil, func(e *models.ConnectionEvent) {
		e.OldStatus, e.NewStatus = old, models.StatusHealthy
		e.Detail = "A call with the connection's token succeeded again"
	}); err != nil {
		return false, err
	}
	_, err := s.afterChange(ctx, tx, t, *conn, was, now)
	return true, err
}

// failed records a failed refresh and applies its effect (see Classify); asset is nil for
// a failure of the whole connection. It reports whether the connection's status changed.
func (s *Service) failed(ctx context.Context, tx *models.Store, t Tenant, conn *models.Connection, asset *models.Asset, pe *providers.Error, now time.Time) (bool, error) {
	effect, status := Classify(pe.Reason)
	old := conn.Status
	was := beforeOf(*conn)
	if effect == EffectTransient && (old == models.StatusHealthy || old == models.StatusExpiring || old == models.StatusDegraded) {
		status = models.StatusDegraded
	} else if effect == EffectTransient {
		// A connection that already needs action keeps saying so: an outage proves nothing.
		status = old
	}
	if effect == EffectAsset && asset == nil {
		// An unknown failure of the whole connection: recorded, status kept.
		status = old
	}
	if asset != nil && effect == EffectAsset {
		asset.LastErrorCode, asset.LastErrorMessage, asset.LastErrorReason = pe.Code, pe.Message, pe.Reason
		if err := tx.SaveAsset(ctx, t.SubAccountID, asset); err != nil {
			return false, err
		}
		return false, record(ctx, tx, t, models.EventAssetProblem, conn, asset, func(e *models.ConnectionEvent) {
			withProblem(e, pe)
			e.Detail = "Refreshing " + assetLabel(*asset) + " failed; the connection itself is fine"
		})
	}
	conn.LastCheckedAt = &now
	conn.LastErrorCode, conn.LastErrorSubcode, conn.LastErrorMessage = pe.Code, pe.Subcode, pe.Message
	conn.ConsecutiveFailures++
	conn.TotalFailures++
	changed := status != old
	if changed || effect == EffectConnection {
		conn.Status, conn.Reason, conn.ReasonDetail = status, pe.Reason, pe.Scope
	}
	if changed {
		conn.StatusChangedAt = &now
	}
	// The next check follows what the refresh learned, as a check's own failure would set it.
	switch {
	case effect == EffectConnection:
		conn.UnreachableSince, conn.IncidentID = nil, nil
		conn.NextCheckAt = timePtr(now.Add(s.deadEvery(conn.Status)))
	case effect == EffectTransient && !NeedsAction(conn.Status):
		if conn.UnreachableSince == nil {
			conn.UnreachableSince = &now
		}
		conn.NextCheckAt = timePtr(now.Add(backoff(conn.ConsecutiveFailures, pe.RetryAfter)))
	}
	if err := tx.UpdateConnection(ctx, t.SubAccountID, *conn); err != nil {
		return false, err
	}
	if _, err := s.afterChange(ctx, tx, t, *conn, was, now); err != nil {
		return false, err
	}
	return changed, record(ctx, tx, t, models.EventRefreshFailed, conn, asset, func(e *models.ConnectionEvent) {
		withProblem(e, pe)
		e.OldStatus, e.NewStatus = old, conn.Status
		// The reason is shown in words beside the detail, which says what was tried.
		e.Detail = "Refreshing all assets and checking the token failed"
		if asset != nil {
			e.Detail = "Refreshing " + assetLabel(*asset) + " failed"
		}
		if pe.Scope != "" {
			e.Detail += "; missing permission: " + pe.Scope
		}
	})
}

// release runs a lease release even when the request's context is gone, so that a client
// that went away does not leave the asset "refreshing" until the lease runs out.
func (s *Service) release(t Tenant, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("releasing a refresh lease failed; it expires by itself", "sub_account_id", t.SubAccountID, "err", err)
	}
}
