package handlers

import (
	"net/http"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/views/components"
	"github.com/relink/relink/views/layouts"
)

// switcherSize is how many sub-accounts the header dropdown lists before "See all".
const switcherSize = 50

// page builds the frame of a signed-in screen: user, role, switcher, flashes.
func (a *App) page(w http.ResponseWriter, r *http.Request, title, section string) (layouts.Page, error) {
	page, err := a.frame(r, title, section)
	if err != nil {
		return page, err
	}
	if t := tenantFrom(r.Context()); t != nil {
		if err := a.auditSupport(r, []int64{t.SubAccount.ID}, "viewed "+r.URL.Path); err != nil {
			return page, err
		}
		if page.Banners, err = a.banners(r.Context(), t.SubAccount.ID); err != nil {
			return page, err
		}
	}
	page.Flashes = a.takeFlashes(w, r)
	return page, nil
}

// frame is the part of the page frame that reads the database: the switcher's first
// sub-accounts. On error the frame still holds the user, role and navigation.
func (a *App) frame(r *http.Request, title, section string) (layouts.Page, error) {
	ctx := r.Context()
	p := principalFrom(ctx)
	page := layouts.Page{Title: title, Email: p.User.Email, Section: section, ReadOnly: p.IsSupport(),
		RoleLabel: p.HomeRole().Label(), DevMail: a.devMail}
	props := components.SwitcherProps{}
	if t := tenantFrom(ctx); t != nil {
		props.Current = &t.SubAccount
		page.SubAccount = &t.SubAccount
		page.RoleLabel = t.Role.Label()
	}
	// Support reaches every agency: their dropdown lists sub-accounts only once they search,
	// and each search's matches are audited (switchAccount).
	if p.IsSupport() {
		props.SearchFirst = true
	} else {
		sw, err := a.store.SearchSubAccounts(ctx, *p, "", switcherSize)
		if err != nil {
			return page, err
		}
		props.Results, props.Total = sw.Results, sw.Total
		// Someone who reaches a single sub-account has no overview to go to.
		page.NoOverview = len(p.AgencyRoles) == 0 && sw.Total <= 1
	}
	if props.Current != nil {
		props.Results = withCurrentFirst(props.Results, *props.Current)
	}
	page.Switcher = &props
	incidents, err := a.store.OpenIncidents(ctx)
	if err != nil {
		return page, err
	}
	for _, in := range incidents {
		page.Incidents = append(page.Incidents, layouts.Incident{Provider: connection.ProviderLabel(in.Provider), Since: in.StartedAt})
	}
	return page, nil
}

// withCurrentFirst makes sure the sub-account being viewed is in the dropdown, even when it
// sorts beyond the first page of names.
func withCurrentFirst(results []models.SubAccountRef, current models.SubAccountRef) []models.SubAccountRef {
	for _, r := range results {
		if r.ID == current.ID {
			return results
		}
	}
	return append([]models.SubAccountRef{current}, results...)
}
