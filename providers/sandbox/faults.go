package sandbox

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Fault names accepted by Inject besides the reasons (providers/README.md).
const (
	FaultAccountDisabled = "account_disabled"
	FaultTermsRevoked    = "terms_revoked"
	FaultClear           = "clear"
)

// Modes of the provider_unavailable fault.
const (
	ModeUnavailable = "503"
	ModeSlow        = "slow"
	ModeReset       = "reset"
)

// FaultNames lists every fault the sandbox can inject, in panel order.
func FaultNames() []string {
	return []string{"token_expired", "password_changed", "app_removed", "security_checkpoint",
		"unconfirmed_account", "session_invalidated", "lost_asset_role", "missing_permission",
		"refresh_token_invalid", "rate_limited", "provider_unavailable", "policy_blocked", "unknown",
		FaultAccountDisabled, FaultTermsRevoked}
}

// Fault is one injected failure. It stays until cleared. Faults that a new login
// repairs in real life (token_expired, password_changed, app_removed,
// session_invalidated, missing_permission, refresh_token_invalid) hit only tokens
// issued before the fault, so Reauthenticate works; the others hit every call.
type Fault struct {
	Provider string    `json:"provider"`
	User     string    `json:"user"`
	Asset    string    `json:"asset,omitempty"`
	Fault    string    `json:"fault"`
	Scope    string    `json:"scope,omitempty"`
	Mode     string    `json:"mode,omitempty"`
	At       time.Time `json:"at"`
	seq      uint64
}

type faultKey struct{ provider, user, asset, fault string }

// FaultRequest is the body of POST {prefix}/api/faults.
type FaultRequest struct {
	Provider string `json:"provider"`
	User     string `json:"user"`
	Asset    string `json:"asset,omitempty"`
	Fault    string `json:"fault"`
	// Scope names the permission for missing_permission (default ads_read / r_ads).
	Scope string `json:"scope,omitempty"`
	// Mode is "503" (default), "slow" or "reset" for provider_unavailable.
	Mode string `json:"mode,omitempty"`
}

// ErrBadFault is returned by Inject for a request it cannot apply.
var ErrBadFault = errors.New("sandbox: bad fault request")

// Inject applies a fault request. User "*" targets every user of the provider.
func (s *Sandbox) Inject(req FaultRequest) error {
	if req.Provider != "meta" && req.Provider != "linkedin" {
		return fmt.Errorf("%w: provider must be meta or linkedin", ErrBadFault)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.User != "*" && !s.userExists(req.Provider, req.User) {
		return fmt.Errorf("%w: unknown %s user %q", ErrBadFault, req.Provider, req.User)
	}
	if req.Provider == "meta" {
		req.Asset = trimAct(req.Asset)
	}
	if req.Fault == FaultClear {
		for k := range s.faults {
			if k.provider == req.Provider && (req.User == "*" || k.user == req.User) && (req.Asset == "" || k.asset == req.Asset) {
				delete(s.faults, k)
			}
		}
		s.logger.Info("sandbox: faults cleared", "provider", req.Provider, "user", req.User, "asset", req.Asset)
		return nil
	}
	if !contains(FaultNames(), req.Fault) {
		return fmt.Errorf("%w: unknown fault %q", ErrBadFault, req.Fault)
	}
	if req.Asset != "" && req.User != "*" && !s.userHasAsset(req.Provider, req.User, req.Asset) {
		return fmt.Errorf("%w: user %q has no asset %q", ErrBadFault, req.User, req.Asset)
	}
	switch req.Fault {
	case "lost_asset_role", FaultAccountDisabled:
		if req.Asset == "" {
			return fmt.Errorf("%w: %s needs an asset", ErrBadFault, req.Fault)
		}
	case FaultTermsRevoked:
		if req.Asset == "" || req.Provider != "meta" {
			return fmt.Errorf("%w: terms_revoked needs a Meta ad account", ErrBadFault)
		}
	case "missing_permission":
		if req.Scope == "" {
			req.Scope = map[string]string{"meta": "ads_read", "linkedin": "r_ads"}[req.Provider]
		}
	case "provider_unavailable":
		switch req.Mode {
		case "":
			req.Mode = ModeUnavailable
		case ModeUnavailable, ModeSlow, ModeReset:
		default:
			return fmt.Errorf("%w: mode must be 503, slow or reset", ErrBadFault)
		}
	}
	f := &Fault{Provider: req.Provider, User: req.User, Asset: req.Asset, Fault: req.Fault,
		Scope: req.Scope, Mode: req.Mode, At: s.clock.Now(), seq: s.nextSeq()}
	s.faults[faultKey{req.Provider, req.User, req.Asset, req.Fault}] = f
	s.logger.Info("sandbox: fault injected", "provider", req.Provider, "user", req.User, "asset", req.Asset, "fault", req.Fault)
	if req.Provider == "meta" && req.Fault == "app_removed" && req.Asset == "" {
		// Removing the app is the user's act on Facebook, and Meta tells the app.
		users := []string{req.User}
		if req.User == "*" {
			users = users[:0]
			for _, u := range s.metaUsers {
				users = append(users, u.ID)
			}
		}
		s.deauthorize(users, f.At)
	}
	return nil
}

// Faults returns the active faults, sorted.
func (s *Sandbox) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultList()
}

