package handlers

import (
	"net/http"

	"github.com/relink/relink/providers/meta"
)

// MetaDeauthorizePath is where Meta's Deauthorize Callback URL points, under BASE_URL.
const MetaDeauthorizePath = "/callbacks/meta/deauthorize"

// maxSignedRequest bounds the body of a deauthorize callback: Meta's is a few hundred bytes.
const maxSignedRequest = 16 << 10

// metaDeauthorize is Meta's Deauthorize Callback: Meta POSTs a signed_request when one of
// its users removes Relink. Only a request signed with the app secret is believed; then
// every connection of that user needs reauthenticating at once, without waiting for the
// next check. Anything else is refused and changes nothing.
func (a *App) metaDeauthorize(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSignedRequest)
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Title: "Bad request", Message: "The callback body could not be read.", Err: err}
	}
	sr, err := meta.ParseSignedRequest(r.PostForm.Get("signed_request"), a.metaAppSecret, a.store.Now())
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Title: "Bad request",
			Message: "The signed request is missing or not signed by the app.", Err: err}
	}
	n, err := a.conns.AppRemoved(r.Context(), "meta", sr.UserID, sr.IssuedAt, RequestID(r.Context()))
	if err != nil {
		return err
	}
	a.log.Info("deauthorize callback applied", "request_id", RequestID(r.Context()), "connections", n)
	w.WriteHeader(http.StatusOK)
	return nil
}
