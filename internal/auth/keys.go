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
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/apikey"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
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

// Keys is the one owner of the API-key rules: it creates keys (checking
// their name, role, customers and expiry), lists them with their state,
// revokes them and verifies a presented key. The command line and the
// GraphQL resolvers both call it and hold no rule of their own.
type Keys struct {
	client    *ent.Client
	customers Customers
	now       func() time.Time

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

// Customers finds a Dolibarr customer by rowid (dolibarr.Client does);
// ent.IsNotFound is true for the error when there is none the caller may see.
type Customers interface {
	Customer(ctx context.Context, id int) (*ent.Customer, error)
}

// KeysOption configures Keys.
type KeysOption func(*Keys)

// WithCustomers is where Create checks that a PARTNER key's customers exist.
// Without it, Create refuses every key limited to customers: no entry point
// can skip the check.
func WithCustomers(c Customers) KeysOption { return func(k *Keys) { k.customers = c } }

// WithClock replaces time.Now for expiry decisions (tests).
func WithClock(now func() time.Time) KeysOption { return func(k *Keys) { k.now = now } }

// NewKeys returns the key store of client.
func NewKeys(client *ent.Client, opts ...KeysOption) *Keys {
	k := &Keys{client: client, now: time.Now, cache: map[string]cached{}, lastUsed: map[string]time.Time{}}
	for _, o := range opts {
		o(k)
	}
	return k
}

// KeyState is where a key stands: the one rule the listing, the API and
// authentication share.
type KeyState string

// The states of a key.
const (
	// KeyActive authenticates.
	KeyActive KeyState = "ACTIVE"
	// KeyExpired reached its expiry: from that instant on, it no longer
	// authenticates.
	KeyExpired KeyState = "EXPIRED"
	// KeyRevoked was revoked (whether or not it also expired).
	KeyRevoked KeyState = "REVOKED"
)

// StateAt is the state of key at now: revoked wins over expired, and a key
// is expired from its expiry instant on (not only after it).
func StateAt(key *ent.APIKey, now time.Time) KeyState {
	switch {
	case key.RevokedAt != nil:
		return KeyRevoked
	case key.ExpiresAt != nil && !now.Before(*key.ExpiresAt):
		return KeyExpired
	}
	return KeyActive
}

// State is the state of key now.
func (k *Keys) State(key *ent.APIKey) KeyState { return StateAt(key, k.now()) }

// MarshalGQL implements graphql.Marshaler.
func (s KeyState) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (s *KeyState) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if st := KeyState(str); !ok || (st != KeyActive && st != KeyExpired && st != KeyRevoked) {
		return fmt.Errorf("%v is not a valid APIKeyState", v)
	}
	*s = KeyState(str)
	return nil
}

