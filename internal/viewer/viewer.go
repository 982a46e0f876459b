// Package viewer is who is asking: the one identity a request's context
// carries. Authentication (internal/auth) produces it; the privacy rules
// (internal/auth/rule), the services that record an actor (shipping, files),
// read-your-writes, subscriptions and the resolvers read it with
// FromContext. It sits at the bottom of the import graph so that every
// package may read it without depending on how credentials are checked.
package viewer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// Role is what a viewer may do.
type Role string

// The roles.
const (
	// RoleAdmin may do everything, including managing API keys.
	RoleAdmin Role = "ADMIN"
	// RoleStaff reads and writes every shipment, customer and file.
	RoleStaff Role = "STAFF"
	// RolePartner reads the shipments of its customers only.
	RolePartner Role = "PARTNER"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleStaff || r == RolePartner }

// AtLeast reports whether r has all the powers of o.
func (r Role) AtLeast(o Role) bool { return r.rank() >= o.rank() }

// rank orders roles by power.
func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleStaff:
		return 2
	case RolePartner:
		return 1
	}
	return 0
}

// MarshalGQL implements graphql.Marshaler.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Role(s).Valid() {
		return fmt.Errorf("%v is not a valid Role", v)
	}
	*r = Role(s)
	return nil
}

// The kinds of viewer.
const (
	// KindAPIKey is a program with an API key.
	KindAPIKey = "api_key"
	// KindUser is a person with a token of the OIDC provider.
	KindUser = "user"
	// KindSystem is background work of the service itself (System): it has
	// no role, so the privacy rules treat it as no viewer.
	KindSystem = "system"
)

// Viewer is who is making a request.
type Viewer struct {
	// Kind is KindAPIKey, KindUser or KindSystem.
	Kind string
	// ID identifies the credential: the key ID, the token's subject, or
	// the name of the background work.
	ID string
	// Name is shown as the actor of changes.
	Name string
	Role Role
	// Customers are the Dolibarr rowids a PARTNER may see.
	Customers []int
	// ExpiresAt is when the credential stops being valid (zero: never).
	ExpiresAt time.Time
}

// System is the viewer of background work named name (the demo seed, a
// job): its changes are recorded as made by "system:<name>". It has no role:
// it reads and writes only where the context also allows everything
// (privacy.DecisionContext(ctx, privacy.Allow)).
func System(name string) *Viewer { return &Viewer{Kind: KindSystem, ID: name, Name: name} }

// Credential names the viewer's credential ("api_key:ID" or "user:subject"):
// the stable identity that revocations, connection caps and read-your-writes
// go by. It is "" for no viewer.
func (v *Viewer) Credential() string {
	if v == nil {
		return ""
	}
	return v.Kind + ":" + v.ID
}

// Actor is the name recorded as created_by/updated_by: "key:ID",
// "user:subject", "system:name", or Anonymous for no viewer.
func (v *Viewer) Actor() string {
	switch {
	case v == nil:
		return Anonymous
	case v.Kind == KindAPIKey:
		return "key:" + v.ID
	case v.Kind == KindSystem:
		return "system:" + v.ID
	}
	return "user:" + v.ID
}

// Can reports whether v has at least role r.
func (v *Viewer) Can(r Role) bool { return v != nil && v.Role.AtLeast(r) }

// Scoped reports whether v sees only some customers (a partner).
func (v *Viewer) Scoped() bool { return v == nil || v.Role == RolePartner }

// Sees reports whether v may see customer rowid id.
func (v *Viewer) Sees(id int) bool {
	return v != nil && (!v.Scoped() || slices.Contains(v.Customers, id))
}

// Anonymous is the actor of a context without a viewer (tests that call
// services directly); every API request has an authenticated viewer.
const Anonymous = "anonymous"

type ctxKey struct{}

// NewContext returns a context whose viewer is v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// Actor returns the name recorded as created_by/updated_by for changes made
// with ctx (FromContext(ctx).Actor()).
func Actor(ctx context.Context) string { return FromContext(ctx).Actor() }
