// Package gqllimit bounds the shape of GraphQL operations before they run:
// depth, aliases and root fields (gqlgen has no such limits of its own), and
// the cost of connections for gqlgen's complexity limit. Each rejection has its
// own error code.
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
)

// Limits is a gqlgen handler extension; a zero limit is no limit.
type Limits struct {
	MaxDepth      int
	MaxAliases    int
	MaxRootFields int
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
	}
	return nil
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
}

// Measure walks a selection set with its fragments expanded.
func Measure(set ast.SelectionSet) Shape {
	var s Shape
	s.RootFields = countFields(set, 0)
	walk(set, 1, &s, 0)
	return s
}

// maxFragmentNesting stops a walk through fragments that were not validated.
const maxFragmentNesting = 100

func walk(set ast.SelectionSet, depth int, s *Shape, nesting int) {
	if nesting > maxFragmentNesting {
		return
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if depth > s.Depth {
				s.Depth = depth
			}
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.Aliases++
			}
			walk(sel.SelectionSet, depth+1, s, nesting)
		case *ast.InlineFragment:
			walk(sel.SelectionSet, depth, s, nesting+1)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				walk(sel.Definition.SelectionSet, depth, s, nesting+1)
			}
		}
	}
}

func countFields(set ast.SelectionSet, nesting int) int {
	if nesting > maxFragmentNesting {
		return 0
	}
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n++
		case *ast.InlineFragment:
			n += countFields(sel.SelectionSet, nesting+1)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				n += countFields(sel.Definition.SelectionSet, nesting+1)
			}
		}
	}
	return n
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
