package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/a-h/templ"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/views/layouts"
	"github.com/relink/relink/views/pages"
)

// isHTMX reports whether the request comes from htmx, which swaps the fragment it gets.
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// refreshAsset fetches one asset's current data. htmx gets the asset's row back (or the
// connection's card when the connection's status changed, with the banners); a plain POST
// is redirected to the page with the outcome as a message.
func (a *App) refreshAsset(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	id, err := idParam(r, "assetID")
	if err != nil {
		return err
	}
	res, refreshErr := a.conns.RefreshAsset(r.Context(), serviceTenant(r), id)
	outcome, kind, err := refreshOutcome(res, refreshErr, "Updated just now", false)
	if err != nil {
		return err
	}
	if !isHTMX(r) {
		a.addFlash(w, r, flashKind(kind), outcome)
		http.Redirect(w, r, connectionsURL(t.SubAccount.ID)+fmt.Sprintf("#asset-%d", id), http.StatusSeeOther)
		return nil
	}
	if res.StatusChanged {
		return a.renderCard(w, r, res.Connection.ID, outcome, kind)
	}
	asset, conn := res.Asset, res.Connection
	if refreshErr != nil { // busy or disconnected: show the row as stored
		if asset, err = a.store.Asset(r.Context(), t.SubAccount.ID, id); err != nil {
			return err
		}
		if conn, err = a.store.Connection(r.Context(), t.SubAccount.ID, asset.ConnectionID); err != nil {
			return err
		}
	}
	row := assetRow(t, conn, asset, a.manages(t), a.store.Now())
	row.Outcome, row.OutcomeKind = outcome, kind
	a.render(w, r, http.StatusOK, pages.AssetRowView(row))
	return nil
}

// refreshAll re-reads every asset of a connection and re-checks its token; htmx gets the
// card back, a plain POST a redirect with the outcome.
func (a *App) refreshAll(w http.ResponseWriter, r *http.Request) error {
	return a.connectionAction(w, r, a.conns.RefreshAll, false, func(res connection.Result) string {
		return fmt.Sprintf("Refreshed %d assets and checked the permissions just now.", res.Refreshed)
	})
}

// connectionAction runs an action on the path's connection (Refresh all, Check now) and
// answers with its outcome: htmx gets the card back, a plain POST a redirect with the
// outcome as a message. ok words a success; checked marks a health check's outcome.
func (a *App) connectionAction(w http.ResponseWriter, r *http.Request,
	act func(context.Context, connection.Tenant, int64) (connection.Result, error), checked bool, ok func(connection.Result) string) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	res, err := act(r.Context(), serviceTenant(r), conn.ID)
	outcome, kind, err := refreshOutcome(res, err, ok(res), checked)
	if err != nil {
		return err
	}
	if !isHTMX(r) {
		a.addFlash(w, r, flashKind(kind), outcome)
		http.Redirect(w, r, string(pages.ConnectionURL(t.SubAccount.ID, conn.ID)), http.StatusSeeOther)
		return nil
	}
	return a.renderCardOf(w, r, conn.ID, outcome, kind, checked)
}

// overloaded is what a person reads when Relink runs as many provider calls as it allows.
const overloaded = "Relink is handling many requests right now, so nothing was done. Please try again in a moment."

// refreshOutcome says how a refresh (or, checked, a health check) went, and how seriously
// ("ok", "warn", "error"); ok is the words for success. An error it does not explain is
// returned.
func refreshOutcome(res connection.Result, err error, ok string, checked bool) (string, string, error) {
	switch {
	case errors.Is(err, connection.ErrBusy):
		return "Already refreshing: the result shows in a moment.", "warn", nil
	case errors.Is(err, connection.ErrDisconnected):
		return "This connection is disconnected: connect it again to refresh.", "warn", nil
	case errors.Is(err, connection.ErrOverloaded):
		return overloaded, "warn", nil
	case err != nil:
		return "", "", err
	case res.Problem != nil:
		text, kind := problemText(res.Connection, res.Problem, checked)
		return text, kind, nil
	}
	return ok, "ok", nil
}

// renderCard answers htmx with a connection's card as stored now, swapped in place of the
// element that asked (HX-Retarget), and the sub-account's banners out of band.
func (a *App) renderCard(w http.ResponseWriter, r *http.Request, connectionID int64, outcome, kind string) error {
	return a.renderCardOf(w, r, connectionID, outcome, kind, false)
}

// renderCardOf is renderCard for a refresh (checked false) or a health check.
func (a *App) renderCardOf(w http.ResponseWriter, r *http.Request, connectionID int64, outcome, kind string, checked bool) error {
	t := tenantFrom(r.Context())
	c, err := a.connectionCard(r.Context(), t, connectionID)
	if err != nil {
		return err
	}
	banners, err := a.banners(r.Context(), t.SubAccount.ID)
	if err != nil {
		return err
	}
	c.Outcome, c.OutcomeKind, c.Checked = outcome, kind, checked
	w.Header().Set("HX-Retarget", fmt.Sprintf("#connection-%d", connectionID))
	w.Header().Set("HX-Reswap", "outerHTML")
	a.render(w, r, http.StatusOK, templ.Join(pages.ConnectionCardView(c), layouts.BannersOOB(banners)))
	return nil
}

// problemText says what a failed refresh or check means for the people looking at it, and
// how serious it is: "error" when someone must act, "warn" when Relink will retry.
func problemText(c models.Connection, pe *providers.Error, checked bool) (string, string) {
	label := connection.ProviderLabel(c.Provider)
	effect, _ := connection.Classify(pe.Reason)
	msg, fix := pe.Explain()
	switch effect {
	case connection.EffectTransient:
		return label + " is not responding right now. Nothing is lost: the token and data are kept, and Relink will retry.", "warn"
	case connection.EffectConnection:
		text := "Refreshing did not help: " + msg + " " + fix
		if checked {
			text = "Checked just now: " + msg + " " + fix
		}
		if pe.Scope != "" {
			text += " Missing permission: " + pe.Scope + "."
		}
		return text, "error"
	}
	return msg + " " + fix, "error"
}

// flashKind maps an outcome's kind to a flash colour.
func flashKind(kind string) string {
	switch kind {
	case "ok":
		return "success"
	case "warn":
		return "info"
	}
	return "error"
}
