package handlers

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/views/layouts"
	"github.com/relink/relink/views/pages"
)

// requireManage refuses the connection actions to read-only roles (support, account and
// agency users) with 403; they never see the buttons.
func (a *App) requireManage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// supportReadOnly already refused support's POSTs; this covers the action pages.
		if principalFrom(r.Context()).IsSupport() {
			a.renderError(w, r, errSupportReadOnly)
			return
		}
		if t := tenantFrom(r.Context()); t == nil || !t.Manage {
			a.renderError(w, r, errForbidden("Your role in this sub-account can see its connections but not change them. Ask an account admin or an agency admin."))
			return
		}
		if a.conns == nil {
			a.renderError(w, r, errNotFound(nil))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serviceTenant is the connection service's view of the request's tenant and user.
func serviceTenant(r *http.Request) connection.Tenant {
	t := tenantFrom(r.Context())
	p := principalFrom(r.Context())
	return connection.Tenant{AgencyID: t.SubAccount.AgencyID, SubAccountID: t.SubAccount.ID,
		Actor: connection.UserActor(p.User.ID), RequestID: RequestID(r.Context()), Viewer: p}
}

// providerInfos are the providers the sub-account can connect, in the service's order.
func (a *App) providerInfos() []pages.ProviderInfo {
	if a.conns == nil || a.flows == nil {
		return nil
	}
	var out []pages.ProviderInfo
	for _, n := range a.conns.Providers() {
		out = append(out, pages.ProviderInfo{Name: n, Label: connection.ProviderLabel(n)})
	}
	return out
}

// connections is the connections page of a sub-account: every connection per provider
// with its chosen assets, in a constant number of statements whatever their number.
func (a *App) connections(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	page, err := a.page(w, r, t.SubAccount.Name, "connections")
	if err != nil {
		return err
	}
	v, err := a.connectionsView(r.Context(), t)
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.Connections(page, v))
	return nil
}

// connectionsView loads the page's connections and assets: three statements, whatever
// their number.
func (a *App) connectionsView(ctx context.Context, t *Tenant) (pages.ConnectionsView, error) {
	conns, err := a.store.ConnectionsOf(ctx, t.SubAccount.ID)
	if err != nil {
		return pages.ConnectionsView{}, err
	}
	assets, err := a.store.AssetsOf(ctx, t.SubAccount.ID)
	if err != nil {
		return pages.ConnectionsView{}, err
	}
	unchosen, err := a.store.UnchosenCounts(ctx, t.SubAccount.ID)
	if err != nil {
		return pages.ConnectionsView{}, err
	}
	v := pages.ConnectionsView{SubAccount: t.SubAccount, Role: t.Role, CanManage: a.manages(t), Providers: a.providerInfos(), Now: a.store.Now()}
	byConn := map[int64][]models.Asset{}
	for _, as := range assets {
		byConn[as.ConnectionID] = append(byConn[as.ConnectionID], as)
	}
	// One group per provider, in the order the Connect buttons show them; a provider no
	// longer configured keeps its (read-only) connections, after the others.
	groupOf := map[string]int{}
	for _, p := range v.Providers {
		groupOf[p.Name] = len(v.Groups)
		v.Groups = append(v.Groups, pages.ProviderGroup{Provider: p})
	}
	for _, c := range conns {
		i, ok := groupOf[c.Provider]
		if !ok {
			i = len(v.Groups)
			groupOf[c.Provider] = i
			v.Groups = append(v.Groups, pages.ProviderGroup{Provider: pages.ProviderInfo{Name: c.Provider, Label: connection.ProviderLabel(c.Provider)}})
		}
		v.Groups[i].Cards = append(v.Groups[i].Cards, a.card(t, c, byConn[c.ID], unchosen[c.ID], v.Now))
	}
	v.Groups = slices.DeleteFunc(v.Groups, func(g pages.ProviderGroup) bool { return len(g.Cards) == 0 })
	return v, nil
}

// connectionCard loads one connection's card, for htmx to swap: its own assets only.
func (a *App) connectionCard(ctx context.Context, t *Tenant, connectionID int64) (pages.ConnectionCard, error) {
	conns, err := a.store.ConnectionsOf(ctx, t.SubAccount.ID)
	if err != nil {
		return pages.ConnectionCard{}, err
	}
	i := slices.IndexFunc(conns, func(c models.ConnectionRow) bool { return c.ID == connectionID })
	if i < 0 {
		return pages.ConnectionCard{}, models.ErrNotFound
	}
	all, err := a.store.AssetsOfConnection(ctx, t.SubAccount.ID, connectionID)
	if err != nil {
		return pages.ConnectionCard{}, err
	}
	var chosen []models.Asset
	unchosen := 0
	for _, as := range all {
		switch {
		case as.Selected:
			chosen = append(chosen, as)
		case as.MissingSince == nil:
			unchosen++
		}
	}
	return a.card(t, conns[i], chosen, unchosen, a.store.Now()), nil
}

// manages reports whether the request's user may change connections here (and the app can).
func (a *App) manages(t *Tenant) bool { return t.Manage && a.conns != nil }

// card is one connection's card with its chosen assets' rows.
func (a *App) card(t *Tenant, c models.ConnectionRow, assets []models.Asset, unchosen int, now time.Time) pages.ConnectionCard {
	cc := pages.ConnectionCard{SubAccountID: t.SubAccount.ID, Connection: c, CanManage: a.manages(t), Unchosen: unchosen, Now: now}
	for _, as := range assets {
		cc.Assets = append(cc.Assets, assetRow(t, c.Connection, as, cc.CanManage, now))
	}
	return cc
}

// assetRow is one asset's row.
func assetRow(t *Tenant, c models.Connection, as models.Asset, manage bool, now time.Time) pages.AssetRow {
	return pages.AssetRow{SubAccountID: t.SubAccount.ID, Asset: as, CanManage: manage && c.Status != models.StatusDisconnected,
		Dead: c.Status == models.StatusReauthRequired || c.Status == models.StatusPermissionsMissing, Now: now}
}

// banners are the sub-account's connections needing action, for the top of its pages.
func (a *App) banners(ctx context.Context, subAccountID int64) ([]layouts.Banner, error) {
	rows, err := a.store.NeedingAction(ctx, subAccountID)
	if err != nil {
		return nil, err
	}
	out := make([]layouts.Banner, 0, len(rows))
	for _, c := range rows {
		msg, fix := c.Reason.Message(), c.Reason.Fix()
		if c.Reason == "" {
			msg, fix = providers.ReasonUnknown.Message(), providers.ReasonUnknown.Fix()
		}
		if c.Reason == providers.ReasonMissingPermission && c.ReasonDetail != "" {
			msg += " Missing: " + c.ReasonDetail + "."
		}
		out = append(out, layouts.Banner{ConnectionID: c.ID, Provider: connection.ProviderLabel(c.Provider),
			Account: c.ExternalUserName, Status: c.Status, Message: msg, Fix: fix,
			FixURL: pages.ConnectionURL(subAccountID, c.ID)})
	}
	return out, nil
}
