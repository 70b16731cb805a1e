package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/oauth"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/views/components"
	"github.com/relink/relink/views/pages"
)

// addFlash queues a message for the next page the browser shows.
func (a *App) addFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	s := a.session(r)
	s.AddFlash(flashValue(components.Flash{Kind: kind, Message: msg}))
	if err := s.Save(r, w); err != nil {
		a.log.Warn("save flash", "error", err, "request_id", RequestID(r.Context()))
	}
}

// connectionsURL is the connections page of a sub-account.
func connectionsURL(subAccountID int64) string { return string(components.SubAccountURL(subAccountID)) }

// connectStart begins connecting a provider account: a plain form POST answered with a
// redirect to the provider's dialog.
func (a *App) connectStart(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	provider := chi.URLParam(r, "provider")
	if !a.knownProvider(provider) {
		return errNotFound(nil)
	}
	u, err := a.flows.Begin(w, r, oauth.Start{UserID: principalFrom(r.Context()).User.ID, SubAccountID: t.SubAccount.ID,
		Provider: provider, Intent: models.IntentConnect})
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// reauthenticate reruns the dialog for one connection; Meta is asked to show declined
// permissions again when one is missing.
func (a *App) reauthenticate(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	if conn.Status == models.StatusDisconnected {
		a.addFlash(w, r, "info", "That connection is disconnected: connect it again instead.")
		http.Redirect(w, r, connectionsURL(t.SubAccount.ID), http.StatusSeeOther)
		return nil
	}
	u, err := a.flows.Begin(w, r, oauth.Start{UserID: principalFrom(r.Context()).User.ID, SubAccountID: t.SubAccount.ID,
		Provider: conn.Provider, Intent: models.IntentReauthenticate, ConnectionID: conn.ID,
		Rerequest: conn.Status == models.StatusPermissionsMissing})
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

func (a *App) knownProvider(name string) bool {
	for _, p := range a.providerInfos() {
		if p.Name == name {
			return true
		}
	}
	return false
}

// errBadState is the page for a callback whose state Relink never issued, or issued to
// someone else: nothing can be saved and there is no sub-account to go back to.
func errBadState(err error) *Error {
	return &Error{Status: http.StatusBadRequest, Title: "Sign-in not recognised",
		Message: "This sign-in did not start here, or was started by someone else, so nothing was saved. Go back to the sub-account and click Connect again.",
		Err:     err}
}

// oauthCallback is where the provider's dialog returns. The flow's state says which
// sub-account and intent it belongs to; it is spent here whatever happens next.
func (a *App) oauthCallback(w http.ResponseWriter, r *http.Request) error {
	if a.flows == nil || a.conns == nil {
		return errNotFound(nil)
	}
	p := principalFrom(r.Context())
	provider := chi.URLParam(r, "provider")
	flow, gu, err := a.flows.Complete(w, r, provider, p.User.ID)
	switch {
	case errors.Is(err, oauth.ErrNoState), errors.Is(err, models.ErrFlowUnknown):
		return errBadState(err)
	case flow.ID == 0 && err != nil:
		return err
	}
	// The user started this flow, but may have lost the sub-account or their admin role
	// since: then it is as unknown to them as any other sub-account.
	ref, _, rerr := a.store.SubAccountFor(r.Context(), *p, flow.SubAccountID)
	if rerr != nil {
		return rerr
	}
	if !p.CanManage(ref) {
		return errNotFound(nil)
	}
	label := connection.ProviderLabel(flow.Provider)
	back := connectionsURL(ref.ID)
	picker := fmt.Sprintf("/accounts/%d/connections/flows/%d", ref.ID, flow.ID)
	fail := func(kind, msg string) error {
		if err != nil {
			a.log.Warn("connect callback failed", "provider", flow.Provider, "sub_account_id", ref.ID, "error", err, "request_id", RequestID(r.Context()))
		}
		a.addFlash(w, r, kind, msg)
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	switch {
	case errors.Is(err, models.ErrFlowExpired):
		return fail("error", "The "+label+" sign-in took too long and expired, so nothing was saved. Click Connect again.")
	case errors.Is(err, models.ErrFlowUsed):
		return fail("info", "That "+label+" sign-in was already used. If the connection is not listed, click Connect again.")
	case errors.Is(err, oauth.ErrCanceled):
		return fail("info", "Connecting "+label+" was cancelled in the "+label+" window, so nothing was saved.")
	case err != nil:
		return fail("error", providerFailure(label, err))
	}
	t := connection.Tenant{AgencyID: ref.AgencyID, SubAccountID: ref.ID, Actor: connection.UserActor(p.User.ID),
		RequestID: RequestID(r.Context()), Viewer: p}
	if err = a.conns.Authorize(r.Context(), t, flow, gu); err != nil {
		if providers.IsCanceled(err) {
			return err
		}
		if errors.Is(err, connection.ErrOverloaded) {
			return fail("info", overloaded+" Click Connect again.")
		}
		return fail("error", providerFailure(label, err))
	}
	http.Redirect(w, r, picker, http.StatusSeeOther)
	return nil
}

// providerFailure says in plain words why talking to the provider failed; an error that is
// not the provider's is described generically (the callback logs it).
func providerFailure(label string, err error) string {
	pe, ok := providers.AsError(err)
	if !ok {
		return label + " could not be connected: something went wrong on our side, and nothing was saved. Please try again."
	}
	msg, fix := pe.Explain()
	if pe.Reason.Transient() {
		return label + " is not responding right now, so nothing was saved. Please try again in a few minutes."
	}
	return label + " could not be connected, so nothing was saved. " + msg + " " + fix
}

// pickerPage shows the assets a flow discovered, to choose from.
func (a *App) pickerPage(w http.ResponseWriter, r *http.Request) error {
	return a.renderPicker(w, r, http.StatusOK, "")
}

// renderPicker shows the picker of the flow in the URL.
func (a *App) renderPicker(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	flowID, err := idParam(r, "flowID")
	if err != nil {
		return err
	}
	pk, err := a.conns.Pending(r.Context(), serviceTenant(r), principalFrom(r.Context()).User.ID, flowID)
	if err != nil {
		return a.flowGone(w, r, err)
	}
	return a.showPicker(w, r, status, pk, problem)
}

// flowGone answers a picker whose flow expired or was already saved with the connections
// page and a message; any other error is returned.
func (a *App) flowGone(w http.ResponseWriter, r *http.Request, err error) error {
	t := tenantFrom(r.Context())
	switch {
	case errors.Is(err, models.ErrFlowExpired):
		a.addFlash(w, r, "error", "The choice of assets waited too long and expired, so nothing was saved. Click Connect again.")
	case errors.Is(err, models.ErrFlowUsed):
		a.addFlash(w, r, "info", "This choice was already saved.")
	default:
		return err
	}
	http.Redirect(w, r, connectionsURL(t.SubAccount.ID), http.StatusSeeOther)
	return nil
}

// pickerSubmit saves the connection with the chosen assets.
func (a *App) pickerSubmit(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	flowID, err := idParam(r, "flowID")
	if err != nil {
		return err
	}
	chosen, err := chosenAssets(r)
	if err != nil {
		return err
	}
	if len(chosen) == 0 {
		return a.renderPicker(w, r, http.StatusUnprocessableEntity, "Choose at least one Page or ad account to connect, or click Cancel.")
	}
	conn, err := a.conns.Connect(r.Context(), serviceTenant(r), principalFrom(r.Context()).User.ID, flowID, chosen)
	if errors.Is(err, connection.ErrAlreadyConnected) {
		return a.renderPicker(w, r, http.StatusUnprocessableEntity, "That account already has its own connection in this sub-account: reauthenticate that connection instead, or sign in with the original account.")
	}
	if err != nil {
		return a.flowGone(w, r, err)
	}
	a.addFlash(w, r, "success", fmt.Sprintf("Connected %s account %s with %d assets.", connection.ProviderLabel(conn.Provider), conn.ExternalUserName, len(chosen)))
	http.Redirect(w, r, string(pages.ConnectionURL(t.SubAccount.ID, conn.ID)), http.StatusSeeOther)
	return nil
}

// chooseAssetsPage is the picker of an existing connection.
func (a *App) chooseAssetsPage(w http.ResponseWriter, r *http.Request) error {
	return a.renderChoices(w, r, http.StatusOK, "")
}

// renderChoices shows the picker of the connection in the URL.
func (a *App) renderChoices(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	pk, err := a.conns.Choices(r.Context(), serviceTenant(r), conn.ID)
	if err != nil {
		return err
	}
	return a.showPicker(w, r, status, pk, problem)
}

// chooseAssetsSubmit saves a new choice of assets for a connection.
func (a *App) chooseAssetsSubmit(w http.ResponseWriter, r *http.Request) error {
	t := tenantFrom(r.Context())
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	chosen, err := chosenAssets(r)
	if err != nil {
		return err
	}
	if len(chosen) == 0 {
		return a.renderChoices(w, r, http.StatusUnprocessableEntity, "Choose at least one asset. To stop using this connection altogether, disconnect it.")
	}
	err = a.conns.ChooseAssets(r.Context(), serviceTenant(r), conn.ID, chosen)
	if errors.Is(err, connection.ErrDisconnected) {
		return a.renderChoices(w, r, http.StatusUnprocessableEntity, "This connection is disconnected: connect it again to choose its assets.")
	}
	if err != nil {
		return err
	}
	a.addFlash(w, r, "success", "Saved the choice of assets.")
	http.Redirect(w, r, string(pages.ConnectionURL(t.SubAccount.ID, conn.ID)), http.StatusSeeOther)
	return nil
}

// showPicker renders the asset picker, posting back to the page's own URL.
func (a *App) showPicker(w http.ResponseWriter, r *http.Request, status int, pk connection.Picker, problem string) error {
	t := tenantFrom(r.Context())
	page, err := a.page(w, r, "Choose assets", "connections")
	if err != nil {
		return err
	}
	a.render(w, r, status, pages.Picker(page, pages.PickerView{SubAccount: t.SubAccount, Picker: pk,
		Action: templ.SafeURL(r.URL.Path), Cancel: templ.SafeURL(connectionsURL(t.SubAccount.ID)), Error: problem}))
	return nil
}

// chosenAssets reads the keys of the assets ticked in the picker.
func chosenAssets(r *http.Request) ([]string, error) {
	if err := r.ParseForm(); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Title: "Bad request", Message: "The form could not be read.", Err: err}
	}
	return r.PostForm["asset"], nil
}

// idParam reads a positive id from the URL; anything else is a 404. One URL per record:
// "01" or "+1" is not another name for 1.
func idParam(r *http.Request, name string) (int64, error) {
	param := chi.URLParam(r, name)
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != param {
		return 0, errNotFound(err)
	}
	return id, nil
}

// connectionParam loads the connection named in the URL, scoped to the request's
// sub-account: another's is a 404.
func (a *App) connectionParam(r *http.Request) (models.Connection, error) {
	id, err := idParam(r, "connectionID")
	if err != nil {
		return models.Connection{}, err
	}
	return a.store.Connection(r.Context(), tenantFrom(r.Context()).SubAccount.ID, id)
}
