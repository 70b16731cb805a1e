package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// FlowIntent says what an OAuth flow is for.
type FlowIntent string

// Flow intents.
const (
	IntentConnect        FlowIntent = "connect"
	IntentReauthenticate FlowIntent = "reauthenticate"
)

// FlowStage is how far an OAuth flow got.
type FlowStage string

// Flow stages, in order: the dialog was opened, its callback arrived (the state is spent),
// the grant was stored for the picker, the user saved it.
const (
	StageStarted    FlowStage = "started"
	StageClaimed    FlowStage = "claimed"
	StageAuthorized FlowStage = "authorized"
	StageDone       FlowStage = "done"
)

// OAuthFlow is one OAuth dance kept server-side, bound to the user who started it, the
// sub-account and the intent. Token is ciphertext (see Cipher), present only while the
// picker waits; Assets is the discovered assets as JSON.
type OAuthFlow struct {
	ID               int64
	StateHash        string
	UserID           int64
	SubAccountID     int64
	Provider         string
	Intent           FlowIntent
	ConnectionID     *int64
	Scopes           string
	GothSession      string
	Stage            FlowStage
	ExternalUserID   string
	ExternalUserName string
	Token            []byte
	Assets           string
	CreatedAt        time.Time
	ExpiresAt        time.Time
}

// Errors of a flow's callback, each a different message for the user.
var (
	// ErrFlowUnknown: no flow has this state (forged, or from another server).
	ErrFlowUnknown = errors.New("models: unknown sign-in state")
	// ErrFlowExpired: the flow was started too long ago.
	ErrFlowExpired = errors.New("models: sign-in state expired")
	// ErrFlowUsed: the callback was already handled once (a replay, or the back button).
	ErrFlowUsed = errors.New("models: sign-in state already used")
)

// HashState is the form in which a flow's state is looked up: the state itself travels to
// the provider and back. (gothic's session, kept in the row until the callback claims the
// flow, holds the dialog URL with the state; a claim also needs the flow's own user.)
func HashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// CreateFlow stores a new flow for state; the id, stage and hash in f are set here.
func (s *Store) CreateFlow(ctx context.Context, state string, f OAuthFlow) (OAuthFlow, error) {
	if state == "" || f.UserID == 0 || f.SubAccountID == 0 || f.Provider == "" {
		return OAuthFlow{}, errors.New("models: create flow: state, user, sub-account and provider are required")
	}
	f.ID = 0
	f.StateHash = HashState(state)
	f.Stage = StageStarted
	f.Token, f.Assets = nil, ""
	err := s.db.WithContext(ctx).Create(&f).Error
	return f, dbError("create flow", err)
}

// SaveFlowSession keeps gothic's session of the flow with state while the dialog is open.
// Once the callback has claimed the flow nothing more is written: gothic saves its session
// again after the code exchange, with the access token in it, and that must not reach the
// database in clear.
func (s *Store) SaveFlowSession(ctx context.Context, state, session string) error {
	res := s.db.WithContext(ctx).Model(&OAuthFlow{}).
		Where("state_hash = ? AND stage = ?", HashState(state), StageStarted).
		Update("goth_session", session)
	return dbError("save flow session", res.Error)
}

// ClaimFlow spends the state of a callback: the flow must exist, belong to userID, be
// unexpired and unclaimed. It succeeds once; a second call gets ErrFlowUsed. The flow comes
// back with gothic's session, which the row gives up in the same statement: it holds the
// dialog URL, state included, and is needed no more once the callback has it.
func (s *Store) ClaimFlow(ctx context.Context, state string, userID int64) (OAuthFlow, error) {
	now := s.Now()
	var f OAuthFlow
	err := s.db.WithContext(ctx).Where("state_hash = ? AND user_id = ?", HashState(state), userID).Take(&f).Error
	switch {
	case errors.Is(dbError("", err), ErrNotFound):
		// Another user's state is as unknown to this one as a forged one.
		return OAuthFlow{}, ErrFlowUnknown
	case err != nil:
		return OAuthFlow{}, dbError("claim flow", err)
	}
	res := s.db.WithContext(ctx).Model(&OAuthFlow{}).
		Where("id = ? AND stage = ? AND expires_at > ?", f.ID, StageStarted, now).
		Updates(map[string]any{"stage": StageClaimed, "goth_session": ""})
	switch {
	case res.Error != nil:
		return OAuthFlow{}, dbError("claim flow", res.Error)
	case res.RowsAffected == 1:
		f.Stage = StageClaimed
		return f, nil
	case f.Stage == StageStarted && !f.ExpiresAt.After(now):
		return f, ErrFlowExpired
	}
	// Claimed before, or by a request racing this one.
	return f, ErrFlowUsed
}

// AuthorizeFlow stores what the provider granted a claimed flow, for the picker: the
// provider user, the token (ciphertext) and the discovered assets. The flow's life is
// extended to ttl from now, the time the user has to choose.
func (s *Store) AuthorizeFlow(ctx context.Context, flowID int64, userID, userName string, token []byte, assets string, ttl time.Duration) error {
	res := s.db.WithContext(ctx).Model(&OAuthFlow{}).Where("id = ? AND stage = ?", flowID, StageClaimed).
		Updates(map[string]any{"stage": StageAuthorized, "external_user_id": userID, "external_user_name": userName,
			"token": token, "assets": assets, "expires_at": s.Now().Add(ttl)})
	if res.Error != nil {
		return dbError("authorize flow", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrFlowUsed
	}
	return nil
}

// AuthorizedFlow returns the flow waiting in the picker, scoped to the user who started it
// and its sub-account: anyone else's is ErrNotFound. An expired one is ErrFlowExpired, one
// already saved ErrFlowUsed.
func (s *Store) AuthorizedFlow(ctx context.Context, userID, subAccountID, flowID int64) (OAuthFlow, error) {
	var f OAuthFlow
	err := s.db.WithContext(ctx).Where("id = ? AND user_id = ? AND sub_account_id = ?", flowID, userID, subAccountID).Take(&f).Error
	if err != nil {
		return OAuthFlow{}, dbError("load flow", err)
	}
	switch {
	case f.Stage == StageDone:
		return f, ErrFlowUsed
	case f.Stage != StageAuthorized:
		return f, ErrNotFound
	case !f.ExpiresAt.After(s.Now()):
		return f, ErrFlowExpired
	}
	return f, nil
}

// FinishFlow marks an authorized flow saved and wipes its token, once: a second call (two
// tabs submitting the picker) gets ErrFlowUsed. Call it in the transaction that saves the
// connection.
func (s *Store) FinishFlow(ctx context.Context, userID, flowID int64) error {
	res := s.db.WithContext(ctx).Model(&OAuthFlow{}).
		Where("id = ? AND user_id = ? AND stage = ? AND expires_at > ?", flowID, userID, StageAuthorized, s.Now()).
		Updates(map[string]any{"stage": StageDone, "token": nil, "assets": "", "goth_session": ""})
	if res.Error != nil {
		return dbError("finish flow", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrFlowUsed
	}
	return nil
}

// PruneFlows deletes flows that expired before now, tokens and all.
func (s *Store) PruneFlows(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", s.Now()).Delete(&OAuthFlow{})
	return res.RowsAffected, dbError("prune flows", res.Error)
}

// TableName is the flows' table (GORM would name it o_auth_flows).
func (OAuthFlow) TableName() string { return "oauth_flows" }
