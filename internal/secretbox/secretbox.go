// Package secretbox owns secrets at rest: values the server must read back
// (webhook signing secrets) are stored sealed with AES-256-GCM under a key
// ring from the configuration, never in clear.
//
// A sealed value is "v1:<key id>:<base64(nonce|ciphertext)>". The key id (the
// first 8 hex characters of the SHA-256 of the key) lets Open pick the key
// directly, so keys can be rotated: put the new key first, keep the old ones
// until NeedsRotation reports no value made with them. The additional data
// names the record a value belongs to, so a sealed value copied to another
// row does not open there.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

const (
	version   = "v1"
	keyIDLen  = 8 // hex characters of SHA-256(key)
	nonceSize = 12
	tagSize   = 16
)

// ErrUnknownKey is returned by Open for a value sealed with a key the ring
// does not hold (a key removed too early, or a ring from another server).
var ErrUnknownKey = errors.New("secretbox: sealed with a key not in the key ring")

// ErrCorrupt is returned by Open for a value that is not one Seal made, was
// altered, or belongs to another record (other additional data).
var ErrCorrupt = errors.New("secretbox: sealed value corrupt or not for this record")

// ErrKeys is returned by ParseKeys and New for an unusable key ring. Its
// messages name a key by position, never by its material.
var ErrKeys = errors.New("secretbox: invalid key ring")

// Box encrypts with its first key and decrypts with any of its keys (key
// rotation: put the new key first, keep the old ones until re-encrypted). It
// is safe for concurrent use.
type Box struct {
	first string                 // key id of keys[0]
	aeads map[string]cipher.AEAD // by key id
}

// ParseKeys parses a comma-separated list of keys, each 64 hex characters or
// the standard base64 of 32 bytes, spaces around them ignored. Errors name
// the position of a bad key (1-based) and never echo it.
func ParseKeys(s string) ([][]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: no keys", ErrKeys)
	}
	parts := strings.Split(s, ",")
	keys := make([][]byte, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%w: key %d of %d is empty", ErrKeys, i+1, len(parts))
		}
		key, ok := decodeKey(p)
		if !ok {
			// The decoders' errors can quote a byte of the key: not wrapped.
			return nil, fmt.Errorf("%w: key %d of %d is not 64 hex characters or standard base64 of %d bytes (it has %d characters)",
				ErrKeys, i+1, len(parts), KeySize, len(p))
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// decodeKey reads one key as hex (exactly 64 characters) or standard base64.
func decodeKey(s string) ([]byte, bool) {
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, true
		}
	}
	key, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(key) != KeySize {
		return nil, false
	}
	return key, true
}

// New returns a Box over keys, the first sealing and all opening. It needs at
// least one key, each KeySize bytes, none twice.
func New(keys [][]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrKeys)
	}
	b := &Box{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("%w: key %d has %d bytes, want %d", ErrKeys, i+1, len(key), KeySize)
		}
		id := keyID(key)
		if _, dup := b.aeads[id]; dup {
			return nil, fmt.Errorf("%w: key %d repeats an earlier key (or shares its id)", ErrKeys, i+1)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secretbox: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: key %d: %w", i+1, err)
		}
		b.aeads[id] = aead
		if i == 0 {
			b.first = id
		}
	}
	return b, nil
}

// keyID names a key without revealing it: the first 8 hex characters of its
// SHA-256.
func keyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])[:keyIDLen]
}

// Seal encrypts plain under the first key with a random nonce and returns
// "v1:<key id>:<base64(nonce|ciphertext)>". aad binds the value to its record
// (e.g. "webhook_endpoint:42:secret"): Open must be given the same.
func (b *Box) Seal(plain, aad []byte) (string, error) {
	nonce := make([]byte, nonceSize, nonceSize+len(plain)+tagSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: seal: nonce: %w", err)
	}
	sealed := b.aeads[b.first].Seal(nonce, nonce, plain, aad)
	return version + ":" + b.first + ":" + base64.StdEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value Seal made with any key of the ring for the same aad.
// It fails with ErrUnknownKey when the key is not in the ring, and with
// ErrCorrupt when the value is malformed, altered or sealed for other aad.
func (b *Box) Open(sealed string, aad []byte) ([]byte, error) {
	id, payload, err := split(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := b.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not standard base64", ErrCorrupt)
	}
	if len(raw) < nonceSize+tagSize {
		return nil, fmt.Errorf("%w: payload of %d bytes is too short", ErrCorrupt, len(raw))
	}
	plain, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (altered, or sealed for another record)", ErrCorrupt)
	}
	return plain, nil
}

// NeedsRotation reports whether sealed was made with a key other than the
// first, so should be opened and sealed again. A value that does not parse
// also reports true: the rotation job's Open then reports what is wrong.
func (b *Box) NeedsRotation(sealed string) bool {
	id, _, err := split(sealed)
	return err != nil || id != b.first
}

// split parses "v1:<key id>:<payload>".
func split(sealed string) (id, payload string, err error) {
	v, rest, ok := strings.Cut(sealed, ":")
	if !ok || v != version {
		return "", "", fmt.Errorf("%w: not a %s sealed value", ErrCorrupt, version)
	}
	id, payload, ok = strings.Cut(rest, ":")
	if !ok || len(id) != keyIDLen || strings.Trim(id, "0123456789abcdef") != "" {
		return "", "", fmt.Errorf("%w: no key id", ErrCorrupt)
	}
	return id, payload, nil
}
