package schemadoc

import (
	"bytes"
	"maps"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// codegenDirectives are gqlgen's own directives (schema/ent.graphql declares
// the two entgql uses): instructions to the Go code generator that name Go
// types and packages. They are not part of the API: a client's tools do not
// know them, and @goModel would print this server's Go package paths.
var codegenDirectives = []string{"goModel", "goField", "goTag", "goExtraField", "goEnum"}

// SDL returns the public schema language of s: every type with its
// descriptions and deprecations, without gqlgen's code-generation directives
// (their declarations and their uses). It is what /schema.graphql serves and
// what api/schema.graphql holds, the file clients generate their types from
// and `make schema-check` compares with the released schema. s is not
// changed: the definitions that carry a codegen directive are copied.
func SDL(s *ast.Schema) []byte {
	pub := *s
	pub.Directives = maps.Clone(s.Directives)
	for _, name := range codegenDirectives {
		delete(pub.Directives, name)
	}
	pub.Types = make(map[string]*ast.Definition, len(s.Types))
	for name, def := range s.Types {
		pub.Types[name] = publicDefinition(def)
	}
	for _, root := range []**ast.Definition{&pub.Query, &pub.Mutation, &pub.Subscription} {
		if *root != nil {
			*root = pub.Types[(*root).Name]
		}
	}
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithComments()).FormatSchema(&pub)
	return buf.Bytes()
}

// publicDefinition is def without codegen directives: def itself when it
// carries none, else a copy.
func publicDefinition(def *ast.Definition) *ast.Definition {
	changed := false
	directives := strip(def.Directives, &changed)
	fields := make(ast.FieldList, len(def.Fields))
	for i, f := range def.Fields {
		fields[i] = f
		if ds := strip(f.Directives, &changed); len(ds) != len(f.Directives) {
			c := *f
			c.Directives = ds
			fields[i] = &c
		}
	}
	values := make(ast.EnumValueList, len(def.EnumValues))
	for i, v := range def.EnumValues {
		values[i] = v
		if ds := strip(v.Directives, &changed); len(ds) != len(v.Directives) {
			c := *v
			c.Directives = ds
			values[i] = &c
		}
	}
	if !changed {
		return def
	}
	c := *def
	c.Directives, c.Fields, c.EnumValues = directives, fields, values
	return &c
}

// strip is ds without codegen directives (ds itself when there are none);
// it sets *changed when it drops one.
func strip(ds ast.DirectiveList, changed *bool) ast.DirectiveList {
	if !slices.ContainsFunc(ds, isCodegen) {
		return ds
	}
	*changed = true
	return slices.DeleteFunc(slices.Clone(ds), isCodegen)
}

func isCodegen(d *ast.Directive) bool { return slices.Contains(codegenDirectives, d.Name) }
