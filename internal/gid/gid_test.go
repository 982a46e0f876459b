package gid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/gid"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    gid.ID
		wantErr bool
	}{
		{gid.New(gid.TypeShipment, 1).String(), gid.ID{Type: "Shipment", Local: 1}, false},
		{gid.New(gid.TypeCustomer, 4294967296).String(), gid.ID{Type: "Customer", Local: 4294967296}, false},
		{"U2hpcG1lbnQ6MQ", gid.ID{Type: "Shipment", Local: 1}, false},
		{"U2hpcG1lbnQ6MQ==", gid.ID{Type: "Shipment", Local: 1}, false}, // padding tolerated
		{"", gid.ID{}, true},
		{"!!!", gid.ID{}, true},
		{"U2hpcG1lbnQ", gid.ID{}, true},                              // "Shipment" without a colon
		{"U2hpcG1lbnQ6", gid.ID{}, true},                             // "Shipment:"
		{"U2hpcG1lbnQ6MA", gid.ID{}, true},                           // "Shipment:0"
		{"U2hpcG1lbnQ6LTE", gid.ID{}, true},                          // "Shipment:-1"
		{"U2hpcG1lbnQ6MDE", gid.ID{}, true},                          // "Shipment:01", not canonical
		{"U2hpcG1lbnQ6KzE", gid.ID{}, true},                          // "Shipment:+1"
		{"V2lkZ2V0OjE", gid.ID{}, true},                              // "Widget:1"
		{"c2hpcG1lbnQ6MQ", gid.ID{}, true},                           // "shipment:1", types are case-sensitive
		{"U2hpcG1lbnQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5", gid.ID{}, true}, // overflows int64
		{strings.Repeat("A", 65), gid.ID{}, true},
	}
	for _, c := range cases {
		got, err := gid.Parse(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, error %v", c.in, got, err, c.want, c.wantErr)
		}
		if err != nil && !errors.Is(err, gid.ErrInvalid) {
			t.Errorf("Parse(%q): error %v is not ErrInvalid", c.in, err)
		}
	}
}

func TestAs(t *testing.T) {
	id := gid.New(gid.TypeCustomer, 7)
	if n, err := id.As(gid.TypeCustomer); err != nil || n != 7 {
		t.Errorf("As(Customer) = %d, %v", n, err)
	}
	if _, err := id.As(gid.TypeShipment); !errors.Is(err, gid.ErrInvalid) {
		t.Errorf("As(Shipment) = %v, want ErrInvalid", err)
	}
	if _, err := gid.ParseAs(gid.TypeShipment, id.String()); err == nil {
		t.Error("ParseAs accepted a Customer ID as a Shipment ID")
	}
}

func TestGQL(t *testing.T) {
	var id gid.ID
	if err := id.UnmarshalGQL(42); err == nil {
		t.Error("an int was accepted as an ID")
	}
	if err := id.UnmarshalGQL(gid.New(gid.TypeTrackingEvent, 3).String()); err != nil || id.Type != gid.TypeTrackingEvent || id.Local != 3 {
		t.Errorf("UnmarshalGQL: %+v, %v", id, err)
	}
	var b strings.Builder
	id.MarshalGQL(&b)
	if b.String() != `"`+id.String()+`"` {
		t.Errorf("MarshalGQL = %s", b.String())
	}
}

// FuzzParse: Parse never panics, and whatever it accepts re-encodes to an ID
// that parses to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"U2hpcG1lbnQ6MQ", "", "!!!", "Q3VzdG9tZXI6OTk5", "VHJhY2tpbmdFdmVudDox"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := gid.Parse(s)
		if err != nil {
			if !errors.Is(err, gid.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if id.Local <= 0 || id.IsZero() {
			t.Fatalf("accepted %q as %+v", s, id)
		}
		again, err := gid.Parse(id.String())
		if err != nil || again != id {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
	})
}
