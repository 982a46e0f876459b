package graph

import (
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/graph/generated"
)

// TestColumnMaps holds the column maps to the schema: every field of the
// type is listed (a new field must say which columns it reads) and every
// column listed exists.
func TestColumnMaps(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, tc := range []struct {
		typ     string
		byField map[string][]string
		always  []string
		columns []string
	}{
		{"Shipment", shipmentFieldColumns, shipmentColumnsAlways, shipment.Columns},
		{"TrackingEvent", eventFieldColumns, eventColumnsAlways, trackingevent.Columns},
	} {
		def := schema.Types[tc.typ]
		if def == nil {
			t.Fatalf("no type %s in the schema", tc.typ)
		}
		for _, f := range def.Fields {
			if _, ok := tc.byField[f.Name]; !ok {
				t.Errorf("%s.%s: not in the column map (say which columns it reads)", tc.typ, f.Name)
			}
		}
		for name, cols := range tc.byField {
			if name != "__typename" && def.Fields.ForName(name) == nil {
				t.Errorf("%s.%s: in the column map, not in the schema", tc.typ, name)
			}
			for _, c := range cols {
				if !slices.Contains(tc.columns, c) {
					t.Errorf("%s.%s: no column %s", tc.typ, name, c)
				}
			}
		}
		for _, c := range tc.always {
			if !slices.Contains(tc.columns, c) {
				t.Errorf("%s: no column %s", tc.typ, c)
			}
		}
	}
}

func TestColumnsFor(t *testing.T) {
	fields := func(names ...string) []graphql.CollectedField {
		out := make([]graphql.CollectedField, len(names))
		for i, n := range names {
			out[i] = graphql.CollectedField{Field: &ast.Field{Name: n}}
		}
		return out
	}
	allFields := make([]string, 0, len(shipmentFieldColumns))
	for name := range shipmentFieldColumns {
		allFields = append(allFields, name)
	}
	for _, tc := range []struct {
		name   string
		fields []graphql.CollectedField
		want   []string
	}{
		{"only the id", fields("id"), []string{"id", "customer_id"}},
		{"the nested list", fields("id", "reference", "status", "createdAt", "customer", "events", "files"),
			[]string{"id", "reference", "customer_id", "status", "created_at"}},
		{"a field read twice", fields("status", "nextStatuses", "status"), []string{"id", "customer_id", "status"}},
		{"a field not in the map: every column", fields("reference", "somethingNew"), nil},
		{"every field: every column", fields(allFields...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shipmentColumns(tc.fields); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
