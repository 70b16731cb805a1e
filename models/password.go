package models

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password Relink accepts for a new user.
const MinPasswordLength = 10

var errBadHash = errors.New("models: malformed password hash")

// HashPassword returns an argon2id hash of password in the PHC string format.
func HashPassword(password string) (string, error) {
	return hashPassword(password, argonMemory, argonTime)
}

// Cheap argon2id parameters for tests (OpenOptions.CheapPasswordHashes): 64 KiB and one
// pass instead of 19 MiB and two, so that each test site's users cost microseconds.
// CheckPassword reads the parameters from the hash, so both kinds verify alike.
const (
	cheapArgonMemory = 64
	cheapArgonTime   = 1
)

func hashPassword(password string, memory, passes uint32) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("models: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, passes, memory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memory, passes, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// hashPassword hashes with the store's parameters.
func (s *Store) hashPassword(password string) (string, error) {
	if s.cheapHashes {
		return hashPassword(password, cheapArgonMemory, cheapArgonTime)
	}
	return HashPassword(password)
}

// CheckPassword reports whether password matches hash, in time independent of where they differ.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when an email is unknown, so that a wrong email costs as
// much time as a wrong password and the two cannot be told apart.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("relink-dummy-password")
	if err != nil {
		panic(err) // crypto/rand failing leaves nothing sensible to do
	}
	return h
})
