package schemadoc_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/schemadoc"
)

func load(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "test.graphql", Input: sdl})
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return s
}

func TestUndocumented(t *testing.T) {
	for _, tc := range []struct {
		name string
		sdl  string
		want []string
	}{
		{"all described", `"Q" type Query { "f" f("a" a: Int): Int }`, nil},
		{"type", `type Query { "f" f: Int }`, []string{"Query"}},
		{"field", `"Q" type Query { f: Int }`, []string{"Query.f"}},
		{"blank is none", `"Q" type Query { """  """ f: Int }`, []string{"Query.f"}},
		{"argument", `"Q" type Query { "f" f(a: Int, "b" b: Int): Int }`, []string{"Query.f(a)"}},
		{"input field", `"Q" type Query { "f" f("i" i: In): Int } "I" input In { x: Int "y" y: Int }`, []string{"In.x"}},
		{"enum value", `"Q" type Query { "f" f: E } "E" enum E { "A" A B }`, []string{"E.B"}},
		{"scalar", `"Q" type Query { "f" f: S } scalar S`, []string{"S"}},
		{"extension fields", `"Q" type Query { "f" f: Int } extend type Query { g: Int }`, []string{"Query.g"}},
		{"sorted", `type Query { b: Int a: Int }`, []string{"Query", "Query.a", "Query.b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := schemadoc.Undocumented(load(t, tc.sdl))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Undocumented = %q, want %q", got, tc.want)
			}
		})
	}
}

// entSDL is a miniature of what entgql writes, before EntHook.
const entSDL = `
"Q" type Query { "Fetches." node("ID." id: ID!): Node }
"N" interface Node { "The id." id: ID! }
type Shipment implements Node { id: ID! "S" status: ShipmentStatus! }
enum ShipmentStatus { DRAFT LABEL_CREATED IN_TRANSIT OUT_FOR_DELIVERY AVAILABLE_FOR_PICKUP DELIVERED EXCEPTION RETURNED CANCELLED }
enum FileKind { LABEL OTHER }
"O" enum ShipmentOrderField { CREATED_AT }
"W" input ShipmentWhereInput {
  not: ShipmentWhereInput
  and: [ShipmentWhereInput!]
  or: [ShipmentWhereInput!]
  """
  postal_code field predicates
  """
  postalCode: String
  postalCodeNEQ: String
  postalCodeIn: [String!]
  postalCodeNotIn: [String!]
  postalCodeIsNil: Boolean
  postalCodeContainsFold: String
  %s
}
`

func TestEntHook(t *testing.T) {
	for _, tc := range []struct {
		name    string
		extra   string
		wantErr string
	}{
		{name: "known predicates"},
		{name: "unknown predicate", extra: "postalCodeSoundsLike: String", wantErr: "ShipmentWhereInput.postalCodeSoundsLike"},
		{name: "suffix of no field", extra: "cityNEQ: String", wantErr: "ShipmentWhereInput.cityNEQ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, strings.Replace(entSDL, "%s", tc.extra, 1))
			err := schemadoc.EntHook(nil, s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("EntHook error = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if left := schemadoc.Undocumented(s); len(left) > 0 {
				t.Errorf("left undocumented: %q", left)
			}
			where := s.Types["ShipmentWhereInput"]
			for field, want := range map[string]string{
				"postalCode":      "Matches when postalCode is equal to the value.",
				"postalCodeNotIn": "Matches when postalCode is none of the values",
				"postalCodeIn":    "Matches when postalCode is one of the values",
				"postalCodeIsNil": "Matches when postalCode is null (true)",
			} {
				if d := where.Fields.ForName(field).Description; !strings.HasPrefix(d, want) {
					t.Errorf("%s: %q, want it to start with %q", field, d, want)
				}
			}
		})
	}
}

