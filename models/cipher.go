package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Cipher encrypts OAuth tokens at rest with AES-256-GCM. The first key encrypts; every key
// decrypts, so keys can be rotated by putting a new one first and re-encrypting later.
// Each ciphertext starts with a format byte and the 4-byte id of the key that sealed it.
type Cipher struct {
	keys []cipherKey
}

type cipherKey struct {
	id   [4]byte
	aead cipher.AEAD
}

const cipherFormat = 1

// ErrDecrypt is returned for a ciphertext no configured key opens.
var ErrDecrypt = errors.New("models: token cannot be decrypted with the configured keys")

// NewCipher builds a Cipher from raw 32-byte keys, the first one used to encrypt.
func NewCipher(keys ...[]byte) (*Cipher, error) {
	if len(keys) == 0 {
		return nil, errors.New("models: no token key")
	}
	c := &Cipher{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("models: token key %d is %d bytes, want 32", i+1, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("models: token key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("models: token key %d: %w", i+1, err)
		}
		sum := sha256.Sum256(k)
		ck := cipherKey{aead: aead}
		copy(ck.id[:], sum[:4])
		c.keys = append(c.keys, ck)
	}
	return c, nil
}

// ParseKeys decodes a comma-separated list of base64 (standard or URL) keys.
func ParseKeys(list string) ([][]byte, error) {
	var out [][]byte
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		k, err := decodeBase64(s)
		if err != nil {
			return nil, fmt.Errorf("key %d is not base64", i+1)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("no key given")
	}
	return out, nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// Encrypt seals plaintext with the first key; an empty plaintext stays empty (no token).
// aad binds the ciphertext to its row so it cannot be copied onto another connection.
func (c *Cipher) Encrypt(plaintext, aad []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, nil
	}
	k := c.keys[0]
	out := make([]byte, 0, 1+4+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out = append(out, cipherFormat)
	out = append(out, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("models: nonce: %w", err)
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad), nil
}

// Decrypt opens a ciphertext made by Encrypt with any configured key.
func (c *Cipher) Decrypt(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) == 0 {
		return nil, nil
	}
	if len(ciphertext) < 5 || ciphertext[0] != cipherFormat {
		return nil, ErrDecrypt
	}
	for _, k := range c.keys {
		if string(k.id[:]) != string(ciphertext[1:5]) {
			continue
		}
		rest := ciphertext[5:]
		if len(rest) < k.aead.NonceSize() {
			return nil, ErrDecrypt
		}
		pt, err := k.aead.Open(nil, rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():], aad)
		if err != nil {
			return nil, ErrDecrypt
		}
		return pt, nil
	}
	return nil, ErrDecrypt
}
