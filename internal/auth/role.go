// Package auth says who is asking and what they may do: API keys (hashed,
// with a recognisable prefix, owned by Keys), user tokens from the company's
// OIDC provider, and the three roles. What it finds is a *viewer.Viewer,
// which the HTTP edge puts in each request's context (viewer.NewContext) for
// the data layer's privacy rules and everything else to read.
package auth

import "github.com/shipmentapp/shipmentapp/internal/viewer"

// Role is viewer.Role: what a key or a user may do.
type Role = viewer.Role

// The roles (viewer's, named here for the callers that create keys).
const (
	RoleAdmin   = viewer.RoleAdmin
	RoleStaff   = viewer.RoleStaff
	RolePartner = viewer.RolePartner
)