func TestEntHookRefusesUnknownValues(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"status", "CANCELLED }", "CANCELLED LOST }", "LOST"},
		{"file kind", "LABEL OTHER", "LABEL OTHER SELFIE", "SELFIE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, strings.Replace(strings.Replace(entSDL, "%s", "", 1), tc.from, tc.to, 1))
			if err := schemadoc.EntHook(nil, s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EntHook error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestStatusDoc(t *testing.T) {
	for _, s := range domain.Statuses {
		d, err := schemadoc.StatusDoc(s)
		if err != nil {
			t.Fatal(err)
		}
		next := domain.NextStatuses(s)
		if s.Final() != (len(next) == 0) || s.Final() != strings.Contains(d, "Final") {
			t.Errorf("%s: %q (final %v, next %v)", s, d, s.Final(), next)
		}
		for _, n := range next {
			if !strings.Contains(d, string(n)) {
				t.Errorf("%s: %q does not name %s", s, d, n)
			}
		}
	}
	if _, err := schemadoc.StatusDoc("LOST"); err == nil {
		t.Error("StatusDoc(LOST): no error")
	}
}

func TestMarkdown(t *testing.T) {
	s := load(t, `
"Reads."
type Query {
  "One thing | or none; <b>not bold</b>; keep `+"`<T>`"+` as is."
  thing("Its ID." id: ID!, "How many." n: Int = 5): Thing
}
"A thing."
type Thing {
  "Old." old: String @deprecated(reason: "Use name.")
  "Its name | label." name: String!
}
"Kinds." enum Kind { "First." A "Second." B @deprecated }
`)
	var a, b bytes.Buffer
	if err := schemadoc.Markdown(&a, s); err != nil {
		t.Fatal(err)
	}
	if err := schemadoc.Markdown(&b, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two renderings of one schema differ")
	}
	out := a.String()
	for _, want := range []string{
		"## Query",
		"thing(id: ID!, n: Int = 5): Thing",
		"One thing | or none; &lt;b&gt;not bold&lt;/b&gt;; keep `<T>` as is.",
		"| `name` | `String!` | Its name \\| label. |",
		"| `n` | `Int` = `5` | How many. |",
		"Returns [`Thing`](#Thing).",
		`<a id="Thing"></a>`,
		"| `old` | `String` | Old.<br>**Deprecated:** Use name. |",
		"| `B` | Second.<br>**Deprecated:** No longer supported. |",
		"- Objects: [Thing](#Thing)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reference lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "__Schema") || strings.Contains(out, "### String") {
		t.Error("reference documents built-in types")
	}
}

// TestSDL: the public SDL drops gqlgen's code-generation directives, their
// declarations and their uses on types, fields, input fields and enum values,
// keeps every other directive (deprecations), parses, and leaves the schema it
// was printed from as it was.
func TestSDL(t *testing.T) {
	s := load(t, `
directive @goField(forceResolver: Boolean, name: String, omittable: Boolean) on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @goModel(model: String, models: [String!]) on OBJECT | INPUT_OBJECT | SCALAR | ENUM | INTERFACE | UNION
"A kind."
enum Kind @goModel(model: "example.com/x/kind.Kind") {
  "a" A
  "b" B @deprecated(reason: "Use A. Removal: 2027-06-01.")
}
"A thing."
type Thing @goModel(model: "example.com/x.Thing") {
  "Its kind."
  kind: Kind! @goField(forceResolver: true)
  "Its name."
  name: String @deprecated(reason: "Use kind.")
}
"An input."
input ThingInput { "Its name." name: String @goField(omittable: true) }
type Query { "One." thing(in: ThingInput): Thing }
`)
	before := string(schemadoc.SDL(s))
	for _, bad := range []string{"@go", "goField", "goModel", "example.com"} {
		if strings.Contains(before, bad) {
			t.Errorf("SDL contains %q:\n%s", bad, before)
		}
	}
	for _, want := range []string{`@deprecated(reason: "Use A. Removal: 2027-06-01.")`, `@deprecated(reason: "Use kind.")`, "type Thing {", "enum Kind {", "input ThingInput {", "Its kind.", "kind: Kind!\n"} {
		if !strings.Contains(before, want) {
			t.Errorf("SDL lacks %q:\n%s", want, before)
		}
	}
	if _, err := gqlparser.LoadSchema(&ast.Source{Name: "sdl.graphql", Input: before}); err != nil {
		t.Errorf("the SDL does not parse: %v\n%s", err, before)
	}
	if s.Types["Thing"].Directives.ForName("goModel") == nil || s.Types["Thing"].Fields.ForName("kind").Directives.ForName("goField") == nil ||
		s.Directives["goField"] == nil || s.Types["Kind"].Directives.ForName("goModel") == nil {
		t.Error("SDL changed the schema it printed")
	}
	if again := string(schemadoc.SDL(s)); again != before {
		t.Error("SDL is not deterministic")
	}
}
