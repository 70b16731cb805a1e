// Package connection is Relink's connection service: connecting a provider account to a
// sub-account, discovering and choosing its assets, refreshing them, reauthenticating and
// disconnecting, checking their health (Check, the periodic Sweep, Meta's deauthorize
// callback) and renewing refresh-token grants, with the status machine and the history
// event of every change. It knows nothing of HTTP: handlers and the background jobs call
// it the same way.
//
// A status change that calls for an email hands a Notice to the Notifier inside its own
// transaction, so the change and its email commit together: one incident email on
// entering a status someone must act on, "reconnected" when an emailed incident ends,
// reminders before an expiry Relink cannot push back, and one notice when a provider has
// not answered for days. A provider that is down, slow or rate-limiting only ever makes a
// working connection degraded: its token is kept and nothing says it expired.
//
// Every method takes the Tenant it acts in and writes each change with its history event in
// one transaction. Tokens are decrypted only inside this package, for the provider call
// that needs them; nothing it returns holds one in clear.
package connection

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// Errors the service returns besides models' ErrNotFound.
var (
	// ErrBusy: the asset or connection is being refreshed right now (another tab, another
	// replica); nothing was done.
	ErrBusy = models.ErrBusy
	// ErrDisconnected: the connection is disconnected and holds no token.
	ErrDisconnected = errors.New("connection: the connection is disconnected")
	// ErrUnknownProvider: no provider of that name is configured.
	ErrUnknownProvider = errors.New("connection: unknown provider")
	// ErrOverloaded: this process already runs MaxCalls provider operations and none
	// ended within CallWait; nothing was done.
	ErrOverloaded = errors.New("connection: too many provider calls at once")
	// ErrAlreadyConnected: reauthenticating one connection as a provider user who already
	// has another connection in the sub-account.
	ErrAlreadyConnected = errors.New("connection: that provider user already has a connection here")
)

// Actor is who acts: a user, support, or Relink itself (jobs).
type Actor struct {
	Type   string
	UserID int64
}

// UserActor is a signed-in user acting.
func UserActor(userID int64) Actor { return Actor{Type: models.ActorUser, UserID: userID} }

// SystemActor is Relink acting on its own (checks, renewals).
var SystemActor = Actor{Type: models.ActorSystem}

// Tenant is where and as whom the service acts.
type Tenant struct {
	AgencyID     int64
	SubAccountID int64
	Actor        Actor
	// RequestID ties history events to the request or job that caused them.
	RequestID string
	// Viewer is the signed-in person the answer is for: other sub-accounts are named to
	// them only when they can reach them. Nil (jobs) names none.
	Viewer *models.Principal
}

// visible are the names of the sub-accounts among refs that t's viewer can reach.
func (t Tenant) visible(refs []models.SubAccountRef) []string {
	if t.Viewer == nil {
		return nil
	}
	var names []string
	for _, r := range refs {
		if _, ok := t.Viewer.RoleIn(r); ok {
			names = append(names, r.Name)
		}
	}
	return names
}

// Config is what the service is built from.
type Config struct {
	Store     *models.Store
	Cipher    *models.Cipher
	Providers []providers.Provider
	Log       *slog.Logger
	// LeaseFor bounds how long a refresh may hold an asset or connection; default 2 minutes.
	LeaseFor time.Duration
	// PickerTTL is how long a user has to choose assets after the dialog; default 30 minutes.
	PickerTTL time.Duration
	// MaxCalls bounds the provider operations (a refresh, a discovery, a revoke) this
	// process runs at once; default 32. One past it waits up to CallWait (default 10 s),
	// then gets ErrOverloaded, so that a burst of clicks cannot pile up goroutines and sockets.
	MaxCalls int
	CallWait time.Duration

	// Notifier writes the emails status changes call for; nil sends none.
	Notifier Notifier
	// Metrics counts checks, renewals and sweeps; nil counts nothing.
	Metrics Metrics
	// CheckEvery is how often a working connection is checked (HEALTH_INTERVAL); default
	// 15 minutes.
	CheckEvery time.Duration
	// RenewBefore is how long before its expiry a refresh-token connection is renewed;
	// default 10 days.
	RenewBefore time.Duration
	// UnreachableNotice is how long a provider may not answer for a connection before its
	// admins get one "we cannot reach" email; default 3 days.
	UnreachableNotice time.Duration
	// SweepConcurrency bounds the groups of checks per provider a sweep runs at once;
	// default 4.
	SweepConcurrency int
}

