package paging_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/paging"
)

func ptr(n int) *int { return &n }

func TestLimit(t *testing.T) {
	cases := []struct {
		name        string
		first, last *int
		wantFirst   *int
		wantLast    *int
		wantErr     bool
	}{
		{"default", nil, nil, ptr(20), nil, false},
		{"first", ptr(5), nil, ptr(5), nil, false},
		{"zero", ptr(0), nil, ptr(0), nil, false},
		{"max", ptr(100), nil, ptr(100), nil, false},
		{"last", nil, ptr(7), nil, ptr(7), false},
		{"over max", ptr(101), nil, nil, nil, true},
		{"negative", ptr(-1), nil, nil, nil, true},
		{"negative last", nil, ptr(-5), nil, nil, true},
		{"both", ptr(1), ptr(1), nil, nil, true},
	}
	eq := func(a, b *int) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	for _, c := range cases {
		f, l, err := paging.Limit(c.first, c.last)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err %v", c.name, err)
			continue
		}
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Errorf("%s: code %s", c.name, apperr.CodeOf(err))
			}
			continue
		}
		if !eq(f, c.wantFirst) || !eq(l, c.wantLast) {
			t.Errorf("%s: got %v %v", c.name, f, l)
		}
	}
}

func TestCursors(t *testing.T) {
	now := time.Now()
	cur := func(id int, v any) *entgql.Cursor[int] { return &entgql.Cursor[int]{ID: id, Value: v} }
	fields := []string{"CREATED_AT", "REFERENCE"}
	cases := []struct {
		name string
		c    *entgql.Cursor[int]
		ok   bool
	}{
		{"nil", nil, true},
		{"matching", cur(3, []any{now, "SHP-1"}), true},
		{"id only", cur(3, nil), true},
		{"null value", cur(3, []any{now, nil}), true},
		{"no id", cur(0, []any{now, "x"}), false},
		{"not a slice", cur(3, int8(1)), false},
		{"too short", cur(3, []any{now}), false},
		{"string for a time", cur(3, []any{"2024", "x"}), false},
		{"time for a string", cur(3, []any{now, now}), false},
		{"map", cur(3, []any{now, map[string]any{}}), false},
	}
	for _, c := range cases {
		for _, pos := range []string{"after", "before"} {
			var err error
			if pos == "after" {
				err = paging.Cursors(c.c, nil, fields)
			} else {
				err = paging.Cursors(nil, c.c, fields)
			}
			if (err == nil) != c.ok {
				t.Errorf("%s as %s: %v", c.name, pos, err)
			}
			if err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
				t.Errorf("%s: code %s", c.name, apperr.CodeOf(err))
			}
		}
	}
}

func TestUnmarshalCursor(t *testing.T) {
	var b strings.Builder
	paging.MarshalCursor(entgql.Cursor[int]{ID: 7, Value: []any{"x"}}).MarshalGQL(&b)
	c, err := paging.UnmarshalCursor(strings.Trim(b.String(), `"`))
	if err != nil || c.ID != 7 {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	// "gqF27aF270000000000" made entgql's msgpack decoder panic (FuzzCursor).
	for _, bad := range []any{"gqF27aF270000000000", "%%%", "aGVsbG8", 42} {
		if _, err := paging.UnmarshalCursor(bad); !errors.Is(err, paging.ErrBadCursor) {
			t.Errorf("UnmarshalCursor(%v) = %v, want ErrBadCursor", bad, err)
		}
	}
}

// FuzzUnmarshalCursor: any string sent as a cursor — in after or before, or
// in a filter — decodes to a cursor or ErrBadCursor, never a panic; a
// decoded cursor passes Cursors or is BAD_USER_INPUT for every ordering; and
// a cursor the API wrote decodes back to itself.
func FuzzUnmarshalCursor(f *testing.F) {
	enc := func(c entgql.Cursor[int]) string {
		var b strings.Builder
		paging.MarshalCursor(c).MarshalGQL(&b)
		return strings.Trim(b.String(), `"`)
	}
	now := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	f.Add(enc(entgql.Cursor[int]{ID: 7}), "seed", int64(3))
	f.Add(enc(entgql.Cursor[int]{ID: 7, Value: []any{now, "SHP-1"}}), "SHP-'; DROP TABLE shipments; --", int64(1))
	f.Add(enc(entgql.Cursor[int]{ID: -1, Value: []any{nil}}), "", int64(-1))
	f.Add("gqF27aF270000000000", "\x00", int64(0))
	f.Add("%%%", "%_\\", int64(1<<40))
	f.Add("kqFpAaF2wA", "", int64(9))
	f.Fuzz(func(t *testing.T, s, value string, id int64) {
		c, err := paging.UnmarshalCursor(s)
		if err != nil {
			if !errors.Is(err, paging.ErrBadCursor) {
				t.Fatalf("%q: %v is not ErrBadCursor", s, err)
			}
		} else {
			for _, fields := range [][]string{nil, {"CREATED_AT"}, {"REFERENCE"}, {"CREATED_AT", "REFERENCE"}} {
				if err := paging.Cursors(&c, &c, fields); err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
					t.Fatalf("%q with %v: %v", s, fields, err)
				}
			}
		}
		if id <= 0 || int64(int(id)) != id {
			return
		}
		want := entgql.Cursor[int]{ID: int(id), Value: []any{now, value}}
		got, err := paging.UnmarshalCursor(enc(want))
		if err != nil || got.ID != want.ID {
			t.Fatalf("round trip of %+v: %+v %v", want, got, err)
		}
		if err := paging.Cursors(&got, nil, []string{"CREATED_AT", "REFERENCE"}); err != nil {
			t.Fatalf("the API's own cursor %+v refused: %v", got, err)
		}
	})
}
