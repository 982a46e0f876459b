package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/apikey"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
)

// KeyPrefix starts every API key, so a leaked one is recognisable (and
// findable by secret scanners).
const KeyPrefix = "sa_"

// ErrInvalidCredentials is the one answer to a malformed, unknown, revoked or
// expired credential: it tells an attacker nothing more.
var ErrInvalidCredentials = errors.New("invalid credentials")

var keyIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const (
	keyIDLen  = 16 // 10 random bytes
	secretLen = 43 // 32 random bytes, base64url
	keyLen    = len(KeyPrefix) + keyIDLen + 1 + secretLen
	// cacheTTL is how long a verified key is trusted without asking the
	// database again: the longest a revocation takes to reach another instance.
	cacheTTL = 10 * time.Second
)

// ParseKey splits an API key into its key ID, checking its form only.
func ParseKey(token string) (keyID string, ok bool) {
	if len(token) != keyLen || !strings.HasPrefix(token, KeyPrefix) {
		return "", false
	}
	rest := token[len(KeyPrefix):]
	id, secret := rest[:keyIDLen], rest[keyIDLen+1:]
	if rest[keyIDLen] != '_' {
		return "", false
	}
	if _, err := keyIDEncoding.DecodeString(id); err != nil {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return id, true
}

func hashKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Keys creates, lists, revokes and verifies API keys.
type Keys struct {
	client *ent.Client

	mu       sync.Mutex
	cache    map[string]cached
	lastUsed map[string]time.Time

	// OnRevoke, when set, is told of each revocation ("api_key:" + key ID)
	// after it is stored: the other instances forget the key and close its
	// connections.
	OnRevoke func(ctx context.Context, credential string)
}

// Credential is how a key's viewer is named in revocations and caps.
func Credential(keyID string) string { return "api_key:" + keyID }

// Forget drops a key from the verification cache: the next use reads it
// again (another instance revoked it).
func (k *Keys) Forget(keyID string) {
	k.mu.Lock()
	delete(k.cache, keyID)
	k.mu.Unlock()
}

type cached struct {
	key *ent.APIKey
	at  time.Time
}

// NewKeys returns the key store of client.
func NewKeys(client *ent.Client) *Keys {
	return &Keys{client: client, cache: map[string]cached{}, lastUsed: map[string]time.Time{}}
}

// system lets the key store read and write keys whoever asks; callers
// check roles (the GraphQL resolvers through the privacy policy on APIKey).
func system(ctx context.Context) context.Context {
	return privacy.DecisionContext(dbroute.UsePrimary(ctx), privacy.Allow)
}

// CreateInput is a new key.
type CreateInput struct {
	Name      string
	Role      Role
	Customers []int
	ExpiresAt *time.Time
	CreatedBy string
}

// Create stores a new key and returns it with its secret, which is never
// stored and cannot be shown again. ctx must allow writing keys.
func (k *Keys) Create(ctx context.Context, in CreateInput) (*ent.APIKey, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || len(in.Name) > 128:
		return nil, "", fmt.Errorf("%w: a name of 1 to 128 characters is required", ErrBadKeyInput)
	case !in.Role.Valid():
		return nil, "", fmt.Errorf("%w: role must be ADMIN, STAFF or PARTNER", ErrBadKeyInput)
	case in.Role == RolePartner && len(in.Customers) == 0:
		return nil, "", fmt.Errorf("%w: a PARTNER key needs at least one customer", ErrBadKeyInput)
	case in.Role != RolePartner && len(in.Customers) > 0:
		return nil, "", fmt.Errorf("%w: only PARTNER keys are limited to customers", ErrBadKeyInput)
	}
	var idBytes [10]byte
	var secretBytes [32]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return nil, "", err
	}
	if _, err := rand.Read(secretBytes[:]); err != nil {
		return nil, "", err
	}
	keyID := keyIDEncoding.EncodeToString(idBytes[:])
	token := KeyPrefix + keyID + "_" + base64.RawURLEncoding.EncodeToString(secretBytes[:])
	row, err := k.client.APIKey.Create().
		SetKeyID(keyID).
		SetSecretHash(hashKey(token)).
		SetName(in.Name).
		SetRole(apikey.Role(in.Role)).
		SetCustomerIds(in.Customers).
		SetNillableExpiresAt(in.ExpiresAt).
		SetCreatedBy(in.CreatedBy).
		Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("create api key: %w", err)
	}
	return row, token, nil
}

// ErrBadKeyInput wraps the problems of a CreateInput.
var ErrBadKeyInput = errors.New("invalid api key")

// Revoke revokes key id (the row ID); revoking twice keeps the first time.
func (k *Keys) Revoke(ctx context.Context, id int) (*ent.APIKey, error) {
	row, err := k.client.APIKey.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if row.RevokedAt == nil {
		row, err = row.Update().SetRevokedAt(time.Now().UTC().Truncate(time.Microsecond)).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("revoke api key %d: %w", id, err)
		}
	}
	k.Forget(row.KeyID)
	if k.OnRevoke != nil {
		k.OnRevoke(ctx, Credential(row.KeyID))
	}
	return row, nil
}

// Authenticate verifies an API key and returns its viewer.
func (k *Keys) Authenticate(ctx context.Context, token string) (*Viewer, error) {
	keyID, ok := ParseKey(token)
	if !ok {
		return nil, ErrInvalidCredentials
	}
	now := time.Now()
	k.mu.Lock()
	c, hit := k.cache[keyID]
	k.mu.Unlock()
	if !hit || now.Sub(c.at) > cacheTTL {
		row, err := k.client.APIKey.Query().Where(apikey.KeyID(keyID)).Only(system(ctx))
		if ent.IsNotFound(err) {
			return nil, ErrInvalidCredentials
		}
		if err != nil {
			return nil, fmt.Errorf("look up api key: %w", err)
		}
		c = cached{key: row, at: now}
		k.mu.Lock()
		k.cache[keyID] = c
		k.mu.Unlock()
	}
	row := c.key
	if subtle.ConstantTimeCompare([]byte(hashKey(token)), []byte(row.SecretHash)) != 1 ||
		row.RevokedAt != nil || (row.ExpiresAt != nil && !now.Before(*row.ExpiresAt)) {
		return nil, ErrInvalidCredentials
	}
	k.mu.Lock()
	k.lastUsed[keyID] = now
	k.mu.Unlock()
	v := &Viewer{Kind: "api_key", ID: keyID, Name: row.Name, Role: Role(row.Role), Customers: row.CustomerIds}
	if row.ExpiresAt != nil {
		v.ExpiresAt = *row.ExpiresAt
	}
	return v, nil
}

// FlushLastUsed writes the last use of the keys used since the previous
// flush: one write per key and flush, not per request.
func (k *Keys) FlushLastUsed(ctx context.Context) error {
	k.mu.Lock()
	used := k.lastUsed
	k.lastUsed = map[string]time.Time{}
	k.mu.Unlock()
	var errs []error
	for id, at := range used {
		err := k.client.APIKey.Update().
			Where(apikey.KeyID(id)).
			SetLastUsedAt(at.UTC().Truncate(time.Microsecond)).
			Exec(system(ctx))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Count returns how many keys exist.
func (k *Keys) Count(ctx context.Context) (int, error) {
	return k.client.APIKey.Query().Count(system(ctx))
}