// Service is the connection service.
type Service struct {
	store     *models.Store
	cipher    *models.Cipher
	providers map[string]providers.Provider
	names     []string
	log       *slog.Logger
	leaseFor  time.Duration
	pickerTTL time.Duration
	calls     *semaphore.Weighted
	callWait  time.Duration

	notifier          Notifier
	metrics           Metrics
	checkEvery        time.Duration
	renewBefore       time.Duration
	unreachableNotice time.Duration
	sweepConcurrency  int
}

// New builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Cipher == nil {
		return nil, errors.New("connection: store and cipher are required")
	}
	s := &Service{store: cfg.Store, cipher: cfg.Cipher, providers: map[string]providers.Provider{},
		log: cmp.Or(cfg.Log, slog.Default()), leaseFor: cmp.Or(cfg.LeaseFor, 2*time.Minute),
		pickerTTL: cmp.Or(cfg.PickerTTL, 30*time.Minute), calls: semaphore.NewWeighted(int64(cmp.Or(cfg.MaxCalls, 32))),
		callWait: cmp.Or(cfg.CallWait, 10*time.Second), notifier: cfg.Notifier, metrics: cfg.Metrics,
		checkEvery: cmp.Or(cfg.CheckEvery, DefaultCheckEvery), renewBefore: cmp.Or(cfg.RenewBefore, DefaultRenewBefore),
		unreachableNotice: cmp.Or(cfg.UnreachableNotice, DefaultUnreachableNotice), sweepConcurrency: cmp.Or(cfg.SweepConcurrency, 4)}
	for _, p := range cfg.Providers {
		s.providers[p.Name()] = p
		s.names = append(s.names, p.Name())
	}
	return s, nil
}

// Providers names the configured providers, in the order given.
func (s *Service) Providers() []string { return slices.Clone(s.names) }

func (s *Service) provider(name string) (providers.Provider, error) {
	p, ok := s.providers[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownProvider, name)
	}
	return p, nil
}

// slot waits for a free provider-call slot; release gives it back. A wait longer than
// CallWait is ErrOverloaded.
func (s *Service) slot(ctx context.Context) (release func(), err error) {
	wctx, cancel := context.WithTimeout(ctx, s.callWait)
	defer cancel()
	if err := s.calls.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrOverloaded
	}
	return func() { s.calls.Release(1) }, nil
}

// RequiredScopes are the permissions without which a provider's connection cannot do its
// job; a grant missing one is permissions_missing.
var RequiredScopes = map[string][]string{
	"meta":     {"pages_show_list", "ads_read", "ads_management", "business_management"},
	"linkedin": {"r_ads", "r_organization_admin"},
}

// missingScope returns the first required scope of provider that granted lacks.
func missingScope(provider string, granted []string) string {
	for _, sc := range RequiredScopes[provider] {
		if !slices.Contains(granted, sc) {
			return sc
		}
	}
	return ""
}

// now is the service's clock: the store's, which is the sandbox's in sandbox mode.
func (s *Service) now() time.Time { return s.store.Now().Truncate(time.Second) }

func newOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// record appends an event for tenant t; conn and asset may be nil.
func record(ctx context.Context, tx *models.Store, t Tenant, kind string, conn *models.Connection, asset *models.Asset, fill func(*models.ConnectionEvent)) error {
	e := models.ConnectionEvent{Kind: kind, ActorType: t.Actor.Type, RequestID: t.RequestID}
	if t.Actor.UserID != 0 {
		e.ActorUserID = &t.Actor.UserID
	}
	if conn != nil && conn.ID != 0 {
		e.ConnectionID = &conn.ID
	}
	if asset != nil && asset.ID != 0 {
		e.AssetID = &asset.ID
	}
	if fill != nil {
		fill(&e)
	}
	_, err := tx.RecordEvent(ctx, t.SubAccountID, e)
	return err
}

