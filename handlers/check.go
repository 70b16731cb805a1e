package handlers

import (
	"net/http"

	"github.com/relink/relink/connection"
)

// checkNow asks the provider about a connection's token now instead of at its next
// scheduled check (renewing it first when due); htmx gets the card back, a plain POST a
// redirect with the outcome.
func (a *App) checkNow(w http.ResponseWriter, r *http.Request) error {
	return a.connectionAction(w, r, a.conns.Check, true, func(connection.Result) string {
		return "Checked just now: the connection works."
	})
}
