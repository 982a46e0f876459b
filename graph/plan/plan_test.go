package plan

import (
	"slices"
	"sort"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/graph/generated"
)

// uncovered are the fields of the plan's types that it leaves to gqlgen's
// executor, on purpose: a document selecting one is "unplanned".
var uncovered = map[string][]string{
	"Query":         nil, // only shipments and shipment are planned
	"Customer":      {"active", "contacts", "shipments", "shippingMethod"},
	"File":          {"url"},
	"TrackingEvent": {"shipment"},
}

// TestEveryFieldHasAWriter fails when a field is added to a type the plan
// covers without a writer in compile.go's table (or a line here saying it is
// left to gqlgen's executor), and when the table names a field the schema
// does not have.
func TestEveryFieldHasAWriter(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for name, typ := range types {
		def := schema.Types[name]
		if def == nil {
			t.Errorf("type %s of the plan is not in the schema", name)
			continue
		}
		if !slices.Equal(typ.satisfies, satisfies(schema, def)) {
			t.Errorf("%s: satisfies %v, the schema says %v", name, typ.satisfies, satisfies(schema, def))
		}
		for field := range typ.fields {
			if def.Fields.ForName(field) == nil {
				t.Errorf("%s.%s: in the plan, not in the schema", name, field)
			}
		}
		if name == "Query" {
			continue
		}
		for _, f := range def.Fields {
			if _, ok := typ.fields[f.Name]; ok || slices.Contains(uncovered[name], f.Name) || f.Name == "__typename" {
				continue
			}
			t.Errorf("%s.%s has no writer in graph/plan (add one, or list it in uncovered)", name, f.Name)
		}
	}
}

// satisfies is what gqlgen's generated code collects a selection on an
// object of def for: its name, then its interfaces.
func satisfies(schema *ast.Schema, def *ast.Definition) []string {
	out := []string{def.Name}
	var ifaces []string
	for _, i := range schema.GetImplements(def) {
		ifaces = append(ifaces, i.Name)
	}
	sort.Strings(ifaces)
	return append(out, ifaces...)
}

func TestConditionVariables(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	doc, errs := gqlparser.LoadQueryWithRules(schema, `query($a: Boolean!, $b: Boolean!, $c: Boolean!) {
		shipments { edges { node { id @skip(if: $a) ...F ... @include(if: $c) { status } reference @include(if: true) } } }
		x: shipments @include(if: $a) { totalCount }
	}
	fragment F on Shipment { carrier @include(if: $b) ...G ...G }
	fragment G on Shipment { version @skip(if: $b) }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	got := conditionVariables(doc, doc.Operations[0])
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("conditionVariables = %v, want %v (each once, in document order; literals are not variables)", got, want)
	}
	for _, c := range []struct {
		vars map[string]any
		want string
	}{
		{map[string]any{"a": true, "b": false, "c": true}, "tft"},
		{map[string]any{"a": false, "b": false}, "ffn"},
		{map[string]any{"a": "yes", "b": true, "c": false}, "?tf"},
	} {
		if got := conditionKey([]string{"a", "b", "c"}, c.vars); got != c.want {
			t.Errorf("conditionKey(%v) = %q, want %q", c.vars, got, c.want)
		}
	}
	if got := conditionKey(nil, map[string]any{"a": true}); got != "" {
		t.Errorf("conditionKey without conditions = %q, want empty", got)
	}
}
