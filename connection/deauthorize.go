package connection

import (
	"context"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// AppRemoved applies the provider's word that its user externalUserID removed Relink
// (Meta's deauthorize callback, whose signature the caller verified): every connection of
// that user, in every sub-account, needs reauthenticating now, without waiting for a
// check. issuedAt is when the provider said so: a connection granted again since then (a
// late or replayed callback) is left alone. It returns how many connections changed.
func (s *Service) AppRemoved(ctx context.Context, provider, externalUserID string, issuedAt time.Time, requestID string) (int, error) {
	conns, err := s.store.System().ConnectionsOfProviderUser(ctx, provider, externalUserID)
	if err != nil {
		return 0, err
	}
	changed, queued := 0, 0
	pe := &providers.Error{Provider: provider, Op: "deauthorize_callback", Reason: providers.ReasonAppRemoved,
		Message: "the user removed the app (deauthorize callback)"}
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		for _, c := range conns {
			t := Tenant{SubAccountID: c.SubAccountID, Actor: SystemActor, RequestID: requestID}
			c, err := tx.ConnectionForUpdate(ctx, c.SubAccountID, c.ID)
			if err != nil {
				return err
			}
			if c.Status == models.StatusReauthRequired && c.Reason == providers.ReasonAppRemoved {
				continue
			}
			if grantedSince(c, issuedAt) {
				continue
			}
			was := beforeOf(c)
			n, err := s.checkFailed(ctx, tx, t, &c, was, pe, ProviderLabel(provider)+" called Relink back: the app was removed", s.now())
			if err != nil {
				return err
			}
			changed++
			queued += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.kick(ctx, queued)
	return changed, nil
}

// grantedSince reports whether c was granted (connected, or reauthenticated back to
// working) after at.
func grantedSince(c models.Connection, at time.Time) bool {
	if c.ConnectedAt != nil && c.ConnectedAt.After(at) {
		return true
	}
	return !NeedsAction(c.Status) && c.StatusChangedAt != nil && c.StatusChangedAt.After(at) && c.Reason == ""
}
