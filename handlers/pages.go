package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/components"
	"github.com/relink/relink/views/layouts"
	"github.com/relink/relink/views/pages"
)

// home sends the user to the last sub-account they used, to their only one, or to the
// overview.
func (a *App) home(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if id := a.lastSubAccount(r); id != 0 {
		_, _, err := a.store.SubAccountFor(r.Context(), *p, id)
		switch {
		case err == nil:
			http.Redirect(w, r, string(components.SubAccountURL(id)), http.StatusSeeOther)
			return nil
		case !errors.Is(err, models.ErrNotFound):
			return err
		}
	}
	if !p.IsSupport() && len(p.AgencyRoles) == 0 {
		res, err := a.store.SearchSubAccounts(r.Context(), *p, "", 2)
		if err != nil {
			return err
		}
		if res.Total == 1 {
			http.Redirect(w, r, string(components.SubAccountURL(res.Results[0].ID)), http.StatusSeeOther)
			return nil
		}
	}
	http.Redirect(w, r, "/agency", http.StatusSeeOther)
	return nil
}

// overview shows every reachable sub-account's connections by status.
func (a *App) overview(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	rows, err := a.store.Overview(r.Context(), *p)
	if err != nil {
		return err
	}
	var groups []pages.AgencyGroup
	for _, row := range rows {
		if n := len(groups); n == 0 || groups[n-1].Rows[0].AgencyID != row.AgencyID {
			groups = append(groups, pages.AgencyGroup{Name: row.AgencyName})
		}
		g := &groups[len(groups)-1]
		g.Rows = append(g.Rows, row)
	}
	page, err := a.page(w, r, "Overview", "overview")
	if err != nil {
		return err
	}
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	if err := a.auditSupport(r, ids, "viewed the overview of every agency (/agency)"); err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.Overview(page, groups))
	return nil
}

// switchAccount searches the reachable sub-accounts: the header dropdown's results as an
// htmx fragment, or the full list as a page without JavaScript. Support, who reaches every
// agency, sees matches only for a search, and each match shown is audited.
func (a *App) switchAccount(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	fragment := isHTMX(r)
	props := components.SwitcherProps{Query: q, Page: !fragment}
	if p.IsSupport() && q == "" {
		props.SearchFirst = true
	} else {
		limit := switchPageSize
		if fragment {
			limit = switcherSize
		}
		res, err := a.store.SearchSubAccounts(r.Context(), *p, q, limit)
		if err != nil {
			return err
		}
		props.Results, props.Total = res.Results, res.Total
	}
	var page layouts.Page
	if !fragment {
		var err error
		if page, err = a.page(w, r, "Switch to an account", ""); err != nil {
			return err
		}
	}
	if err := a.auditSupport(r, refIDs(props.Results), fmt.Sprintf("searched sub-accounts for %q (/switch)", q)); err != nil {
		return err
	}
	if fragment {
		a.render(w, r, http.StatusOK, components.SwitcherResults(props))
	} else {
		a.render(w, r, http.StatusOK, pages.SwitchPage(page, props))
	}
	return nil
}

// refIDs are the ids of the sub-accounts in refs.
func refIDs(refs []models.SubAccountRef) []int64 {
	ids := make([]int64, len(refs))
	for i, ref := range refs {
		ids[i] = ref.ID
	}
	return ids
}

// switchPageSize bounds the no-JavaScript list; beyond it, the search narrows the list.
const switchPageSize = 1000

// subAccountHome is the sub-account's landing page: its connections.
func (a *App) subAccountHome(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	http.Redirect(w, r, fmt.Sprintf("/accounts/%d/connections", t.SubAccount.ID), http.StatusSeeOther)
	return nil
}
