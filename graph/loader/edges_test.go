package loader

import (
	"slices"
	"strings"
	"testing"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
)

// TestOrderColumns holds every order field of the batched connections to the
// convention orderColumns relies on: the column is the field's name in lower
// case. A new order field that breaks it fails here, not in production.
func TestOrderColumns(t *testing.T) {
	for _, f := range []*ent.ShipmentOrderField{ent.ShipmentOrderFieldReference, ent.ShipmentOrderFieldStatus,
		ent.ShipmentOrderFieldCarrier, ent.ShipmentOrderFieldCreatedAt, ent.ShipmentOrderFieldUpdatedAt} {
		var parsed ent.ShipmentOrderField
		if err := parsed.UnmarshalGQL(f.String()); err != nil {
			t.Fatal(err)
		}
		if _, err := orderColumns(f.String()+":ASC", shipment.Columns); err != nil {
			t.Errorf("shipment order field %s: %v", f, err)
		}
	}
	for _, f := range []*ent.TrackingEventOrderField{ent.TrackingEventOrderFieldOccurredAt, ent.TrackingEventOrderFieldCreatedAt} {
		if _, err := orderColumns(f.String()+":DESC", trackingevent.Columns); err != nil {
			t.Errorf("event order field %s: %v", f, err)
		}
	}
	if _, err := orderColumns("NOPE:ASC", shipment.Columns); err == nil {
		t.Error("unknown order field accepted")
	}
}

func TestOrderKeyAndTerms(t *testing.T) {
	key := OrderKey([]*ent.ShipmentOrder{
		{Field: ent.ShipmentOrderFieldCarrier, Direction: entgql.OrderDirectionAsc},
		nil,
		{Field: ent.ShipmentOrderFieldCreatedAt, Direction: entgql.OrderDirectionDesc},
	}, func(o *ent.ShipmentOrder) (string, entgql.OrderDirection) { return o.Field.String(), o.Direction })
	if key != "CARRIER:ASC,CREATED_AT:DESC" {
		t.Fatalf("key %q", key)
	}
	terms, err := orderColumns(key, shipment.Columns)
	if err != nil || len(terms) != 3 {
		t.Fatalf("terms: %v %v", terms, err)
	}
	var parts []string
	for _, term := range terms {
		b := sql.Dialect("mysql").Select()
		q, _ := b.OrderExpr(term).Query()
		parts = append(parts, q[strings.Index(q, "ORDER BY"):])
	}
	if got := strings.Join(parts, "|"); got != "ORDER BY `carrier`|ORDER BY `created_at` DESC|ORDER BY `id`" {
		t.Errorf("terms: %s", got)
	}
}

func TestSelectColumns(t *testing.T) {
	for _, tc := range []struct {
		columns, order string
		want           []string
	}{
		{"", "OCCURRED_AT:DESC", nil},
		{"id,status", "OCCURRED_AT:DESC", []string{"id", "status", "occurred_at"}},
		{"id,occurred_at", "OCCURRED_AT:DESC,SEQ:ASC", []string{"id", "occurred_at", "seq"}},
		{"id", "", []string{"id"}},
	} {
		if got := selectColumns(tc.columns, tc.order); !slices.Equal(got, tc.want) {
			t.Errorf("selectColumns(%q, %q) = %v, want %v", tc.columns, tc.order, got, tc.want)
		}
	}
}
