package graph_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/schemadoc"
)

// TestSchemaDocumented fails naming every public type, field, argument,
// input field and enum value of the executable schema without a description.
func TestSchemaDocumented(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, name := range schemadoc.Undocumented(schema) {
		t.Errorf("%s has no description: describe it in schema/*.graphql, or for schema/ent.graphql with .Comment(...) in ent/schema or in internal/schemadoc's EntHook, then make generate", name)
	}
}

// TestSchemaDeprecations fails naming every @deprecated of the executable
// schema whose reason does not say what replaces the element and when it
// leaves ("Removal: YYYY-MM-DD"): clients plan on both (api/CHANGELOG.md).
func TestSchemaDeprecations(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, p := range schemadoc.DeprecationProblems(schema) {
		t.Error(p)
	}
}

// TestStatusDescriptionsFollowStateMachine holds each ShipmentStatus value's
// description to internal/domain's state machine: it names exactly the
// statuses that may follow, or says the status is final.
func TestStatusDescriptionsFollowStateMachine(t *testing.T) {
	def := generated.NewExecutableSchema(generated.Config{}).Schema().Types["ShipmentStatus"]
	if def == nil {
		t.Fatal("no ShipmentStatus in the schema")
	}
	if len(def.EnumValues) != len(domain.Statuses) {
		t.Errorf("ShipmentStatus has %d values, internal/domain %d statuses", len(def.EnumValues), len(domain.Statuses))
	}
	for _, s := range domain.Statuses {
		v := def.EnumValues.ForName(string(s))
		if v == nil {
			t.Errorf("ShipmentStatus lacks %s", s)
			continue
		}
		next := domain.NextStatuses(s)
		_, listed, found := strings.Cut(v.Description, "May be followed by: ")
		switch {
		case len(next) == 0:
			if found || !strings.Contains(v.Description, "Final") || !s.Final() {
				t.Errorf("%s: description %q, want it final (domain: final=%v, next %v)", s, v.Description, s.Final(), next)
			}
		case !found:
			t.Errorf("%s: description %q does not list the statuses that may follow (%v)", s, v.Description, next)
		default:
			var got []string
			for _, n := range strings.Split(strings.TrimSuffix(strings.TrimSpace(listed), "."), ",") {
				got = append(got, strings.TrimSpace(n))
			}
			want := make([]string, len(next))
			for i, n := range next {
				want[i] = string(n)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: description lists %v, the state machine %v: run make generate", s, got, want)
			}
		}
	}
}

// TestSchemaReferenceCurrent fails when docs/SCHEMA.md or
// api/schema.graphql is not what `make docs` writes from the schema as it is.
func TestSchemaReferenceCurrent(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var md bytes.Buffer
	if err := schemadoc.Markdown(&md, schema); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{"../docs/SCHEMA.md": md.Bytes(), "../api/schema.graphql": schemadoc.SDL(schema)} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: run make docs", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make docs and commit it", path)
		}
	}
}

// TestFileKindDescriptionsFollowAllowedTypes holds each FileKind value's
// description to internal/files: it names the content types the kind
// accepts, and no other.
func TestFileKindDescriptionsFollowAllowedTypes(t *testing.T) {
	names := map[string]string{
		files.TypePDF: "PDF", files.TypePNG: "PNG", files.TypeJPEG: "JPEG",
		files.TypeZPL: "ZPL", files.TypeText: "plain text", files.TypeCSV: "CSV",
	}
	def := generated.NewExecutableSchema(generated.Config{}).Schema().Types["FileKind"]
	if def == nil {
		t.Fatal("no FileKind in the schema")
	}
	for _, v := range def.EnumValues {
		allowed := files.AllowedTypes(file.Kind(v.Name))
		if len(allowed) == 0 {
			t.Errorf("FileKind.%s: internal/files allows no type", v.Name)
		}
		for typ, name := range names {
			if named, ok := strings.Contains(v.Description, name), slices.Contains(allowed, typ); named != ok {
				t.Errorf("FileKind.%s: description %q names %s: %v, internal/files allows it: %v", v.Name, v.Description, name, named, ok)
			}
		}
		for _, typ := range allowed {
			if _, ok := names[typ]; !ok {
				t.Errorf("FileKind.%s: internal/files allows %s, which this test has no name for", v.Name, typ)
			}
		}
	}
}
