package handlers

import (
	"errors"
	"net/http"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/views/pages"
)

// withoutTokens is a connection as views may hold it.
func withoutTokens(c models.Connection) models.ConnectionRow {
	c.AccessToken, c.RefreshToken = nil, nil
	return models.ConnectionRow{Connection: c}
}

// disconnectPage asks for confirmation before disconnecting.
func (a *App) disconnectPage(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	if conn.Status == models.StatusDisconnected {
		a.addFlash(w, r, "info", "That connection is already disconnected.")
		http.Redirect(w, r, connectionsURL(t.SubAccount.ID), http.StatusSeeOther)
		return nil
	}
	assets, err := a.store.AssetsOfConnection(r.Context(), t.SubAccount.ID, conn.ID)
	if err != nil {
		return err
	}
	chosen := 0
	for _, as := range assets {
		if as.Selected {
			chosen++
		}
	}
	page, err := a.page(w, r, "Disconnect", "connections")
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.DisconnectConfirm(page, pages.DisconnectView{SubAccount: t.SubAccount,
		Connection: withoutTokens(conn), Assets: chosen}))
	return nil
}

// disconnect withdraws the connection; if the provider could not be told, the user is
// told to remove Relink in the provider's settings too.
func (a *App) disconnect(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	res, err := a.conns.Disconnect(r.Context(), serviceTenant(r), conn.ID)
	label := connection.ProviderLabel(conn.Provider)
	switch {
	case errors.Is(err, connection.ErrDisconnected):
		a.addFlash(w, r, "info", "That connection is already disconnected.")
	case err != nil:
		return err
	case res.Revoked:
		a.addFlash(w, r, "success", "Disconnected "+label+" account "+conn.ExternalUserName+". "+label+" confirmed that Relink's access was removed.")
	default:
		a.addFlash(w, r, "info", "Disconnected "+label+" account "+conn.ExternalUserName+" and deleted its tokens. "+label+
			" could not be reached to remove Relink's access, so also remove Relink in the account's "+label+" settings (Business Integrations for Facebook).")
	}
	http.Redirect(w, r, connectionsURL(t.SubAccount.ID), http.StatusSeeOther)
	return nil
}
