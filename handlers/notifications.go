package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/pages"
)

// notificationSubAccounts bounds the sub-accounts the settings page lists; the others
// follow the default, and their overrides are kept.
const notificationSubAccounts = 1000

// notificationSettings shows the signed-in user's email settings: a default and a mode per
// sub-account they reach.
func (a *App) notificationSettings(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	prefs, err := a.store.NotificationPrefsOf(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	form := pages.NotificationForm{Default: string(prefs.Default), Overrides: map[int64]string{}}
	for id, m := range prefs.Overrides {
		form.Overrides[id] = string(m)
	}
	return a.renderNotificationSettings(w, r, http.StatusOK, form)
}

// renderNotificationSettings renders the settings page with form, in a constant number of
// statements whatever the number of sub-accounts.
func (a *App) renderNotificationSettings(w http.ResponseWriter, r *http.Request, status int, form pages.NotificationForm) error {
	p := principalFrom(r.Context())
	v := pages.NotificationSettingsView{Form: form, Support: p.IsSupport()}
	// Support reaches every agency and gets no email: listing every sub-account would only
	// put them all in the audit trail.
	if !v.Support {
		subs, err := a.store.SearchSubAccounts(r.Context(), *p, "", notificationSubAccounts)
		if err != nil {
			return err
		}
		v.Total = subs.Total
		for _, s := range subs.Results {
			v.Rows = append(v.Rows, pages.NotificationRow{SubAccount: s, Receives: p.CanManage(s)})
		}
	}
	page, err := a.page(w, r, "Email notifications", "notifications")
	if err != nil {
		return err
	}
	a.render(w, r, status, pages.NotificationSettings(page, v))
	return nil
}

// saveNotificationSettings saves the form, or answers 422 with what is wrong.
func (a *App) saveNotificationSettings(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Title: "Bad request", Message: "The form could not be read.", Err: err}
	}
	p := principalFrom(r.Context())
	form, change := readNotificationForm(r.PostForm)
	if len(form.Errors) == 0 {
		err := a.store.SaveNotificationPrefs(r.Context(), *p, change)
		switch {
		case errors.Is(err, models.ErrNotFound):
			form.Errors = map[string]string{"form": "The form names a sub-account you cannot reach. Reload the page and try again."}
		case err != nil:
			return err
		}
	}
	if len(form.Errors) > 0 {
		return a.renderNotificationSettings(w, r, http.StatusUnprocessableEntity, form)
	}
	a.addFlash(w, r, "success", "Your email settings are saved.")
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
	return nil
}

// readNotificationForm reads and checks the settings form: the default must be a mode, and
// each "sub-{id}" field a mode or "" (follow the default). Fields of other names are ignored.
func readNotificationForm(vals url.Values) (pages.NotificationForm, models.NotificationChange) {
	form := pages.NotificationForm{Default: vals.Get("default"), Overrides: map[int64]string{}, Errors: map[string]string{}}
	change := models.NotificationChange{Overrides: map[int64]models.NotificationMode{}}
	if m, ok := models.ParseNotificationMode(form.Default); ok {
		change.Default = m
	} else {
		form.Errors["default"] = "Choose right away, daily digest or off."
	}
	for name, values := range vals {
		idText, ok := strings.CutPrefix(name, "sub-")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 || strconv.FormatInt(id, 10) != idText || len(values) != 1 {
			form.Errors["form"] = "The form could not be read. Reload the page and try again."
			continue
		}
		form.Overrides[id] = values[0]
		if values[0] == "" {
			change.Overrides[id] = models.NotifyInherit
			continue
		}
		m, ok := models.ParseNotificationMode(values[0])
		if !ok {
			form.Errors[pages.OverrideField(id)] = "Choose same as default, right away, daily digest or off."
			continue
		}
		change.Overrides[id] = m
	}
	if len(form.Errors) == 0 {
		form.Errors = nil
	}
	return form, change
}
