package handlers

import (
	"net/http"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/views/pages"
)

// reauthenticatePage is where an email's Reauthenticate link lands: the connection, what is
// wrong and the fix, with the button for those who may reconnect it and, for the others,
// who may. Someone signed out comes back here after signing in (requireUser's next).
func (a *App) reauthenticatePage(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	v := pages.ReauthenticateView{SubAccount: t.SubAccount, Connection: withoutTokens(conn), Role: t.Role, CanManage: a.manages(t)}
	if !v.CanManage {
		// Those who may reconnect are the incident emails' recipients before their own
		// preferences: the sub-account's admins and the agency's owners and admins.
		if v.Managers, err = a.store.NotificationRecipients(r.Context(), t.SubAccount.ID); err != nil {
			return err
		}
	}
	page, err := a.page(w, r, "Reconnect "+connection.ProviderLabel(conn.Provider), "connections")
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.Reauthenticate(page, v))
	return nil
}
