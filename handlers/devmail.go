package handlers

import (
	"net/http"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/pages"
)

// devMailSize is how many emails the outbox page lists.
const devMailSize = 200

// devMailCSP is the policy of an email's HTML served on its own: it may run nothing, load
// nothing but inline styles and data: images, submit nothing, navigate nowhere, and be
// framed only by Relink's own page. An email's HTML is content Relink wrote, but it quotes
// names from providers and users, so it is treated as untrusted.
const devMailCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// devMailList is the outbox, newest first: by default the viewer's own emails, as their
// inbox would show them; with ?all=1 every email they may read (those about the
// sub-accounts they reach, and their own), for support every one. Support gets no email of
// its own, so sees every one.
func (a *App) devMailList(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	mine := r.URL.Query().Get("all") == "" && !p.IsSupport()
	list := a.store.EmailsFor
	if mine {
		list = a.store.EmailsTo
	}
	emails, err := list(r.Context(), *p, devMailSize)
	if err != nil {
		return err
	}
	page, err := a.page(w, r, "Outbox", "devmail")
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	var subs []int64
	for _, e := range emails {
		if e.SubAccountID != nil && !seen[*e.SubAccountID] {
			seen[*e.SubAccountID] = true
			subs = append(subs, *e.SubAccountID)
		}
	}
	if err := a.auditSupport(r, subs, "viewed the outbox (/dev/mail)"); err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.DevMail(page, pages.DevMailView{Emails: emails, Limit: devMailSize, Mine: mine}))
	return nil
}

// emailParam loads the email of the path's {emailID} that the viewer may read (404
// otherwise), recording support's reading in the sub-account's history.
func (a *App) emailParam(r *http.Request) (models.OutboxEmail, error) {
	id, err := idParam(r, "emailID")
	if err != nil {
		return models.OutboxEmail{}, err
	}
	e, err := a.store.EmailFor(r.Context(), *principalFrom(r.Context()), id)
	if err != nil {
		return e, err
	}
	if e.SubAccountID != nil {
		if err := a.auditSupport(r, []int64{*e.SubAccountID}, "read an email at "+r.URL.Path); err != nil {
			return e, err
		}
	}
	return e, nil
}

// devMailShow is one email with its text part, and its HTML part in a sandboxed frame.
func (a *App) devMailShow(w http.ResponseWriter, r *http.Request) error {
	e, err := a.emailParam(r)
	if err != nil {
		return err
	}
	page, err := a.page(w, r, e.Subject, "devmail")
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, pages.DevMailEmail(page, pages.DevMailEmailView{Email: e, HTMLURL: pages.DevMailHTMLURL(e.ID)}))
	return nil
}

// devMailHTML serves an email's HTML part as its own document, under devMailCSP.
func (a *App) devMailHTML(w http.ResponseWriter, r *http.Request) error {
	e, err := a.emailParam(r)
	if err != nil {
		return err
	}
	h := w.Header()
	// Replaces the site's policy and frame refusal set by securityHeaders: the outbox page
	// frames this response.
	h.Set("Content-Security-Policy", devMailCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(e.BodyHTML))
	return nil
}
