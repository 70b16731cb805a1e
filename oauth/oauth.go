// Package oauth runs Relink's OAuth dances through gothic, and is the only package that
// touches gothic's and goth's globals. A flow's state is bound, server-side in the
// database, to the user who started it, the sub-account, the intent (connect, or
// reauthenticate which connection) and the requested scopes; it expires quickly and is
// spent by its first callback, so it works across replicas and a replayed or forged
// state is refused.
//
// gothic keeps its own per-flow session (the dialog URL it compares the state against) in
// a sessions.Store; Relink's store keeps it in the flow's row, keyed by the state, instead
// of a cookie, so two flows in two tabs do not overwrite each other.
package oauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	"github.com/markbates/goth"
	"github.com/markbates/goth/gothic"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

// DefaultTTL is how long a user has between Connect and the provider's callback.
const DefaultTTL = 15 * time.Minute

// Errors of a callback, beside the provider's own (a *providers.Error).
var (
	// ErrCanceled: the user cancelled the dialog or declined the permissions.
	ErrCanceled = errors.New("oauth: the sign-in was cancelled")
	// ErrNoState: the callback carries no state at all.
	ErrNoState = errors.New("oauth: the callback has no state")
)

// Config is what the flows are built from.
type Config struct {
	Store *models.Store
	// Providers are the providers to run dances for; each Goth() must have a
	// WithName(string) goth.Provider method (both of Relink's do).
	Providers []providers.Provider
	// TTL is how long a flow waits for its callback; DefaultTTL when zero.
	TTL time.Duration
}

// Flows starts and completes OAuth dances.
type Flows struct {
	store *models.Store
	ttl   time.Duration
	// names maps a provider ("meta") to the names its goth providers are registered
	// under in this instance: plain, and with auth_type=rerequest when it has one.
	names map[string]gothNames
}

// gothNames are the names a provider's goth providers are registered under, and the
// scopes its dialog asks for.
type gothNames struct {
	plain, rerequest string
	scopes           string
}

type renamer interface {
	WithName(name string) goth.Provider
}

// gothicOnce installs Relink's store and state function into gothic's globals, once per
// process; they find the instance through the request's context.
var gothicOnce sync.Once

// New registers the providers with goth and installs the database-backed session store.
func New(cfg Config) (*Flows, error) {
	if cfg.Store == nil {
		return nil, errors.New("oauth: store is required")
	}
	gothicOnce.Do(func() {
		gothic.Store = contextStore{}
		gothic.SetState = func(r *http.Request) string { s, _ := r.Context().Value(stateKey{}).(string); return s }
		// Only Relink says which provider a flow uses: gothic's own lookup would take a
		// "provider" query parameter or route variable, which a caller controls.
		gothic.GetProviderName = func(r *http.Request) (string, error) {
			if p, ok := r.Context().Value(gothic.ProviderParamKey).(string); ok && p != "" {
				return p, nil
			}
			return "", errors.New("oauth: no provider in the request context")
		}
	})
	f := &Flows{store: cfg.Store, ttl: cmp.Or(cfg.TTL, DefaultTTL), names: map[string]gothNames{}}
	instance := randomString(6)
	for _, p := range cfg.Providers {
		gp, ok := p.Goth().(renamer)
		if !ok {
			return nil, fmt.Errorf("oauth: the goth provider of %s cannot be renamed", p.Name())
		}
		n := gothNames{plain: p.Name() + "@" + instance, scopes: requestedScopes(p.Goth())}
		goth.UseProviders(gp.WithName(n.plain))
		if rr, ok := p.Goth().(interface{ Rerequest() *meta.GothProvider }); ok {
			n.rerequest = p.Name() + "-rerequest@" + instance
			goth.UseProviders(rr.Rerequest().WithName(n.rerequest))
		}
		f.names[p.Name()] = n
	}
	return f, nil
}

// Start is what a flow is for.
type Start struct {
	UserID       int64
	SubAccountID int64
	Provider     string
	Intent       models.FlowIntent
	// ConnectionID is the connection being reauthenticated.
	ConnectionID int64
	// Rerequest asks the provider to show declined permissions again (Meta's
	// auth_type=rerequest), for a connection missing one.
	Rerequest bool
}

