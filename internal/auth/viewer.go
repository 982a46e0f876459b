// Package auth says who is asking and what they may do: API keys (hashed,
// with a recognisable prefix), user tokens from the company's OIDC provider,
// the three roles, and the viewer carried by each request's context that the
// data layer's privacy rules read.
package auth

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

// Viewer is who is making a request.
type Viewer struct {
	// Kind is "api_key" or "user".
	Kind string
	// ID identifies the credential: the key ID, or the token's subject.
	ID string
	// Name is shown as the actor of changes.
	Name string
	Role Role
	// Customers are the Dolibarr rowids a PARTNER may see.
	Customers []int
	// ExpiresAt is when the credential stops being valid (zero: never).
	ExpiresAt time.Time
}

// Credential names the viewer's credential ("api_key:ID" or "user:subject").
func (v *Viewer) Credential() string { return v.Kind + ":" + v.ID }

// Actor is the name recorded as created_by/updated_by.
func (v *Viewer) Actor() string {
	if v.Kind == "api_key" {
		return "key:" + v.ID
	}
	return "user:" + v.ID
}

// Can reports whether v has at least role r.
func (v *Viewer) Can(r Role) bool { return v != nil && v.Role.rank() >= r.rank() }

// Scoped reports whether v sees only some customers (a partner).
func (v *Viewer) Scoped() bool { return v == nil || v.Role == RolePartner }

// Sees reports whether v may see customer rowid id.
func (v *Viewer) Sees(id int) bool {
	return v != nil && (!v.Scoped() || slices.Contains(v.Customers, id))
}

type viewerKey struct{}

// WithViewer returns a context for requests made by v.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer of ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
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
