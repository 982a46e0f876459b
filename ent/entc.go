//go:build ignore

// entc.go generates the Ent client and, through entgql, schema/ent.graphql.
// It runs from the module root (see generate.go): entgql resolves its paths
// from there.
package main

import (
	"bytes"
	"fmt"
	"log"
	"slices"
	"text/template/parse"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"github.com/shipmentapp/shipmentapp/internal/schemadoc"
)

func main() {
	where, err := whereInputTemplate()
	if err != nil {
		log.Fatalf("where-input template: %v", err)
	}
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("schema/ent.graphql"),
		// WithWhereInputs turns on the where inputs of the GraphQL schema;
		// WithTemplates, after it, replaces the template list it appended
		// entgql's where-input template to, so ours is the only one.
		entgql.WithWhereInputs(true),
		entgql.WithTemplates(append(slices.Clone(entgql.AllTemplates), where)...),
		entgql.WithRelaySpec(true),
		// Descriptions entgql cannot take from ent/schema: types, enum
		// values (ShipmentStatus's from internal/domain's state machine)
		// and where-input predicates (docs/DECISIONS.md, "A schema that
		// documents itself").
		entgql.WithSchemaHook(schemadoc.EntHook),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/shipmentapp/shipmentapp/ent",
		Features: []gen.Feature{
			gen.FeatureVersionedMigration,
			gen.FeatureIntercept,
			gen.FeatureUpsert,
			gen.FeatureModifier,
			gen.FeaturePrivacy,
		},
		Templates: []*gen.Template{
			gen.MustParse(gen.NewTemplate("globalid").Funcs(entgql.TemplateFuncs).ParseFiles("ent/template/globalid.tmpl")),
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// whereInputTemplate returns entgql's where-input template (gql_where_input)
// with one change: a list filter (…In, …NotIn) applies when the list is
// present, empty or not (`if i.StatusIn != nil`), where entgql skips an empty
// list (`if len(i.StatusIn) > 0`) and so makes `statusIn: []` match every row.
// Ent's SQL builder turns an empty IN into FALSE and an empty NOT IN into
// NOT (FALSE), as SQL means them. The change is made on a copy of entgql's
// parse tree, so everything else stays entgql's own on an upgrade; it fails
// unless it finds the guard exactly once, so an upgrade that reshapes the
// template stops generation instead of bringing the guard back silently
// (docs/DECISIONS.md, "Empty list filters").
func whereInputTemplate() (*gen.Template, error) {
	const name = "gql_where_input"
	src := entgql.WhereTemplate.Lookup(name)
	if src == nil || src.Tree == nil {
		return nil, fmt.Errorf("entgql has no %s template", name)
	}
	tree := src.Tree.Copy()
	if n := patchListGuard(tree.Root); n != 1 {
		return nil, fmt.Errorf("entgql's %s template: found the empty-list guard of variadic filters %d times, want once: update whereInputTemplate to the new template", name, n)
	}
	return gen.NewTemplate("where_input_present_lists").Funcs(entgql.TemplateFuncs).AddParseTree(name, tree)
}

// patchListGuard rewrites, under n, the body of `{{ if $op.Variadic }}` from
// `if len(i.{{ $field }}) > 0 {` to `if i.{{ $field }} != nil {`, and
// returns how many it rewrote.
func patchListGuard(n parse.Node) int {
	count := 0
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0
		}
		for _, c := range n.Nodes {
			count += patchListGuard(c)
		}
	case *parse.IfNode:
		if n.Pipe.String() == "$op.Variadic" && n.List != nil {
			nodes := n.List.Nodes
			for i := 0; i+2 < len(nodes); i++ {
				before, ok1 := nodes[i].(*parse.TextNode)
				field, ok2 := nodes[i+1].(*parse.ActionNode)
				after, ok3 := nodes[i+2].(*parse.TextNode)
				if !ok1 || !ok2 || !ok3 || field.String() != "{{$field}}" ||
					!bytes.HasSuffix(before.Text, []byte("if len(i.")) || !bytes.HasPrefix(after.Text, []byte(") > 0 {")) {
					continue
				}
				before.Text = append(bytes.TrimSuffix(before.Text, []byte("len(i.")), "i."...)
				after.Text = append([]byte(" != nil {"), bytes.TrimPrefix(after.Text, []byte(") > 0 {"))...)
				count++
			}
		}
		count += patchListGuard(n.List) + patchListGuard(n.ElseList)
	case *parse.RangeNode:
		count += patchListGuard(n.List) + patchListGuard(n.ElseList)
	case *parse.WithNode:
		count += patchListGuard(n.List) + patchListGuard(n.ElseList)
	}
	return count
}
