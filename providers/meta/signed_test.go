package meta_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers/meta"
)

// signRaw signs a payload JSON by hand, the way Meta documents it, without SignRequest.
func signRaw(payload, secret string) string {
	enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(enc))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + enc
}

func TestParseSignedRequest(t *testing.T) {
	const secret = "app-secret"
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	genuine := meta.SignRequest(meta.SignedRequest{UserID: "10000000000001", IssuedAt: now.Add(-time.Minute)}, secret)
	sig, payload, _ := strings.Cut(genuine, ".")
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"algorithm":"HMAC-SHA256","issued_at":` +
		"1772355540" + `,"user_id":"10000000000002"}`))
	tests := []struct {
		name    string
		signed  string
		secret  string
		user    string // "" when refused
		errText string
	}{
		{name: "genuine", signed: genuine, secret: secret, user: "10000000000001"},
		{name: "genuine, signature padded", signed: sig + "=." + payload, secret: secret, user: "10000000000001"},
		{name: "signed by hand as Meta documents, numeric user id", signed: signRaw(`{"algorithm":"hmac-sha256","issued_at":1772355600,"user_id":10000000000003}`, secret), secret: secret, user: "10000000000003"},
		{name: "forged signature", signed: sig + "." + forgedPayload, secret: secret, errText: "signature"},
		{name: "signature of another payload", signed: strings.Replace(genuine, sig, base64.RawURLEncoding.EncodeToString(make([]byte, 32)), 1), secret: secret, errText: "signature"},
		{name: "missing signature", signed: "." + payload, secret: secret, errText: "<signature>.<payload>"},
		{name: "no separator", signed: payload, secret: secret, errText: "<signature>.<payload>"},
		{name: "missing payload", signed: sig + ".", secret: secret, errText: "<signature>.<payload>"},
		{name: "empty", signed: "", secret: secret, errText: "<signature>.<payload>"},
		{name: "wrong secret", signed: genuine, secret: "another-secret", errText: "signature"},
		{name: "wrong algorithm", signed: signRaw(`{"algorithm":"HMAC-SHA1","issued_at":1772355600,"user_id":"1"}`, secret), secret: secret, errText: "algorithm"},
		{name: "no algorithm", signed: signRaw(`{"issued_at":1772355600,"user_id":"1"}`, secret), secret: secret, errText: "algorithm"},
		{name: "bad base64 signature", signed: "!!!." + payload, secret: secret, errText: "base64"},
		{name: "bad base64 payload", signed: sig + ".%%%", secret: secret, errText: "base64"},
		{name: "payload not JSON", signed: signRaw(`not json`, secret), secret: secret, errText: "JSON"},
		{name: "expired", signed: meta.SignRequest(meta.SignedRequest{UserID: "1", IssuedAt: now.Add(-meta.SignedRequestMaxAge - time.Second)}, secret), secret: secret, errText: "ago"},
		{name: "far in the future", signed: meta.SignRequest(meta.SignedRequest{UserID: "1", IssuedAt: now.Add(10 * time.Minute)}, secret), secret: secret, errText: "future"},
		{name: "a clock a little ahead", signed: meta.SignRequest(meta.SignedRequest{UserID: "1", IssuedAt: now.Add(4 * time.Minute)}, secret), secret: secret, user: "1"},
		{name: "no issued_at", signed: meta.SignRequest(meta.SignedRequest{UserID: "1"}, secret), secret: secret, errText: "issued_at"},
		{name: "no user", signed: signRaw(`{"algorithm":"HMAC-SHA256","issued_at":1772355600,"user_id":"0"}`, secret), secret: secret, errText: "no user"},
		// The example of Meta's canvas docs ("secret"): its signature holds, and it is
		// refused only because it names no user.
		{name: "Meta's documented example", signed: "vlXgu64BQGFSQrY0ZcJBZASMvYvTHu9GQ0YM9rjPSso.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsIjAiOiJwYXlsb2FkIn0", secret: "secret", errText: "no user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := meta.ParseSignedRequest(tt.signed, tt.secret, now)
			if tt.user != "" {
				if err != nil || got.UserID != tt.user || got.Algorithm != meta.SignedAlgorithm || got.IssuedAt.IsZero() {
					t.Fatalf("got %+v, %v; want user %s", got, err, tt.user)
				}
				return
			}
			if err == nil || !errors.Is(err, meta.ErrSignedRequest) || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("err = %v, want ErrSignedRequest saying %q", err, tt.errText)
			}
			if got != (meta.SignedRequest{}) {
				t.Errorf("a refused request still gave %+v", got)
			}
		})
	}
}
