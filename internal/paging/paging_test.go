package paging_test

import (
	"testing"

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