// Begin records a new flow and returns the provider dialog's URL to redirect to.
func (f *Flows) Begin(w http.ResponseWriter, r *http.Request, s Start) (string, error) {
	n, ok := f.names[s.Provider]
	if !ok {
		return "", fmt.Errorf("oauth: unknown provider %q", s.Provider)
	}
	name := n.plain
	if s.Rerequest && n.rerequest != "" {
		name = n.rerequest
	}
	state := randomString(32)
	fl := models.OAuthFlow{UserID: s.UserID, SubAccountID: s.SubAccountID, Provider: s.Provider, Intent: s.Intent,
		Scopes: n.scopes, ExpiresAt: f.store.Now().Add(f.ttl)}
	if s.ConnectionID != 0 {
		id := s.ConnectionID
		fl.ConnectionID = &id
	}
	if _, err := f.store.CreateFlow(r.Context(), state, fl); err != nil {
		return "", err
	}
	ctx := context.WithValue(r.Context(), stateKey{}, state)
	ctx = context.WithValue(ctx, flowsKey{}, f)
	ctx = context.WithValue(ctx, gothic.ProviderParamKey, name)
	u, err := gothic.GetAuthURL(w, r.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("oauth: begin %s: %w", s.Provider, err)
	}
	return u, nil
}

// Complete handles a provider's callback for the signed-in userID: it spends the flow's
// state (models.ErrFlowUnknown, ErrFlowExpired or ErrFlowUsed when it cannot), then lets
// gothic exchange the code and fetch the provider user. A cancelled dialog is ErrCanceled;
// a provider failure a *providers.Error. The flow is returned whenever it was found, so the
// caller knows which sub-account to send the user back to.
func (f *Flows) Complete(w http.ResponseWriter, r *http.Request, provider string, userID int64) (models.OAuthFlow, goth.User, error) {
	state := r.URL.Query().Get("state")
	if state == "" {
		return models.OAuthFlow{}, goth.User{}, ErrNoState
	}
	fl, err := f.store.ClaimFlow(r.Context(), state, userID)
	if err != nil {
		return fl, goth.User{}, err
	}
	if fl.Provider != provider {
		return fl, goth.User{}, models.ErrFlowUnknown
	}
	// The flow began with the plain provider or its rerequest twin: gothic finds its
	// session under the name it began with.
	name := f.names[fl.Provider].plain
	if rr := f.names[fl.Provider].rerequest; rr != "" && strings.Contains(fl.GothSession, `"`+rr+`"`) {
		name = rr
	}
	// gothic reads its session from the claimed flow; it saves nothing more, as the store
	// is not in this context (after the code exchange its session holds the token).
	ctx := context.WithValue(r.Context(), claimedKey{}, fl.GothSession)
	ctx = context.WithValue(ctx, gothic.ProviderParamKey, name)
	gu, err := gothic.CompleteUserAuth(w, r.WithContext(ctx))
	if err != nil {
		if pe, ok := providers.AsError(err); ok && pe.Detail == providers.DetailLoginCanceled {
			return fl, goth.User{}, ErrCanceled
		}
		return fl, goth.User{}, err
	}
	return fl, gu, nil
}

// requestedScopes are the scopes a goth provider's dialog asks for, read from the dialog URL
// it builds (no request is made), comma-separated.
func requestedScopes(p goth.Provider) string {
	sess, err := p.BeginAuth("probe")
	if err != nil {
		return ""
	}
	raw, err := sess.GetAuthURL()
	if err != nil {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.Join(strings.FieldsFunc(u.Query().Get("scope"), func(r rune) bool { return r == ' ' || r == ',' }), ",")
}

type (
	stateKey   struct{}
	flowsKey   struct{}
	claimedKey struct{}
)

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// contextStore is the sessions.Store installed in gothic. While Begin runs, it saves
// gothic's values in the row of the new flow (the request context carries the flows and the
// state); while Complete runs, it reads them from the flow the callback claimed.
type contextStore struct{}

func (cs contextStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return cs.New(r, name)
}

func (cs contextStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(cs, name)
	s.IsNew = true
	raw, _ := r.Context().Value(claimedKey{}).(string)
	var values map[string][]byte
	if raw == "" || json.Unmarshal([]byte(raw), &values) != nil {
		return s, nil
	}
	for k, v := range values {
		s.Values[k] = string(v)
	}
	s.IsNew = false
	return s, nil
}

func (cs contextStore) Save(r *http.Request, _ http.ResponseWriter, s *sessions.Session) error {
	f, _ := r.Context().Value(flowsKey{}).(*Flows)
	state, _ := r.Context().Value(stateKey{}).(string)
	if f == nil || state == "" || s.Options != nil && s.Options.MaxAge < 0 {
		return nil
	}
	// gothic's values are gzip bytes in a string: []byte keeps them intact through JSON.
	values := map[string][]byte{}
	for k, v := range s.Values {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if ok1 && ok2 {
			values[ks] = []byte(vs)
		}
	}
	b, err := json.Marshal(values)
	if err != nil {
		return err
	}
	// Written only while the dialog is open (see models.Store.SaveFlowSession).
	return f.store.SaveFlowSession(r.Context(), state, string(b))
}
