// Package gqllimit bounds the shape of GraphQL operations before they run:
// depth, aliases and root fields (gqlgen has no such limits of its own), the
// size of their argument values, and the cost of connections for gqlgen's
// complexity limit. Each rejection has its own error code.
package gqllimit

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes of the limits.
const (
	CodeTooDeep           = "QUERY_TOO_DEEP"
	CodeTooManyAliases    = "TOO_MANY_ALIASES"
	CodeTooManyRootFields = "TOO_MANY_ROOT_FIELDS"
	// CodeComplexity is gqlgen's code for GRAPHQL_MAX_COMPLEXITY, which
	// MaxFields enforces early.
	CodeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"
)

// Limits is a gqlgen handler extension; a zero limit is no limit.
type Limits struct {
	MaxDepth      int
	MaxAliases    int
	MaxRootFields int
	// MaxFields bounds Shape.Fields. Set it to GRAPHQL_MAX_COMPLEXITY: gqlgen's
	// complexity counts at least one per field it visits, so an operation
	// with more is over that limit anyway, and is refused here before
	// gqlgen's complexity walk, which expands every fragment spread (2^n
	// visits for a fragment bomb of n fragments: hours for n = 40).
	MaxFields int
	// Inputs bound the operation's argument values (BAD_USER_INPUT).
	Inputs InputLimits
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Limits{}

// ExtensionName implements graphql.HandlerExtension.
func (Limits) ExtensionName() string { return "ShapeLimits" }

// Validate implements graphql.HandlerExtension.
func (Limits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the operation (fragments expanded; the
// document is already validated, so fragment spreads have no cycles) and
// refuses it when it is over a limit.
func (l Limits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	s := Measure(oc.Operation.SelectionSet)
	switch {
	case l.MaxDepth > 0 && s.Depth > l.MaxDepth:
		return limitError(CodeTooDeep, "the operation is %d levels deep; the limit is %d", s.Depth, l.MaxDepth)
	case l.MaxAliases > 0 && s.Aliases > l.MaxAliases:
		return limitError(CodeTooManyAliases, "the operation uses %d aliases; the limit is %d", s.Aliases, l.MaxAliases)
	case l.MaxRootFields > 0 && s.RootFields > l.MaxRootFields:
		return limitError(CodeTooManyRootFields, "the operation selects %d root fields; the limit is %d", s.RootFields, l.MaxRootFields)
	case l.MaxFields > 0 && s.Fields > l.MaxFields:
		return limitError(CodeComplexity, "the operation selects %d fields with its fragments expanded; its complexity is over the limit of %d", s.Fields, l.MaxFields)
	}
	return l.Inputs.CheckInputs(oc)
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code}
	return err
}

// Shape is what Measure finds.
type Shape struct {
	// Depth is the deepest field nesting (a root field is depth 1).
	Depth int
	// Aliases counts fields selected under an alias that differs from their name.
	Aliases int
	// RootFields counts the fields selected at the root, fragments included.
	RootFields int
	// Fields counts every field selected, each fragment spread expanded, as
	// gqlgen's complexity walk visits them: a __schema field counts once,
	// its selections not at all (the walk skips them).
	Fields int
}

// Measure walks a selection set with its fragments expanded. Each named
// fragment is measured once and its shape reused at every spread, so a
// "fragment bomb" (fragments that each spread the next one twice: 2^n
// expansions from a few hundred tokens) costs time linear in the document.
// Counts saturate at MaxCount rather than overflow.
func Measure(set ast.SelectionSet) Shape {
	m := measurer{memo: map[*ast.FragmentDefinition]Shape{}, active: map[*ast.FragmentDefinition]bool{}}
	return m.set(set)
}

// MaxCount is where Measure's counts stop growing.
const MaxCount = 1 << 30

func add(a, b int) int { return min(a+b, MaxCount) }

// measurer holds the shapes of the fragments measured so far. A Shape here
// is relative to the selection set measured: Depth 1 for a set of leaf
// fields, RootFields the fields selected at its own level.
type measurer struct {
	memo   map[*ast.FragmentDefinition]Shape
	active map[*ast.FragmentDefinition]bool // being measured: a cycle in an unvalidated document
}

func (m *measurer) set(set ast.SelectionSet) Shape {
	var s Shape
	merge := func(in Shape, depthOffset int) {
		s.Depth = max(s.Depth, in.Depth+depthOffset)
		s.Aliases = add(s.Aliases, in.Aliases)
		s.Fields = add(s.Fields, in.Fields)
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			s.RootFields = add(s.RootFields, 1)
			s.Fields = add(s.Fields, 1)
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.Aliases = add(s.Aliases, 1)
			}
			in := m.set(sel.SelectionSet)
			if sel.Name == "__schema" {
				in.Fields = 0
			}
			merge(in, 1)
			s.Depth = max(s.Depth, 1)
		case *ast.InlineFragment:
			in := m.set(sel.SelectionSet)
			merge(in, 0)
			s.RootFields = add(s.RootFields, in.RootFields)
		case *ast.FragmentSpread:
			in := m.fragment(sel.Definition)
			merge(in, 0)
			s.RootFields = add(s.RootFields, in.RootFields)
		}
	}
	return s
}

func (m *measurer) fragment(def *ast.FragmentDefinition) Shape {
	if def == nil || m.active[def] {
		return Shape{}
	}
	if s, ok := m.memo[def]; ok {
		return s
	}
	m.active[def] = true
	s := m.set(def.SelectionSet)
	delete(m.active, def)
	m.memo[def] = s
	return s
}

// DefaultPage is the page size a connection without first or last returns.
const DefaultPage = 20

// Connection is the complexity of a connection field: its children cost once
// per item of the page (first or last, else the default page size), plus one.
func Connection(child int, first, last *int) int {
	n := DefaultPage
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	if n < 1 {
		n = 1
	}
	return 1 + child*n
}

// List is the complexity of a list of n items.
func List(child, n int) int { return 1 + child*max(n, 1) }