// withProblem copies a provider error's codes into an event, never a token.
func withProblem(e *models.ConnectionEvent, pe *providers.Error) {
	if pe == nil {
		return
	}
	e.Reason = pe.Reason
	e.ProviderCode, e.ProviderSubcode = pe.Code, pe.Subcode
	e.ProviderMessage = pe.Message
	if e.ProviderMessage == "" && pe.Err != nil {
		e.ProviderMessage = providers.Redact(pe.Err.Error())
	}
	e.RequestID = cmp.Or(pe.FBTraceID, pe.RequestID, e.RequestID)
}

// tokenAAD binds a token ciphertext to its row and column, so it cannot be copied onto
// another connection.
func tokenAAD(table string, id int64, column string) []byte {
	return fmt.Appendf(nil, "%s:%d:%s", table, id, column)
}

// sealToken encrypts the connection's tokens into c; c.ID must be set.
func (s *Service) sealToken(c *models.Connection, tok providers.Token) error {
	var err error
	if c.AccessToken, err = s.cipher.Encrypt([]byte(tok.AccessToken), tokenAAD("connections", c.ID, "access_token")); err != nil {
		return err
	}
	if c.RefreshToken, err = s.cipher.Encrypt([]byte(tok.RefreshToken), tokenAAD("connections", c.ID, "refresh_token")); err != nil {
		return err
	}
	c.TokenExpiresAt = timePtr(tok.Expiry)
	c.RefreshExpiresAt = timePtr(tok.RefreshExpiry)
	c.DataAccessExpiresAt = timePtr(tok.DataAccessExpiry)
	if len(tok.Scopes) > 0 {
		c.Scopes = strings.Join(tok.Scopes, ",")
	}
	return nil
}

// token opens the connection's tokens for a provider call.
func (s *Service) token(c models.Connection) (providers.Token, error) {
	if c.Status == models.StatusDisconnected || len(c.AccessToken) == 0 {
		return providers.Token{}, ErrDisconnected
	}
	at, err := s.cipher.Decrypt(c.AccessToken, tokenAAD("connections", c.ID, "access_token"))
	if err != nil {
		return providers.Token{}, fmt.Errorf("connection: open token of connection %d: %w", c.ID, err)
	}
	rt, err := s.cipher.Decrypt(c.RefreshToken, tokenAAD("connections", c.ID, "refresh_token"))
	if err != nil {
		return providers.Token{}, fmt.Errorf("connection: open token of connection %d: %w", c.ID, err)
	}
	tok := providers.Token{AccessToken: string(at), RefreshToken: string(rt)}
	if c.TokenExpiresAt != nil {
		tok.Expiry = *c.TokenExpiresAt
	}
	if c.RefreshExpiresAt != nil {
		tok.RefreshExpiry = *c.RefreshExpiresAt
	}
	if c.DataAccessExpiresAt != nil {
		tok.DataAccessExpiry = *c.DataAccessExpiresAt
	}
	if c.Scopes != "" {
		tok.Scopes = strings.Split(c.Scopes, ",")
	}
	return tok, nil
}

// sealFlowToken encrypts a grant kept in a flow while the picker waits, as a whole.
func (s *Service) sealFlowToken(flowID int64, tok providers.Token) ([]byte, error) {
	b, err := json.Marshal(tok)
	if err != nil {
		return nil, err
	}
	return s.cipher.Encrypt(b, tokenAAD("oauth_flows", flowID, "token"))
}

func (s *Service) openFlowToken(f models.OAuthFlow) (providers.Token, error) {
	b, err := s.cipher.Decrypt(f.Token, tokenAAD("oauth_flows", f.ID, "token"))
	if err != nil {
		return providers.Token{}, fmt.Errorf("connection: open token of flow %d: %w", f.ID, err)
	}
	var tok providers.Token
	if err := json.Unmarshal(b, &tok); err != nil {
		return providers.Token{}, fmt.Errorf("connection: read token of flow %d: %w", f.ID, err)
	}
	return tok, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}
