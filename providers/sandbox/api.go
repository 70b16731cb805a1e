package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// State is the body of GET {prefix}/api/state.
type State struct {
	Now        time.Time      `json:"now"`
	Offset     string         `json:"offset"`
	Apps       []AppState     `json:"apps"`
	Users      []UserState    `json:"users"`
	Faults     []Fault        `json:"faults"`
	FaultNames []string       `json:"fault_names"`
	Tokens     map[string]int `json:"tokens"`
}

// AppState is the registered app of one provider.
type AppState struct {
	Provider string   `json:"provider"`
	ID       string   `json:"id"`
	Secret   string   `json:"secret"`
	Bases    []string `json:"base_paths"`
}

// UserState is one seeded user with its assets.
type UserState struct {
	Provider string       `json:"provider"`
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Email    string       `json:"email"`
	Assets   []AssetState `json:"assets"`
}

// AssetState is one asset of a seeded user.
type AssetState struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Note   string `json:"note,omitempty"`
}

// CallCount is one row of GET {prefix}/api/calls.
type CallCount struct {
	Provider string `json:"provider"`
	Endpoint string `json:"endpoint"`
	Token    string `json:"token,omitempty"`
	User     string `json:"user,omitempty"`
	Count    int    `json:"count"`
}

// ClockRequest is the body of POST {prefix}/api/clock.
type ClockRequest struct {
	Advance string `json:"advance"`
}

func (s *Sandbox) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/state" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.State())
	case path == "/calls" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"calls": s.Calls()})
	case path == "/calls" && r.Method == http.MethodDelete:
		s.ResetCalls()
		writeJSON(w, http.StatusOK, map[string]any{"calls": []CallCount{}})
	case path == "/faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
	case path == "/faults" && r.Method == http.MethodPost:
		var req FaultRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body"})
			return
		}
		if err := s.Inject(req); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, ErrBadFault) {
				status = http.StatusBadRequest
			}
			writeJSON(w, status, map[string]string{"error": s.safeMessage(err)})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
	case path == "/clock" && r.Method == http.MethodPost:
		var req ClockRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body"})
			return
		}
		d, err := parseAdvance(req.Advance)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		now := s.clock.Advance(d)
		writeJSON(w, http.StatusOK, map[string]any{"now": now, "offset": s.clock.Offset().String()})
	case path == "/clock" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"now": s.clock.Now(), "offset": s.clock.Offset().String()})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	}
}

// safeMessage is what a page or the JSON API may say about err: the explanation of
// a request the sandbox refused (ErrBadFault, written for the reader), and nothing
// of any other error, which is logged instead.
func (s *Sandbox) safeMessage(err error) string {
	if errors.Is(err, ErrBadFault) {
		return err.Error()
	}
	s.logger.Error("sandbox: internal error", "err", err)
	return "internal error"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// State reports the apps, seeded users with their assets, active faults and clock.
func (s *Sandbox) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	st := State{Now: now, Offset: s.clock.Offset().String(), Faults: s.faultList(), FaultNames: FaultNames(),
		Tokens: map[string]int{}}
	st.Apps = []AppState{
		{Provider: "meta", ID: s.opts.MetaAppID, Secret: s.opts.MetaAppSecret,
			Bases: []string{s.prefix + "/meta/graph", s.prefix + "/meta/www"}},
		{Provider: "linkedin", ID: s.opts.LinkedInClientID, Secret: s.opts.LinkedInClientSecret,
			Bases: []string{s.prefix + "/linkedin/api", s.prefix + "/linkedin/www"}},
	}
	for _, u := range s.metaUsers {
		us := UserState{Provider: "meta", ID: u.ID, Name: u.Name, Email: u.Email}
		for _, p := range u.Pages {
			us.Assets = append(us.Assets, AssetState{Kind: "page", ID: p.ID, Name: p.Name})
			if p.IG != nil {
				us.Assets = append(us.Assets, AssetState{Kind: "instagram_account", ID: p.IG.ID, Name: "@" + p.IG.Username, Parent: p.ID})
			}
		}
		for _, a := range u.AdAccounts {
			note := ""
			switch {
			case a.Status != 1:
				note = fmt.Sprintf("disabled (account_status %d, disable_reason %d)", a.Status, a.DisableReason)
			case !a.TOSAccepted:
				note = "terms not accepted"
			}
			us.Assets = append(us.Assets, AssetState{Kind: "ad_account", ID: "act_" + a.ID, Name: a.Name + " (" + a.Currency + ")", Note: note})
			for _, d := range a.Datasets {
				us.Assets = append(us.Assets, AssetState{Kind: "dataset", ID: d.ID, Name: d.Name, Parent: "act_" + a.ID})
			}
		}
		st.Users = append(st.Users, us)
	}
	for _, m := range s.liMembers {
		us := UserState{Provider: "linkedin", ID: m.ID, Name: m.Name, Email: m.Email}
		for _, o := range m.Orgs {
			us.Assets = append(us.Assets, AssetState{Kind: "linkedin_organization", ID: o.ID, Name: o.Name})
		}
		for _, a := range m.AdAccounts {
			us.Assets = append(us.Assets, AssetState{Kind: "linkedin_ad_account", ID: a.ID, Name: a.Name + " (" + a.Currency + ")", Parent: a.OrgID})
		}
		st.Users = append(st.Users, us)
	}
	for _, t := range s.tokens {
		st.Tokens[t.provider+" "+t.kind]++
	}
	return st
}

// Calls returns the call counts per provider, endpoint, token fingerprint and user.
func (s *Sandbox) Calls() []CallCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallCount, 0, len(s.calls))
	for k, n := range s.calls {
		out = append(out, CallCount{Provider: k.Provider, Endpoint: k.Endpoint, Token: k.Token, User: k.User, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.Token < b.Token
	})
	return out
}

// CallsTo sums the calls of one provider's endpoint, e.g. ("meta", "GET /debug_token").
func (s *Sandbox) CallsTo(provider, endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, c := range s.calls {
		if k.Provider == provider && k.Endpoint == endpoint {
			n += c
		}
	}
	return n
}

// ResetCalls zeroes the call counts.
func (s *Sandbox) ResetCalls() {
	s.mu.Lock()
	s.calls = map[callKey]int{}
	s.mu.Unlock()
}
