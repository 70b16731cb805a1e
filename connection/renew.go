package connection

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// renewTimeout bounds a renewal, which runs to its end even when the caller goes away: a
// provider that rotates refresh tokens has already spent the old one when it answers, so
// an answer thrown away would lose the connection.
const renewTimeout = 30 * time.Second

// errGrantChanged: the connection got another grant (or none) while its renewal ran.
var errGrantChanged = errors.New("connection: the grant changed during the renewal")

// renewalDue reports whether tok should be renewed now: it has a refresh
// token and ends within the renewal margin.
func (s *Service) renewalDue(tok providers.Token) bool {
	return tok.RefreshToken != "" && !tok.Expiry.IsZero() && tok.Expiry.Sub(s.now()) <= s.renewBefore
}

// Renew renews the access token of a refresh-token connection of t's sub-account when it
// is due, once across goroutines and replicas: it takes the connection's lease (ErrBusy
// while another check, refresh or renewal holds it) and re-reads the connection under it,
// so a renewal that finished just before finds nothing left to do and the rotating refresh
// token is never used twice.
func (s *Service) Renew(ctx context.Context, t Tenant, connectionID int64) (Result, error) {
	return s.withConnection(ctx, t, connectionID, false, func(conn models.Connection, p providers.Provider, tok providers.Token) (Result, error) {
		_, conn, res, err := s.renewLeased(ctx, t, conn, p, tok)
		if res.Connection.ID == 0 {
			res.Connection = conn
		}
		return res, err
	})
}

// renewLeased renews a connection whose lease the caller holds, if it is still due once
// re-read. It returns the token and connection to go on with; a failed renewal is saved
// (see checkFailed) and reported in Result.Problem.
func (s *Service) renewLeased(ctx context.Context, t Tenant, conn models.Connection, p providers.Provider, _ providers.Token) (providers.Token, models.Connection, Result, error) {
	fresh, err := s.store.Connection(ctx, t.SubAccountID, conn.ID)
	if err != nil {
		return providers.Token{}, conn, Result{}, err
	}
	tok, err := s.token(fresh)
	if err != nil {
		return providers.Token{}, fresh, Result{}, err
	}
	if !s.renewalDue(tok) {
		return tok, fresh, Result{}, nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renewTimeout)
	defer cancel()
	renewed, callErr := p.RenewToken(rctx, tok)
	if s.metrics != nil {
		s.metrics.Renewal(fresh.Provider, callErr == nil)
	}
	if callErr != nil {
		pe := p.Classify(callErr)
		var res Result
		queued := 0
		err := s.store.Tx(rctx, func(tx *models.Store) error {
			var err error
			res, queued, err = s.applyCheck(rctx, tx, t, fresh.AccessToken, fresh.ID, outcome{problem: pe}, nil)
			return err
		})
		s.kick(ctx, queued)
		res.Problem = pe
		return providers.Token{}, fresh, res, err
	}
	// Keep what the answer leaves out: a refresh grant that does not rotate returns no
	// refresh token, and the scopes stay those granted.
	renewed.RefreshToken = cmp.Or(renewed.RefreshToken, tok.RefreshToken)
	if renewed.RefreshExpiry.IsZero() {
		renewed.RefreshExpiry = tok.RefreshExpiry
	}
	if len(renewed.Scopes) == 0 {
		renewed.Scopes = tok.Scopes
	}
	// The save has a budget of its own: however long the provider took, a rotated token
	// must get its chance to be kept.
	sctx, cancelSave := context.WithTimeout(context.WithoutCancel(ctx), renewTimeout)
	defer cancelSave()
	var saved models.Connection
	err = s.store.Tx(sctx, func(tx *models.Store) error {
		c, err := tx.ConnectionForUpdate(sctx, t.SubAccountID, fresh.ID)
		if err != nil {
			return err
		}
		// Only onto the grant that was renewed: a disconnect or a reauthentication that
		// happened meanwhile (neither waits for the lease) wins, and the renewed token
		// is dropped.
		if c.Status == models.StatusDisconnected || !bytes.Equal(c.AccessToken, fresh.AccessToken) || !bytes.Equal(c.RefreshToken, fresh.RefreshToken) {
			return errGrantChanged
		}
		if err := s.sealToken(&c, renewed); err != nil {
			return err
		}
		c.NextCheckAt = s.nextHealthyCheck(c, s.now())
		if err := tx.UpdateConnection(sctx, t.SubAccountID, c); err != nil {
			return err
		}
		saved = c
		return record(sctx, tx, t, models.EventTokenRenewed, &c, nil, func(e *models.ConnectionEvent) {
			e.Detail = "Access renewed ahead of expiry; it now lasts until " + renewed.Expiry.UTC().Format("2 Jan 2006 15:04 MST")
		})
	})
	if errors.Is(err, errGrantChanged) {
		// Not revoked: revoking may end the member's new grant along with it. Unsaved, it
		// simply expires.
		s.log.Info("a renewal finished after the connection changed; its token is dropped", "connection_id", fresh.ID, "sub_account_id", t.SubAccountID)
		return providers.Token{}, fresh, Result{}, ErrBusy
	}
	if err != nil {
		// The provider has the new token and we could not save it: say so loudly, the
		// connection will need reauthenticating if the old refresh token was spent.
		s.log.Error("saving a renewed token failed", "connection_id", fresh.ID, "sub_account_id", t.SubAccountID, "err", err)
		return providers.Token{}, fresh, Result{}, err
	}
	return renewed, saved, Result{Connection: saved}, nil
}
