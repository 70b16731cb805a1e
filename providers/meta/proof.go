package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// AppSecretProof is Graph's appsecret_proof: HMAC-SHA256 of the access token keyed by
// the app secret, hex encoded. Relink sends it on every call.
func AppSecretProof(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}
