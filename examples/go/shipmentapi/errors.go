package shipmentapi

import (
	"errors"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes the server puts in extensions.code (the README's "Errors"
// lists them all); these are the ones the example acts on.
const (
	CodeUnauthenticated          = "UNAUTHENTICATED"
	CodeForbidden                = "FORBIDDEN"
	CodeNotFound                 = "NOT_FOUND"
	CodeBadUserInput             = "BAD_USER_INPUT"
	CodeConflict                 = "CONFLICT"
	CodeInvalidTransition        = "INVALID_TRANSITION"
	CodeValidationFailed         = "GRAPHQL_VALIDATION_FAILED"
	CodePersistedQueryNotAllowed = "PERSISTED_QUERY_NOT_ALLOWED"
	CodeRateLimited              = "RATE_LIMITED"
	CodeUnavailable              = "UNAVAILABLE"
)

// Errors returns the GraphQL errors err carries, wherever genqlient put
// them: a gqlerror.List when the server answered 200 with errors, or the
// errors of a *graphql.HTTPError's body when it answered 4xx or 5xx (401
// UNAUTHENTICATED, 429 RATE_LIMITED, 400 for a request refused before it
// ran). It returns nil for a transport error (no answer at all).
func Errors(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var httpErr *graphql.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.Response.Errors
	}
	return nil
}

// Code returns e's extensions.code ("" when it has none).
func Code(e *gqlerror.Error) string {
	if e == nil {
		return ""
	}
	c, _ := e.Extensions["code"].(string)
	return c
}

// FirstCode returns the code of err's first GraphQL error that has one.
func FirstCode(err error) string {
	for _, e := range Errors(err) {
		if c := Code(e); c != "" {
			return c
		}
	}
	return ""
}

// HasCode reports whether one of err's GraphQL errors has code.
func HasCode(err error, code string) bool {
	for _, e := range Errors(err) {
		if Code(e) == code {
			return true
		}
	}
	return false
}
