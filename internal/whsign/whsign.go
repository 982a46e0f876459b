// Package whsign owns the signatures of outgoing webhooks, as the Standard
// Webhooks specification (https://www.standardwebhooks.com) defines them:
// the secrets ("whsec_" and base64), the three headers of a delivery
// (webhook-id, webhook-timestamp, webhook-signature) and the HMAC-SHA256 of
// "<id>.<timestamp>.<body>" that a receiver recomputes.
//
// Sign is what the sender does; Verify is what a receiver does, used by our
// tests and shown to customers in docs/WEBHOOKS-VERIFY.md. Both agree with
// the standardwebhooks npm package (TestStandardWebhooksNPM).
package whsign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every secret we hand out, as the specification's
// libraries write and accept them.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, either way, as the specification recommends; Verify uses
// it when given a tolerance of zero or less.
const DefaultTolerance = 5 * time.Minute

// Secret key sizes: the specification's own test secret has 24 bytes; we
// generate 32; more than 64 is a mistake (HMAC-SHA256 would hash it).
const (
	minKeyLen = 24
	maxKeyLen = 64
	newKeyLen = 32
	maxIDLen  = 256
)

// Header names of the specification (canonicalised by http.Header).
const (
	headerID        = "webhook-id"
	headerTimestamp = "webhook-timestamp"
	headerSignature = "webhook-signature"
)

// ErrMissingHeaders is returned by Verify when webhook-id, webhook-timestamp
// or webhook-signature is absent or empty.
var ErrMissingHeaders = errors.New("whsign: missing webhook-id, webhook-timestamp or webhook-signature header")

// ErrTimestamp is returned by Verify when webhook-timestamp is not Unix
// seconds or is further from now than the tolerance (a replay, or a clock
// out of sync).
var ErrTimestamp = errors.New("whsign: webhook-timestamp invalid or outside the tolerance")

// ErrSignature is returned by Verify when no v1 signature in
// webhook-signature matches the secret.
var ErrSignature = errors.New("whsign: no matching signature")

// ErrSecret is returned by ParseSecret (and so by Sign and Verify) for a
// secret that is not base64 of 24 to 64 bytes. Its messages never contain
// the secret.
var ErrSecret = errors.New("whsign: invalid secret")

// ErrID is returned by Sign for a message id the specification's receivers
// could not carry: empty, longer than 256 bytes, or with spaces or control
// characters.
var ErrID = errors.New("whsign: invalid message id")

// NewSecret returns a fresh secret: SecretPrefix and the standard base64 of
// 32 random bytes from crypto/rand.
func NewSecret() (string, error) {
	key := make([]byte, newKeyLen)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("whsign: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret returns the HMAC key of a secret: the standard base64 after an
// optional SecretPrefix (the specification's libraries accept both). It
// fails with ErrSecret for bad base64 or a key shorter than 24 or longer
// than 64 bytes.
func ParseSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil {
		// The decoder's error names a position only; still, say nothing of the secret.
		return nil, fmt.Errorf("%w: not %q followed by standard base64", ErrSecret, SecretPrefix)
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrSecret, len(key), minKeyLen, maxKeyLen)
	}
	return key, nil
}

// Headers are the three Standard Webhooks headers of one delivery.
type Headers struct {
	// ID is the message id (webhook-id): the same on every retry of one
	// message, so the receiver can drop duplicates.
	ID string
	// Timestamp is when the attempt was signed (webhook-timestamp), whole
	// seconds.
	Timestamp time.Time
	// Signature is webhook-signature: "v1,<base64>" once per secret,
	// separated by spaces, newest secret first.
	Signature string
}

// Sign signs body for message id at ts with every secret (at least one; the
// first is the newest) and returns the headers, Signature being
// "v1,<sig1> v1,<sig2>". ts is truncated to whole seconds, as the header
// carries them. Sign refuses an invalid id (ErrID) or secret (ErrSecret).
func Sign(secrets []string, id string, ts time.Time, body []byte) (Headers, error) {
	if len(secrets) == 0 {
		return Headers{}, fmt.Errorf("%w: no secrets to sign with", ErrSecret)
	}
	if err := validateID(id); err != nil {
		return Headers{}, err
	}
	unix := ts.Unix()
	sigs := make([]string, 0, len(secrets))
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return Headers{}, fmt.Errorf("whsign: sign: secret %d: %w", i+1, err)
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac(key, id, unix, body)))
	}
	return Headers{ID: id, Timestamp: time.Unix(unix, 0).UTC(), Signature: strings.Join(sigs, " ")}, nil
}

// Set writes h onto dst as webhook-id, webhook-timestamp (Unix seconds) and
// webhook-signature, replacing any values there.
func (h Headers) Set(dst http.Header) {
	dst.Set(headerID, h.ID)
	dst.Set(headerTimestamp, strconv.FormatInt(h.Timestamp.Unix(), 10))
	dst.Set(headerSignature, h.Signature)
}

// Verify is what a receiver does with a delivery: it checks that
// webhook-timestamp is within tolerance of now (DefaultTolerance when
// tolerance is zero or less) and that one of the v1 signatures in
// webhook-signature is the HMAC of the delivery under secret, compared in
// constant time. Entries of other versions are ignored. It returns nil, or
// an error matching ErrMissingHeaders, ErrTimestamp, ErrSignature or
// ErrSecret.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return fmt.Errorf("whsign: verify: %w", err)
	}
	id, tsText, sigText := h.Get(headerID), h.Get(headerTimestamp), h.Get(headerSignature)
	if id == "" || tsText == "" || sigText == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: not Unix seconds", ErrTimestamp)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Sub saturates, so a timestamp centuries away is still just "too far".
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance {
		return fmt.Errorf("%w: %s old, tolerance %s", ErrTimestamp, age.Truncate(time.Second), tolerance)
	} else if age < -tolerance {
		return fmt.Errorf("%w: %s in the future, tolerance %s", ErrTimestamp, (-age).Truncate(time.Second), tolerance)
	}
	// Compare the base64 text, as the specification's libraries do: decoding
	// first would also accept other spellings of the same bytes.
	want := []byte(base64.StdEncoding.EncodeToString(mac(key, id, unix, body)))
	for _, entry := range strings.Fields(sigText) {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && subtle.ConstantTimeCompare([]byte(sig), want) == 1 {
			return nil
		}
	}
	return ErrSignature
}

// mac is HMAC-SHA256 under key of "<id>.<unix>.<body>", the signed content.
func mac(key []byte, id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, unix, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// validateID accepts the ids receivers can carry in a header and use as a
// key: 1 to 256 bytes of printable ASCII without spaces (msg_… in the
// specification's examples).
func validateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrID)
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrID, len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: byte %d is a space, a control character or not ASCII", ErrID, i)
		}
	}
	return nil
}
