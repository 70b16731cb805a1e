package handlers

import (
	"net/http"

	"github.com/relink/relink/views/components"
	"github.com/relink/relink/views/layouts"
)

// switcherSize is how many sub-accounts the header dropdown lists before "See all".
const switcherSize = 50

// page builds the frame of a signed-in screen: user, role, switcher, flashes.
func (a *App) page(w http.ResponseWriter, r *http.Request, title, section string) (layouts.Page, error) {
	ctx := r.Context()
	p := principalFrom(ctx)
	page := layouts.Page{Title: title, Email: p.User.Email, Section: section, ReadOnly: p.IsSupport()}
	sw, err := a.store.SearchSubAccounts(ctx, *p, "", switcherSize)
	if err != nil {
		return page, err
	}
	props := components.SwitcherProps{Results: sw.Results, Total: sw.Total}
	if t := tenantFrom(ctx); t != nil {
		props.Current = &t.SubAccount
		page.SubAccount = &t.SubAccount
		page.RoleLabel = t.Role.Label()
	} else if p.IsSupport() {
		page.RoleLabel = "Support (read-only)"
	}
	page.Switcher = &props
	page.Flashes = a.takeFlashes(w, r)
	return page, nil
}
