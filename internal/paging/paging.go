// Package paging applies the API's page-size rules to Relay connection
// arguments before they reach Ent: first defaults to 20, neither first nor last
// may be negative or exceed 100.
package paging

import "github.com/shipmentapp/shipmentapp/internal/apperr"

// Page size limits.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// Limit validates first and last and returns them with the default applied.
func Limit(first, last *int) (*int, *int, error) {
	for _, a := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if a.v == nil {
			continue
		}
		if *a.v < 0 {
			return nil, nil, apperr.Invalid(a.name, "%s must not be negative, got %d", a.name, *a.v)
		}
		if *a.v > MaxSize {
			return nil, nil, apperr.Invalid(a.name, "%s must not exceed %d, got %d", a.name, MaxSize, *a.v)
		}
	}
	if first != nil && last != nil {
		return nil, nil, apperr.Invalid("last", "pass first or last, not both")
	}
	if first == nil && last == nil {
		n := DefaultSize
		first = &n
	}
	return first, last, nil
}
