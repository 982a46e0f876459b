package gqlhttp

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// incrementalKey marks a context whose transport delivers @defer
// incrementally.
type incrementalKey struct{}

// WithIncremental marks ctx as the context of a request whose transport
// delivers @defer'd fragments incrementally (multipart/mixed): InlineDefer
// then keeps the directive on its query operations. A transport sets it
// before CreateOperationContext; no other transport should.
func WithIncremental(ctx context.Context) context.Context {
	return context.WithValue(ctx, incrementalKey{}, true)
}

// incremental reports whether ctx was marked by WithIncremental.
func incremental(ctx context.Context) bool {
	v, _ := ctx.Value(incrementalKey{}).(bool)
	return v
}

// InlineDefer is the handler extension that makes @defer safe on every
// transport: unless the request's transport delivers deferred fragments
// incrementally (WithIncremental) and the operation is a query, it removes
// every @defer from the operation, so that the deferred fragments are
// resolved in place and the answer is the one the document would get
// without the directive. Without it, gqlgen's executor answers a first
// payload with hasNext: true and the deferred fields missing, and a
// transport that answers once (or a mutation, a subscription, which gqlgen
// never completes incrementally) drops the rest.
//
// Build it with NewInlineDefer: the documents it rewrites are kept, so that
// one parsed (cached) document always gives the same rewritten operation,
// the key of the planned executor's cache (graph/plan).
type InlineDefer struct {
	docs *lru.Cache[*ast.QueryDocument, *ast.QueryDocument]
	// maxQuery is the longest document whose copy is kept: as for the
	// parsed-query cache, a parsed document holds its whole text, and a
	// longer one is parsed anew for each request anyway.
	maxQuery int
}

var (
	_ graphql.HandlerExtension        = (*InlineDefer)(nil)
	_ graphql.OperationContextMutator = (*InlineDefer)(nil)
)

// NewInlineDefer returns an InlineDefer that keeps the rewritten copies of
// up to size documents of at most maxQuery bytes (the parsed-query cache's
// bounds are right).
func NewInlineDefer(size, maxQuery int) *InlineDefer {
	docs, err := lru.New[*ast.QueryDocument, *ast.QueryDocument](max(size, 1))
	if err != nil {
		// lru.New fails only for a size below 1, excluded above.
		docs = nil
	}
	return &InlineDefer{docs: docs, maxQuery: maxQuery}
}

// ExtensionName implements graphql.HandlerExtension.
func (*InlineDefer) ExtensionName() string { return "InlineDefer" }

// Validate implements graphql.HandlerExtension.
func (*InlineDefer) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator: it
// replaces rc's document and operation by copies without @defer, unless the
// operation is a query whose transport streams deferred fragments.
func (d *InlineDefer) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc == nil || rc.Doc == nil || rc.Operation == nil {
		return nil
	}
	if rc.Operation.Operation == ast.Query && incremental(ctx) {
		return nil
	}
	doc, ok := d.inlined(rc.Doc, len(rc.RawQuery) <= d.maxQuery)
	if !ok {
		return nil
	}
	for i, op := range rc.Doc.Operations {
		if op == rc.Operation {
			rc.Doc, rc.Operation = doc, doc.Operations[i]
			return nil
		}
	}
	return nil // an operation not of its document: leave it as it is
}

// inlined returns doc without @defer, and false when doc has none; the
// copy is kept when keep says so.
func (d *InlineDefer) inlined(doc *ast.QueryDocument, keep bool) (*ast.QueryDocument, bool) {
	keep = keep && d.docs != nil
	if keep {
		if c, ok := d.docs.Get(doc); ok {
			return c, c != doc
		}
	}
	c := WithoutDefer(doc)
	if keep {
		d.docs.Add(doc, c)
	}
	return c, c != doc
}

// WithoutDefer returns doc with every @defer directive removed: the
// document whose answer is the one a client that cannot read incremental
// delivery must get. doc itself is returned when it has no @defer, and is
// never modified (it may be the parsed-query cache's): what changes is
// copied, what does not is shared.
func WithoutDefer(doc *ast.QueryDocument) *ast.QueryDocument {
	if !docHasDefer(doc) {
		return doc
	}
	c := *doc
	c.Fragments = make(ast.FragmentDefinitionList, len(doc.Fragments))
	for i, f := range doc.Fragments {
		fc := *f
		fc.SelectionSet = withoutDefer(f.SelectionSet)
		c.Fragments[i] = &fc
	}
	c.Operations = make(ast.OperationList, len(doc.Operations))
	for i, op := range doc.Operations {
		oc := *op
		oc.SelectionSet = withoutDefer(op.SelectionSet)
		c.Operations[i] = &oc
	}
	// Fragment spreads point to their definitions: to the copies now.
	byName := make(map[string]*ast.FragmentDefinition, len(c.Fragments))
	for _, f := range c.Fragments {
		byName[f.Name] = f
	}
	var relink func(ast.SelectionSet)
	relink = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				relink(s.SelectionSet)
			case *ast.InlineFragment:
				relink(s.SelectionSet)
			case *ast.FragmentSpread:
				if f, ok := byName[s.Name]; ok {
					s.Definition = f
				}
			}
		}
	}
	for _, f := range c.Fragments {
		relink(f.SelectionSet)
	}
	for _, op := range c.Operations {
		relink(op.SelectionSet)
	}
	return &c
}

// withoutDefer copies set and every selection under it, without @defer.
func withoutDefer(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(set))
	for i, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			c := *s
			c.Directives = dropDefer(s.Directives)
			c.SelectionSet = withoutDefer(s.SelectionSet)
			out[i] = &c
		case *ast.InlineFragment:
			c := *s
			c.Directives = dropDefer(s.Directives)
			c.SelectionSet = withoutDefer(s.SelectionSet)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *s
			c.Directives = dropDefer(s.Directives)
			out[i] = &c
		default:
			out[i] = s
		}
	}
	return out
}

// dropDefer returns list without its @defer directives.
func dropDefer(list ast.DirectiveList) ast.DirectiveList {
	if list.ForName("defer") == nil {
		return list
	}
	out := make(ast.DirectiveList, 0, len(list)-1)
	for _, d := range list {
		if d.Name != "defer" {
			out = append(out, d)
		}
	}
	return out
}

// docHasDefer reports whether any selection of doc carries @defer.
func docHasDefer(doc *ast.QueryDocument) bool {
	for _, op := range doc.Operations {
		if setHasDefer(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if setHasDefer(f.SelectionSet) {
			return true
		}
	}
	return false
}

func setHasDefer(set ast.SelectionSet) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if s.Directives.ForName("defer") != nil || setHasDefer(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if s.Directives.ForName("defer") != nil || setHasDefer(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Directives.ForName("defer") != nil {
				return true
			}
		}
	}
	return false
}