func (s *Sandbox) faultList() []Fault {
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (s *Sandbox) userExists(provider, user string) bool {
	if provider == "meta" {
		return s.metaUser(user) != nil
	}
	return s.liMember(user) != nil
}

func (s *Sandbox) userHasAsset(provider, user, asset string) bool {
	if provider == "linkedin" {
		m := s.liMember(user)
		for _, o := range m.Orgs {
			if o.ID == asset {
				return true
			}
		}
		for _, a := range m.AdAccounts {
			if a.ID == asset {
				return true
			}
		}
		return false
	}
	u := s.metaUser(user)
	asset = trimAct(asset)
	for _, p := range u.Pages {
		if p.ID == asset || (p.IG != nil && p.IG.ID == asset) {
			return true
		}
	}
	for _, a := range u.AdAccounts {
		if a.ID == asset {
			return true
		}
		for _, d := range a.Datasets {
			if d.ID == asset {
				return true
			}
		}
	}
	return false
}

func trimAct(id string) string {
	if len(id) > 4 && id[:4] == "act_" {
		return id[4:]
	}
	return id
}

// sticky faults hit every token; the others only tokens issued before the fault.
func stickyFault(name string) bool {
	switch name {
	case "token_expired", "password_changed", "app_removed", "session_invalidated",
		"missing_permission", "refresh_token_invalid":
		return false
	}
	return true
}

// findFault returns the active fault named name that hits (user, asset, tokSeq);
// asset "" matches only user-wide faults. s.mu must be held.
func (s *Sandbox) findFault(provider, user, asset, name string, tokSeq uint64) *Fault {
	for _, u := range []string{user, "*"} {
		f := s.faults[faultKey{provider, u, trimAct(asset), name}]
		if f != nil && (stickyFault(name) || tokSeq < f.seq) {
			return f
		}
	}
	return nil
}

// hit returns the fault name that hits the call, checking user-wide faults and then
// each asset of the call, in the given order of fault names. s.mu must be held.
func (s *Sandbox) hit(provider, user string, assets []string, tokSeq uint64, names ...string) *Fault {
	for _, name := range names {
		if f := s.findFault(provider, user, "", name, tokSeq); f != nil {
			return f
		}
		for _, a := range assets {
			if f := s.findFault(provider, user, a, name, tokSeq); f != nil {
				return f
			}
		}
	}
	return nil
}

// assetFault reports whether fault name is set on the asset for user. s.mu must be held.
func (s *Sandbox) assetFault(provider, user, asset, name string) bool {
	return s.findFault(provider, user, asset, name, 0) != nil
}