// List returns every key, newest first. ctx must allow reading keys.
func (k *Keys) List(ctx context.Context) ([]*ent.APIKey, error) {
	rows, err := k.client.APIKey.Query().Order(ent.Desc(apikey.FieldCreatedAt), ent.Desc(apikey.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return rows, nil
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

// ErrBadKeyInput is wrapped by every *InputError.
var ErrBadKeyInput = errors.New("invalid api key")

// InputError is what is wrong with a CreateInput.
type InputError struct {
	// Customer is the index in CreateInput.Customers of the customer at
	// fault, or -1 when the problem is not one customer's.
	Customer int
	// Field names the CreateInput field at fault when it is not a customer
	// ("expiresAt"), "" when the problem is the input as a whole.
	Field string
	// Msg says what is wrong, for the caller to show.
	Msg string
}

func (e *InputError) Error() string { return ErrBadKeyInput.Error() + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrBadKeyInput) true.
func (e *InputError) Unwrap() error { return ErrBadKeyInput }

func badInput(msg string) error { return &InputError{Customer: -1, Msg: msg} }

// Create checks in, stores a new key and returns it with its secret, which
// is never stored and cannot be shown again. A problem with in is an
// *InputError. ctx must allow writing keys; the customers are looked up as
// ctx's viewer sees them.
func (k *Keys) Create(ctx context.Context, in CreateInput) (*ent.APIKey, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || len(in.Name) > 128:
		return nil, "", badInput("a name of 1 to 128 characters is required")
	case !in.Role.Valid():
		return nil, "", badInput("role must be ADMIN, STAFF or PARTNER")
	case in.Role == RolePartner && len(in.Customers) == 0:
		return nil, "", badInput("a PARTNER key needs at least one customer")
	case in.Role != RolePartner && len(in.Customers) > 0:
		return nil, "", badInput("only PARTNER keys are limited to customers")
	}
	for i, id := range in.Customers {
		if err := k.checkCustomer(ctx, id); err != nil {
			if errors.Is(err, ErrBadKeyInput) {
				return nil, "", &InputError{Customer: i, Msg: "no customer with this ID in Dolibarr"}
			}
			return nil, "", err
		}
	}
	if in.ExpiresAt != nil {
		t := in.ExpiresAt.UTC().Truncate(time.Microsecond) // as stored
		if !t.After(k.now()) {
			return nil, "", &InputError{Customer: -1, Field: "expiresAt", Msg: "the expiry must be in the future"}
		}
		in.ExpiresAt = &t
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

// checkCustomer returns an error wrapping ErrBadKeyInput when Dolibarr has
// no customer id (that ctx's viewer may see).
func (k *Keys) checkCustomer(ctx context.Context, id int) error {
	if k.customers == nil {
		return errors.New("api keys: no customer directory to check a PARTNER key's customers against")
	}
	_, err := k.customers.Customer(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return fmt.Errorf("%w: customer %d", ErrBadKeyInput, id)
	case err != nil:
		return fmt.Errorf("check customer %d: %w", id, err)
	}
	return nil
}

// Revoke revokes key id (the row ID); revoking twice keeps the first time.
func (k *Keys) Revoke(ctx context.Context, id int) (*ent.APIKey, error) {
	row, err := k.client.APIKey.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if row.RevokedAt == nil {
		row, err = row.Update().SetRevokedAt(k.now().UTC().Truncate(time.Microsecond)).Save(ctx)
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
func (k *Keys) Authenticate(ctx context.Context, token string) (*viewer.Viewer, error) {
	keyID, ok := ParseKey(token)
	if !ok {
		return nil, ErrInvalidCredentials
	}
	now := k.now()
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
		StateAt(row, now) != KeyActive {
		return nil, ErrInvalidCredentials
	}
	k.mu.Lock()
	k.lastUsed[keyID] = now
	k.mu.Unlock()
	return viewerOf(row), nil
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

// SetCustomers changes the customers a PARTNER key may see (the row ID).
// The change applies at once on every instance: the key's verified form is
// forgotten and, as for a revocation, its subscriptions end (a client
// resubscribes with the new scope); webhooks read the key at each delivery.
func (k *Keys) SetCustomers(ctx context.Context, id int, customers []int) (*ent.APIKey, error) {
	row, err := k.client.APIKey.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if Role(row.Role) != RolePartner {
		return nil, badInput("only PARTNER keys are limited to customers")
	}
	if len(customers) == 0 {
		return nil, badInput("a PARTNER key needs at least one customer")
	}
	for i, c := range customers {
		if err := k.checkCustomer(ctx, c); err != nil {
			if errors.Is(err, ErrBadKeyInput) {
				return nil, &InputError{Customer: i, Msg: "no customer with this ID in Dolibarr"}
			}
			return nil, err
		}
	}
	row, err = row.Update().SetCustomerIds(customers).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("set the customers of api key %d: %w", id, err)
	}
	k.Forget(row.KeyID)
	if k.OnRevoke != nil {
		k.OnRevoke(ctx, Credential(row.KeyID))
	}
	return row, nil
}

// ViewerOf returns the viewer of key id (the row ID) as the key is now,
// read from the primary, and its state: background work that acts for a
// key (webhook deliveries) checks it each time.
func (k *Keys) ViewerOf(ctx context.Context, id int) (*viewer.Viewer, KeyState, error) {
	row, err := k.client.APIKey.Get(system(ctx), id)
	if err != nil {
		return nil, "", fmt.Errorf("read api key %d: %w", id, err)
	}
	return viewerOf(row), StateAt(row, k.now()), nil
}

// RowID returns the row ID of the key whose key ID is keyID (a viewer's ID).
func (k *Keys) RowID(ctx context.Context, keyID string) (int, error) {
	id, err := k.client.APIKey.Query().Where(apikey.KeyID(keyID)).OnlyID(system(ctx))
	if err != nil {
		return 0, fmt.Errorf("look up api key %s: %w", keyID, err)
	}
	return id, nil
}

func viewerOf(row *ent.APIKey) *viewer.Viewer {
	v := &viewer.Viewer{Kind: viewer.KindAPIKey, ID: row.KeyID, Name: row.Name, Role: Role(row.Role), Customers: row.CustomerIds}
	if row.ExpiresAt != nil {
		v.ExpiresAt = *row.ExpiresAt
	}
	return v
}
