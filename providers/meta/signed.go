package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SignedAlgorithm is the only algorithm Meta signs a signed_request with.
const SignedAlgorithm = "HMAC-SHA256"

// How far a signed_request's issued_at may be from now. Meta posts the deauthorize
// callback the moment a user removes the app, so an older one is a replay: someone
// who captured it (a log, a proxy) could otherwise mark a user as gone long after
// they connected Relink again. Five minutes ahead allows for Meta's and this
// server's clocks to differ; more than that is not a clock, it is a forgery.
const (
	SignedRequestMaxAge  = time.Hour
	SignedRequestMaxSkew = 5 * time.Minute
)

// ErrSignedRequest is wrapped by every error of ParseSignedRequest: the request was
// not sent by Meta for this app, or not recently. A handler answers it with 400.
var ErrSignedRequest = errors.New("meta: invalid signed_request")

// SignedRequest is what Meta's signed_request says, as posted to the app's
// Deauthorize Callback URL (and Data Deletion Request URL) when a user removes the
// app: who, and when.
type SignedRequest struct {
	// UserID is the app-scoped id of the user, the id /me and debug_token give.
	UserID string
	// IssuedAt is when Meta signed it.
	IssuedAt time.Time
	// Algorithm is always SignedAlgorithm once parsed.
	Algorithm string
}

// signedPayload is the JSON inside a signed_request.
type signedPayload struct {
	Algorithm string          `json:"algorithm"`
	IssuedAt  json.Number     `json:"issued_at"`
	UserID    json.RawMessage `json:"user_id"`
}

// ParseSignedRequest verifies and reads a signed_request, "<signature>.<payload>":
// payload is base64url JSON, signature the base64url HMAC-SHA256 of the encoded
// payload keyed by the app secret, as Meta's "Parsing the Signed Request" describes.
// It refuses, with an error wrapping ErrSignedRequest, a request with a part missing,
// bad base64 or JSON, another algorithm, a signature that does not match appSecret,
// no user, or an issued_at older than SignedRequestMaxAge or more than
// SignedRequestMaxSkew ahead of now.
func ParseSignedRequest(signed string, appSecret string, now time.Time) (SignedRequest, error) {
	encSig, encPayload, ok := strings.Cut(strings.TrimSpace(signed), ".")
	if !ok || encSig == "" || encPayload == "" {
		return SignedRequest{}, fmt.Errorf("%w: not <signature>.<payload>", ErrSignedRequest)
	}
	sig, err := decodeBase64URL(encSig)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("%w: signature is not base64url", ErrSignedRequest)
	}
	raw, err := decodeBase64URL(encPayload)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("%w: payload is not base64url", ErrSignedRequest)
	}
	var p signedPayload
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return SignedRequest{}, fmt.Errorf("%w: payload is not JSON", ErrSignedRequest)
	}
	// Meta's own sample compares the algorithm case-insensitively.
	if !strings.EqualFold(p.Algorithm, SignedAlgorithm) {
		return SignedRequest{}, fmt.Errorf("%w: algorithm %q, want %s", ErrSignedRequest, p.Algorithm, SignedAlgorithm)
	}
	// The signature covers the payload as sent, not as re-encoded.
	if !hmac.Equal(sig, signPayload(encPayload, appSecret)) {
		return SignedRequest{}, fmt.Errorf("%w: signature does not match the app secret", ErrSignedRequest)
	}
	userID := jsonID(p.UserID)
	if userID == "" || userID == "0" {
		return SignedRequest{}, fmt.Errorf("%w: names no user", ErrSignedRequest)
	}
	secs, err := p.IssuedAt.Int64()
	if err != nil {
		return SignedRequest{}, fmt.Errorf("%w: no issued_at", ErrSignedRequest)
	}
	issued := time.Unix(secs, 0)
	switch {
	case now.Sub(issued) > SignedRequestMaxAge:
		return SignedRequest{}, fmt.Errorf("%w: issued %s ago, more than %s", ErrSignedRequest, now.Sub(issued).Truncate(time.Second), SignedRequestMaxAge)
	case issued.Sub(now) > SignedRequestMaxSkew:
		return SignedRequest{}, fmt.Errorf("%w: issued %s in the future", ErrSignedRequest, issued.Sub(now).Truncate(time.Second))
	}
	return SignedRequest{UserID: userID, IssuedAt: issued, Algorithm: SignedAlgorithm}, nil
}

// SignRequest makes the signed_request Meta would send for payload, signed with
// appSecret: the sandbox's deauthorize callback and tests use it. An empty Algorithm
// is SignedAlgorithm; a zero IssuedAt leaves issued_at out.
func SignRequest(payload SignedRequest, appSecret string) string {
	m := map[string]any{"algorithm": payload.Algorithm, "user_id": payload.UserID}
	if payload.Algorithm == "" {
		m["algorithm"] = SignedAlgorithm
	}
	if !payload.IssuedAt.IsZero() {
		m["issued_at"] = payload.IssuedAt.Unix()
	}
	b, _ := json.Marshal(m) // strings and a number: cannot fail
	enc := base64.RawURLEncoding.EncodeToString(b)
	return base64.RawURLEncoding.EncodeToString(signPayload(enc, appSecret)) + "." + enc
}

// signPayload is the HMAC-SHA256 of the encoded payload keyed by the app secret.
func signPayload(encPayload, appSecret string) []byte {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(encPayload))
	return m.Sum(nil)
}

// decodeBase64URL decodes base64url with or without padding: Meta sends none, and
// the samples of its docs decode either.
func decodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// jsonID reads an id sent as a JSON string or number.
func jsonID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
