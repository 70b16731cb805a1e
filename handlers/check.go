package handlers

import (
	"fmt"
	"net/http"
)

// checkNow asks the provider about a connection's token now instead of at its next
// scheduled check (renewing it first when due); htmx gets the card back, a plain POST a
// redirect with the outcome.
func (a *App) checkNow(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	res, err := a.conns.Check(r.Context(), serviceTenant(r), conn.ID)
	outcome, kind, err := refreshOutcome(res, err, "Checked just now: the connection works.")
	if err != nil {
		return err
	}
	if !isHTMX(r) {
		a.addFlash(w, r, flashKind(kind), outcome)
		http.Redirect(w, r, connectionsURL(t.SubAccount.ID)+fmt.Sprintf("#connection-%d", conn.ID), http.StatusSeeOther)
		return nil
	}
	return a.renderCardOf(w, r, conn.ID, outcome, kind, true)
}
