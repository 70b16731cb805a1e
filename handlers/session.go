package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/components"
)

const (
	sessionName   = "relink_session"
	sessionMaxAge = 14 * 24 * time.Hour

	sessUserID  = "uid"
	sessID      = "sid"
	sessLastSub = "last_sub"
)

// newCookieStore builds the session store from (sign, encrypt) key pairs: the first pair
// signs and encrypts, every pair is accepted, so keys rotate by putting a new pair first.
func newCookieStore(pairs [][]byte, secure bool) *sessions.CookieStore {
	s := sessions.NewCookieStore(pairs...)
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(sessionMaxAge.Seconds()),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	s.MaxAge(s.Options.MaxAge)
	return s
}

// session returns the request's session; a cookie that does not decode (old key, tampering)
// is treated as no session at all.
func (a *App) session(r *http.Request) *sessions.Session {
	s, err := a.sessions.Get(r, sessionName)
	if err != nil {
		s, _ = a.sessions.New(r, sessionName)
		s.IsNew = true
	}
	return s
}

// startSession replaces whatever session the browser had with a new one for userID: a new
// random id recorded in the database, so a session fixed before sign-in is worthless after it
// and signing out ends it for good. The browser's previous session ends, so that a copy of
// its cookie stops working too.
func (a *App) startSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	now := a.wall.Now()
	s := a.session(r)
	if old, _ := s.Values[sessID].(string); old != "" {
		if err := a.store.RevokeSession(r.Context(), old, now); err != nil {
			return err
		}
	}
	id, err := a.store.CreateSession(r.Context(), userID, now, now.Add(sessionMaxAge))
	if err != nil {
		return err
	}
	lastSub := s.Values[sessLastSub]
	s.Values = map[any]any{sessUserID: userID, sessID: id}
	// The last sub-account outlives sign-out for the same user in the same browser.
	if lastSub != nil {
		s.Values[sessLastSub] = lastSub
	}
	return s.Save(r, w)
}

// endSession revokes the browser's session and empties the cookie, keeping only the last
// sub-account and, when given, a message for the login page.
func (a *App) endSession(w http.ResponseWriter, r *http.Request, goodbye *components.Flash) error {
	s := a.session(r)
	if id, _ := s.Values[sessID].(string); id != "" {
		if err := a.store.RevokeSession(r.Context(), id, a.wall.Now()); err != nil {
			return err
		}
	}
	lastSub := s.Values[sessLastSub]
	s.Values = map[any]any{}
	if lastSub != nil {
		s.Values[sessLastSub] = lastSub
	}
	if goodbye != nil {
		s.AddFlash(flashValue(*goodbye))
	}
	return s.Save(r, w)
}

// currentPrincipal returns the user of the browser's live session and whether there is one.
func (a *App) currentPrincipal(r *http.Request) (models.Principal, bool, error) {
	id, _ := a.session(r).Values[sessID].(string)
	if id == "" {
		return models.Principal{}, false, nil
	}
	p, err := a.store.PrincipalForSession(r.Context(), id, a.wall.Now())
	if errors.Is(err, models.ErrNotFound) {
		return models.Principal{}, false, nil
	}
	return p, err == nil, err
}

// flashValue encodes a flash as a plain string, so gob needs no registered types.
func flashValue(f components.Flash) string { return f.Kind + "\x00" + f.Message }

// takeFlashes returns and clears the queued messages.
func (a *App) takeFlashes(w http.ResponseWriter, r *http.Request) []components.Flash {
	s := a.session(r)
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	_ = s.Save(r, w)
	out := make([]components.Flash, 0, len(raw))
	for _, v := range raw {
		str, _ := v.(string)
		kind, msg, ok := strings.Cut(str, "\x00")
		if !ok {
			continue
		}
		out = append(out, components.Flash{Kind: kind, Message: msg})
	}
	return out
}

// rememberTenant keeps the sub-account of a page that rendered successfully as the last one
// the user viewed, for "/" to return to it. It is stored with the user's id so that another
// user of the same browser is not sent there.
func (a *App) rememberTenant(w http.ResponseWriter, r *http.Request) {
	t := tenantFrom(r.Context())
	if t == nil || r.Method != http.MethodGet || isHTMX(r) {
		return
	}
	id := t.SubAccount.ID
	s := a.session(r)
	uid, _ := s.Values[sessUserID].(int64)
	v := fmt.Sprintf("%d:%d", uid, id)
	if last, _ := s.Values[sessLastSub].(string); last == v {
		return
	}
	s.Values[sessLastSub] = v
	_ = s.Save(r, w)
}

// lastSubAccount returns the sub-account remembered for the signed-in user, or 0.
func (a *App) lastSubAccount(r *http.Request) int64 {
	s := a.session(r)
	v, _ := s.Values[sessLastSub].(string)
	uidText, idText, _ := strings.Cut(v, ":")
	uid, _ := s.Values[sessUserID].(int64)
	if uidText != strconv.FormatInt(uid, 10) {
		return 0
	}
	id, _ := strconv.ParseInt(idText, 10, 64)
	return id
}
