// Package plan is the planned executor of the read path's core documents: a
// page of shipments (Query.shipments) or one shipment (Query.shipment), with
// their customers and countries, tracking events and files.
//
// gqlgen's generic executor resolves every field of every object through a
// field context, a middleware chain and, for resolver fields and list
// elements, a goroutine of its own; on a page of 50 shipments that is a few
// thousand contexts and several hundred goroutines per request, most of the
// CPU of a nested list (docs/BENCHMARKS.md). This package plans a document
// once — gqlgen's own field collection, so merging, fragments, aliases and
// @skip/@include mean exactly what they mean to gqlgen — into a tree of the
// fields it selects, then runs the plan for each request: the same resolvers
// (so the same statements, privacy rules, dataloaders and prefetching), called
// in sequence, with the answer written straight into one buffer with gqlgen's
// own scalar marshalers. The JSON is the generic executor's, byte for byte
// (TestPlannedSameJSON compares the two on a corpus of documents).
//
// A document the plan does not cover (another root field, a field without a
// writer here, @defer, a mutation or subscription) runs on the generic
// executor, as does any request whose run meets an error the plan does not
// model: a non-null field that fails, a bad argument, a panic. Those re-run
// on the generic executor from the start, which gives the client the generic
// executor's answer, errors included. The one error the plan answers itself
// is a nullable field that fails (a Dolibarr customer or country that cannot
// be read): null at that path and the error, as gqlgen would.
package plan

import (
	"bytes"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/graph/generated"
)

// Outcome is what happened to one query operation, for metrics.
type Outcome string

// Outcomes.
const (
	// Planned: the plan answered.
	Planned Outcome = "planned"
	// Unplanned: the document is not one the plan covers; the generic
	// executor answered.
	Unplanned Outcome = "unplanned"
	// Fallback: the plan started, met an error it does not model and
	// handed the request to the generic executor.
	Fallback Outcome = "fallback"
)

// Schema is an executable schema whose query operations run on their plan
// when they have one, and on the wrapped generic executor otherwise.
type Schema struct {
	graphql.ExecutableSchema
	resolvers generated.ResolverRoot
	plans     *lru.Cache[*ast.OperationDefinition, *entry]
	observe   func(Outcome)
}

// New wraps es, made by generated.NewExecutableSchema with resolvers r. Plans
// are kept for up to size operations (the parsed-query cache's size: the
// operation is the cache's key, so a document parsed anew is planned anew).
// observe, if not nil, is told the outcome of every query operation.
func New(es graphql.ExecutableSchema, r generated.ResolverRoot, size int, observe func(Outcome)) *Schema {
	plans, err := lru.New[*ast.OperationDefinition, *entry](max(size, 1))
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	if observe == nil {
		observe = func(Outcome) {}
	}
	return &Schema{ExecutableSchema: es, resolvers: r, plans: plans, observe: observe}
}

// Exec implements graphql.ExecutableSchema.
func (s *Schema) Exec(ctx context.Context) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return s.ExecutableSchema.Exec(ctx)
	}
	p := s.plan(oc)
	if p == nil {
		s.observe(Unplanned)
		return s.ExecutableSchema.Exec(ctx)
	}
	var fallback graphql.ResponseHandler
	done := false
	return func(ctx context.Context) *graphql.Response {
		if fallback != nil {
			return fallback(ctx)
		}
		if done {
			return nil
		}
		done = true
		r := run{ctx: ctx, s: s}
		data, errs, ok := r.exec(p)
		if !ok {
			s.observe(Fallback)
			fallback = s.ExecutableSchema.Exec(ctx)
			return fallback(ctx)
		}
		s.observe(Planned)
		for _, err := range errs {
			graphql.AddError(ctx, err)
		}
		return &graphql.Response{Data: data}
	}
}

// entry holds the plans of one operation: one per combination of the values
// of the variables its @skip and @include directives read (usually none, so
// one plan).
type entry struct {
	conds []string // variables read by @skip/@include, in document order
	mu    sync.Mutex
	plans map[string]*operation // by the values of conds; nil: no plan
}

// maxVariants bounds the plans kept per operation.
const maxVariants = 16

func (s *Schema) plan(oc *graphql.OperationContext) *operation {
	e, ok := s.plans.Get(oc.Operation)
	if !ok {
		e = &entry{conds: conditionVariables(oc.Doc, oc.Operation), plans: map[string]*operation{}}
		s.plans.Add(oc.Operation, e)
	}
	key := conditionKey(e.conds, oc.Variables)
	e.mu.Lock()
	p, ok := e.plans[key]
	e.mu.Unlock()
	if ok {
		return p
	}
	p = compile(oc)
	e.mu.Lock()
	if len(e.plans) < maxVariants {
		e.plans[key] = p
	}
	e.mu.Unlock()
	return p
}

// conditionVariables lists the variables that @skip or @include read in op
// and the fragments of doc.
func conditionVariables(doc *ast.QueryDocument, op *ast.OperationDefinition) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(ast.SelectionSet)
	visit := func(dirs ast.DirectiveList) {
		for _, d := range dirs {
			if d.Name != "skip" && d.Name != "include" {
				continue
			}
			if a := d.Arguments.ForName("if"); a != nil && a.Value != nil && a.Value.Kind == ast.Variable && !seen[a.Value.Raw] {
				seen[a.Value.Raw] = true
				out = append(out, a.Value.Raw)
			}
		}
	}
	walked := map[string]bool{}
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				visit(sel.Directives)
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				visit(sel.Directives)
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				visit(sel.Directives)
				if walked[sel.Name] {
					continue
				}
				walked[sel.Name] = true
				if f := doc.Fragments.ForName(sel.Name); f != nil {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	return out
}

func conditionKey(conds []string, vars map[string]any) string {
	if len(conds) == 0 {
		return ""
	}
	var b bytes.Buffer
	for _, name := range conds {
		switch v := vars[name]; v {
		case true:
			b.WriteByte('t')
		case false:
			b.WriteByte('f')
		case nil:
			b.WriteByte('n')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
