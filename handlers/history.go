package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/pages"
)

// historyPageSize is how many events one page of history shows.
const historyPageSize = 50

// subAccountHistory is the history of every connection of a sub-account, disconnected
// ones included.
func (a *App) subAccountHistory(w http.ResponseWriter, r *http.Request) error {
	return a.history(w, r, nil)
}

// connectionHistory is the history of one connection.
func (a *App) connectionHistory(w http.ResponseWriter, r *http.Request) error {
	conn, err := a.connectionParam(r)
	if err != nil {
		return err
	}
	row := withoutTokens(conn)
	return a.history(w, r, &row)
}

// history renders one keyset page of history, filtered by kind.
func (a *App) history(w http.ResponseWriter, r *http.Request, conn *models.ConnectionRow) error {
	t := tenantFrom(r.Context())
	q := models.HistoryQuery{Limit: historyPageSize}
	if conn != nil {
		q.ConnectionID = conn.ID
	}
	kind := r.URL.Query().Get("kind")
	if kind != "" && !slices.Contains(models.EventKinds, kind) {
		kind = ""
	}
	q.Kind = kind
	before := r.URL.Query().Get("before")
	if before != "" {
		c, ok := parseCursor(before)
		if !ok {
			return &Error{Status: http.StatusBadRequest, Title: "Bad request", Message: "That page of history does not exist; start again from the newest events."}
		}
		q.Before = c
	}
	rows, next, err := a.store.History(r.Context(), t.SubAccount.ID, q)
	if err != nil {
		return err
	}
	page, err := a.page(w, r, "History", "connections")
	if err != nil {
		return err
	}
	v := pages.HistoryView{SubAccount: t.SubAccount, Connection: conn, Rows: rows, Kinds: models.EventKinds, Kind: kind, Now: a.store.Now()}
	link := func(cursor string) templ.SafeURL {
		vals := url.Values{}
		if kind != "" {
			vals.Set("kind", kind)
		}
		if cursor != "" {
			vals.Set("before", cursor)
		}
		if len(vals) == 0 {
			return templ.SafeURL(r.URL.Path)
		}
		return templ.SafeURL(r.URL.Path + "?" + vals.Encode())
	}
	if !next.At.IsZero() {
		v.NextURL = link(formatCursor(next))
	}
	if before != "" {
		v.FirstURL = link("")
	}
	a.render(w, r, http.StatusOK, pages.History(page, v))
	return nil
}

// formatCursor writes a history cursor as "unixseconds-id".
func formatCursor(c models.HistoryCursor) string { return fmt.Sprintf("%d-%d", c.At.Unix(), c.ID) }

func parseCursor(s string) (models.HistoryCursor, bool) {
	secs, id, ok := strings.Cut(s, "-")
	sec, err1 := strconv.ParseInt(secs, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || sec <= 0 || n <= 0 {
		return models.HistoryCursor{}, false
	}
	return models.HistoryCursor{At: time.Unix(sec, 0).UTC(), ID: n}, true
}
