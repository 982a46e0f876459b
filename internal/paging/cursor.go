package paging

import (
	"errors"
	"fmt"
	"io"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
)

// ErrBadCursor is the error of a cursor that does not decode.
var ErrBadCursor = errors.New("not a cursor of this API")

// MarshalCursor is the GraphQL marshaler of the Cursor scalar (gqlgen.yml
// binds the scalar to this pair of functions instead of entgql's methods).
func MarshalCursor(c entgql.Cursor[int]) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { c.MarshalGQL(w) })
}

// UnmarshalCursor decodes a cursor. entgql's decoder (msgpack) panics on some
// hostile inputs (found by FuzzCursor): such a cursor is an invalid argument,
// not an internal error.
func UnmarshalCursor(v any) (c entgql.Cursor[int], err error) {
	defer func() {
		if p := recover(); p != nil {
			c, err = entgql.Cursor[int]{}, fmt.Errorf("%w", ErrBadCursor)
		}
	}()
	if err := c.UnmarshalGQL(v); err != nil {
		return entgql.Cursor[int]{}, fmt.Errorf("%w: %v", ErrBadCursor, err)
	}
	return c, nil
}
