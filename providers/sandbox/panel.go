package sandbox

import (
	"net/http"
	"sort"
	"strings"
)

type panelAdvance struct{ Label, Value string }

type panelCall struct {
	Provider, Endpoint string
	Count              int
}

func (s *Sandbox) servePanel(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.methodNotAllowed(w, r, http.MethodGet, http.MethodHead)
		return
	}
	st := s.State()
	sums := map[[2]string]int{}
	for _, c := range s.Calls() {
		sums[[2]string{c.Provider, c.Endpoint}] += c.Count
	}
	var calls []panelCall
	for k, n := range sums {
		calls = append(calls, panelCall{k[0], k[1], n})
	}
	sort.Slice(calls, func(i, j int) bool {
		if calls[i].Provider != calls[j].Provider {
			return calls[i].Provider < calls[j].Provider
		}
		return calls[i].Endpoint < calls[j].Endpoint
	})
	s.render(w, http.StatusOK, "panel.html", struct {
		pageBase
		Now, Offset string
		Advances    []panelAdvance
		MaxDays     int
		Apps        []AppState
		Faults      []Fault
		FaultNames  []string
		Users       []UserState
		Calls       []panelCall
	}{
		pageBase: pageBase{Title: "Provider sandbox", Brand: "Relink", Prefix: s.prefix},
		Now:      st.Now.UTC().Format("2006-01-02 15:04:05 MST"), Offset: st.Offset,
		Advances: []panelAdvance{{"1h", "1h"}, {"1 day", "24h"}, {"7 days", "168h"}, {"30 days", "720h"}, {"59 days", "1416h"}, {"61 days", "1464h"}},
		Apps:     st.Apps, Faults: st.Faults, FaultNames: FaultNames(), Users: st.Users, Calls: calls,
		MaxDays: maxAdvanceDays,
	})
}

func (s *Sandbox) panelFault(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.methodNotAllowed(w, r, http.MethodPost)
		return
	}
	_ = r.ParseForm()
	req := FaultRequest{Provider: r.PostForm.Get("provider"), User: r.PostForm.Get("user"), Asset: r.PostForm.Get("asset"),
		Fault: r.PostForm.Get("fault"), Scope: r.PostForm.Get("scope"), Mode: r.PostForm.Get("mode")}
	if err := s.Inject(req); err != nil {
		s.renderError(w, http.StatusUnprocessableEntity, "Relink", "Fault not applied", s.safeMessage(err))
		return
	}
	http.Redirect(w, r, s.prefix, http.StatusSeeOther)
}

func (s *Sandbox) panelClock(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.methodNotAllowed(w, r, http.MethodPost)
		return
	}
	_ = r.ParseForm()
	v := r.PostForm.Get("advance")
	if v == "custom" { // a panel loaded before the custom field had its own form
		v = r.PostForm.Get("custom")
	}
	d, err := parseAdvance(v)
	if err != nil {
		msg := err.Error()
		s.renderError(w, http.StatusUnprocessableEntity, "Relink", "Clock not advanced", strings.ToUpper(msg[:1])+msg[1:]+".")
		return
	}
	s.clock.Advance(d)
	http.Redirect(w, r, s.prefix, http.StatusSeeOther)
}
