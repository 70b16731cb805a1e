package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/securecookie"
)

// The known-device cookie marks a browser in which an account has signed in successfully.
// Sign-in attempts from it are counted apart from everyone else's, so a stranger guessing a
// user's password exhausts the attempts of strangers, never the user's own.
const (
	deviceCookie = "relink_device"
	deviceMaxAge = 365 * 24 * time.Hour
	// maxDeviceEmails bounds the accounts one browser remembers (a shared office computer).
	maxDeviceEmails = 10
)

// knownDevice is the signed and encrypted content of the cookie.
type knownDevice struct {
	// ID tells this browser's attempts apart from another known browser's.
	ID string
	// Emails have signed in here, newest first.
	Emails []string
}

// newDeviceCodecs builds the cookie's codecs from the session keys: the first pair signs and
// encrypts, every pair is accepted, with the cookie's own lifetime.
func newDeviceCodecs(pairs [][]byte) []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		c.(*securecookie.SecureCookie).MaxAge(int(deviceMaxAge.Seconds()))
	}
	return codecs
}

// device reads the browser's known-device cookie; a missing, forged or expired one is none.
func (a *App) device(r *http.Request) knownDevice {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return knownDevice{}
	}
	var d knownDevice
	if err := securecookie.DecodeMulti(deviceCookie, c.Value, &d, a.deviceCodecs...); err != nil || d.ID == "" {
		return knownDevice{}
	}
	return d
}

// knows reports whether email has signed in successfully in this browser.
func (d knownDevice) knows(email string) bool { return d.ID != "" && slices.Contains(d.Emails, email) }

// rememberDevice marks the browser as one in which email signs in.
func (a *App) rememberDevice(w http.ResponseWriter, r *http.Request, email string) error {
	d := a.device(r)
	if d.ID == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		d.ID = hex.EncodeToString(b)
	}
	d.Emails = append([]string{email}, slices.DeleteFunc(d.Emails, func(e string) bool { return e == email })...)
	if len(d.Emails) > maxDeviceEmails {
		d.Emails = d.Emails[:maxDeviceEmails]
	}
	v, err := securecookie.EncodeMulti(deviceCookie, d, a.deviceCodecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookie, Value: v, Path: "/login", MaxAge: int(deviceMaxAge.Seconds()),
		HttpOnly: true, Secure: a.https, SameSite: http.SameSiteLaxMode,
	})
	return nil
}
