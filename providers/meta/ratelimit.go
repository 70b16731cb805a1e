package meta

import (
	"context"
	"sync"
	"time"
)

// LimitStore keeps Meta's rate-limit state where every Client that must respect it can
// read it: the default keeps it in one Client's memory, the database's
// (models.Store.ProviderLimits) shares it between replicas, so that a pause one replica
// learned from Meta stops the others too.
//
// State is keyed by scope: ScopeApp, ObjectScope(id) and TokenScope(token). A scope
// has a usage percentage and a time until which no call is made. The methods use only
// standard types so that a store can satisfy the interface without importing this
// package.
type LimitStore interface {
	// Load returns the usage and the pause of each of scopes that has any; a scope
	// missing from both maps has neither. Pauses that have passed may be returned.
	Load(ctx context.Context, scopes []string) (usage map[string]int, pausedUntil map[string]time.Time, err error)
	// Record sets the usage of the scopes in usage, leaving their pauses alone, and
	// the pause of the scopes in pausedUntil, leaving their usage alone.
	Record(ctx context.Context, usage map[string]int, pausedUntil map[string]time.Time) error
}

// ScopeApp is the scope of the app-wide limit (x-app-usage, code 4). Scopes are named
// as the provider_limits table's migration documents them.
const ScopeApp = "app"

const (
	objectPrefix = "object:"
	tokenPrefix  = "token:"
)

// ObjectScope is the scope of a business object (ad account without act_, Page) as
// x-business-use-case-usage names it.
func ObjectScope(id string) string { return objectPrefix + id }

// TokenScope is the scope of a token's user limit (code 17). It holds the token's
// fingerprint, never the token: the state is stored in the clear.
func TokenScope(tok string) string { return tokenPrefix + fingerprint(tok) }

// userLimited is the usage a token scope records while its user limit holds: it spaces
// that token's calls out as much as any usage can, and a success sets it back to 0.
const userLimited = 100

// usageStep is how far usage below the slow-down threshold must move before it is
// written again: below the threshold no call waits, so a few points either way change
// nothing, and not writing them spares the store a write per call of a busy sweep.
const usageStep = 5

// maxKnown bounds the per-Client cache of what the store holds.
const maxKnown = 10000

// MemoryLimits keeps the state in this process: the default for a Client, and enough
// for several Clients in one process to share it.
type MemoryLimits struct {
	mu      sync.Mutex
	usage   map[string]int
	blocked map[string]time.Time
}

var _ LimitStore = (*MemoryLimits)(nil)

// NewMemoryLimits returns an empty in-memory store.
func NewMemoryLimits() *MemoryLimits {
	return &MemoryLimits{usage: map[string]int{}, blocked: map[string]time.Time{}}
}

// Load implements LimitStore.
func (m *MemoryLimits) Load(_ context.Context, scopes []string) (map[string]int, map[string]time.Time, error) {
	usage, blocked := map[string]int{}, map[string]time.Time{}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range scopes {
		if u, ok := m.usage[s]; ok {
			usage[s] = u
		}
		if t, ok := m.blocked[s]; ok {
			blocked[s] = t
		}
	}
	return usage, blocked, nil
}

// Record implements LimitStore.
func (m *MemoryLimits) Record(_ context.Context, usage map[string]int, pausedUntil map[string]time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s, u := range usage {
		m.usage[s] = u
	}
	for s, t := range pausedUntil {
		m.blocked[s] = t
	}
	return nil
}

// remember notes what the store holds for scopes, read by Load: a scope absent from
// usage holds 0.
func (c *Client) remember(scopes []string, usage map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.knownRoom(len(scopes))
	for _, s := range scopes {
		c.known[s] = usage[s]
	}
}

// record writes what a response taught about Meta's limits. Usage is written only
// when it matters to some Client's next call (see worthWriting); pauses always are.
func (c *Client) record(usage map[string]int, pausedUntil map[string]time.Time) {
	c.mu.Lock()
	for s, u := range usage {
		old, ok := c.known[s]
		if ok && !c.worthWriting(old, u) {
			delete(usage, s)
		}
	}
	c.mu.Unlock()
	if len(usage) == 0 && len(pausedUntil) == 0 {
		return
	}
	// The response is already in hand: the caller's cancellation must not lose what
	// Meta said about its limits.
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	werr := c.cfg.Limits.Record(ctx, usage, pausedUntil)
	c.mu.Lock()
	defer c.mu.Unlock()
	if werr != nil {
		// Unknown again, so the next response writes it whatever it says. The call's
		// own result matters more than this write, and Meta repeats its limits.
		for s := range usage {
			delete(c.known, s)
		}
		return
	}
	c.knownRoom(len(usage))
	for s, u := range usage {
		c.known[s] = u
	}
}

// knownRoom makes room in c.known for n more scopes: past maxKnown it starts over,
// which costs at most one needless write per scope. c.mu held.
func (c *Client) knownRoom(n int) {
	if c.known == nil || len(c.known)+n > maxKnown {
		c.known = make(map[string]int, n)
	}
}

// worthWriting reports whether usage moving from old to new changes how some Client
// spaces its calls: at or above SlowDownAt every point counts, below it only a move
// of usageStep (or crossing the threshold).
func (c *Client) worthWriting(old, new int) bool {
	switch {
	case new == old:
		return false
	case new >= c.cfg.SlowDownAt || old >= c.cfg.SlowDownAt:
		return true
	default:
		return new-old >= usageStep || old-new >= usageStep
	}
}
