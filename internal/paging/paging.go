// Package paging applies the API's page-size rules to Relay connection
// arguments before they reach Ent: first defaults to 20, neither first nor last
// may be negative or exceed 100.
package paging

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

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

// Cursors checks that the after and before cursors fit the order of the
// connection, so a cursor from another ordering or a forged one is
// BAD_USER_INPUT and never reaches SQL. fields are the order field names in
// order (e.g. "CREATED_AT"); by this schema's convention a field ending in
// "_AT" holds a time and every other order field a string.
func Cursors(after, before *entgql.Cursor[int], fields []string) error {
	for _, c := range []struct {
		name string
		c    *entgql.Cursor[int]
	}{{"after", after}, {"before", before}} {
		if c.c == nil {
			continue
		}
		if err := checkCursor(c.c, fields); err != nil {
			return apperr.Invalid(c.name, "%s is not a cursor of this connection and ordering: %s", c.name, err)
		}
	}
	return nil
}

func checkCursor(c *entgql.Cursor[int], fields []string) error {
	if c.ID <= 0 {
		return errors.New("no position")
	}
	if c.Value == nil {
		return nil // an ID-only cursor: entgql orders by ID alone
	}
	values, ok := c.Value.([]any)
	if !ok || len(values) != len(fields) {
		return errors.New("wrong number of ordering values")
	}
	for i, v := range values {
		switch v.(type) {
		case nil:
			// A NULL ordering value (a nullable Dolibarr column).
		case time.Time:
			if !strings.HasSuffix(fields[i], "_AT") {
				return fmt.Errorf("value %d is a time, %s is not", i, fields[i])
			}
		case string:
			if strings.HasSuffix(fields[i], "_AT") {
				return fmt.Errorf("value %d is a string, %s is a time", i, fields[i])
			}
		default:
			return fmt.Errorf("value %d has an unexpected type", i)
		}
	}
	return nil
}
