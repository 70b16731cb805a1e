package connection

import (
	"context"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// RevokeTimeout bounds the provider call that withdraws access on disconnect: it is best
// effort, and the user is waiting.
const RevokeTimeout = 10 * time.Second

// revoke asks the provider to withdraw access, within a provider-call slot.
func (s *Service) revoke(ctx context.Context, p providers.Provider, tok providers.Token) error {
	done, err := s.slot(ctx)
	if err != nil {
		return err
	}
	defer done()
	return p.Revoke(ctx, tok)
}

// Disconnected says how a disconnect went.
type Disconnected struct {
	Connection models.Connection
	// Revoked is set when the provider confirmed it withdrew Relink's access; otherwise the
	// user must also remove Relink in the provider's settings.
	Revoked bool
	// Problem is the provider's answer to the revoke, when it failed.
	Problem *providers.Error
}

// Disconnect withdraws Relink's access at the provider (best effort), wipes the tokens and
// marks the connection disconnected. Its history and assets are kept, read-only.
func (s *Service) Disconnect(ctx context.Context, t Tenant, connectionID int64) (Disconnected, error) {
	conn, err := s.store.Connection(ctx, t.SubAccountID, connectionID)
	if err != nil {
		return Disconnected{}, err
	}
	if conn.Status == models.StatusDisconnected {
		return Disconnected{}, ErrDisconnected
	}
	var out Disconnected
	if p, perr := s.provider(conn.Provider); perr == nil {
		if tok, terr := s.token(conn); terr == nil {
			rctx, cancel := context.WithTimeout(ctx, RevokeTimeout)
			err := s.revoke(rctx, p, tok)
			cancel()
			if err == nil {
				out.Revoked = true
			} else {
				out.Problem = p.Classify(err)
			}
		}
	}
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		if conn, err = tx.Connection(ctx, t.SubAccountID, connectionID); err != nil {
			return err
		}
		if conn.Status == models.StatusDisconnected {
			return ErrDisconnected
		}
		now := s.now()
		old := conn.Status
		conn.AccessToken, conn.RefreshToken = nil, nil
		conn.Status, conn.Reason, conn.ReasonDetail = models.StatusDisconnected, "", ""
		conn.DisconnectedAt, conn.StatusChangedAt = &now, &now
		conn.NextCheckAt = nil
		if err := tx.UpdateConnection(ctx, t.SubAccountID, conn); err != nil {
			return err
		}
		return record(ctx, tx, t, models.EventDisconnected, &conn, nil, func(e *models.ConnectionEvent) {
			e.OldStatus, e.NewStatus = old, models.StatusDisconnected
			if out.Revoked {
				e.Detail = "Tokens deleted; " + ProviderLabel(conn.Provider) + " confirmed Relink's access was removed"
			} else {
				withProblem(e, out.Problem)
				e.Reason = ""
				e.Detail = "Tokens deleted; " + ProviderLabel(conn.Provider) + " could not be told, so Relink may still be listed in the account's settings"
			}
		})
	})
	if err != nil {
		return Disconnected{}, err
	}
	out.Connection = conn
	return out, nil
}
