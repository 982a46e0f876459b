package gqllimit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/shipmentapp/shipmentapp/internal/gqllimit"
)

// parse parses a document and links each fragment spread to its definition,
// as validation would (without refusing cycles: Measure must survive them).
func parse(t testing.TB, doc string) *ast.QueryDocument {
	t.Helper()
	d, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: doc}, 10000)
	if err != nil {
		return nil
	}
	var link func(ast.SelectionSet)
	link = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				link(sel.SelectionSet)
			case *ast.InlineFragment:
				link(sel.SelectionSet)
			case *ast.FragmentSpread:
				sel.Definition = d.Fragments.ForName(sel.Name)
			}
		}
	}
	for _, op := range d.Operations {
		link(op.SelectionSet)
	}
	for _, f := range d.Fragments {
		link(f.SelectionSet)
	}
	return d
}

// naive expands every spread, as Measure did before it memoized fragments;
// it gives up (ok false) past budget visits or on a fragment cycle.
func naive(set ast.SelectionSet) (s gqllimit.Shape, ok bool) {
	budget := 200000
	stack := map[string]bool{}
	ok = true
	var walk func(set ast.SelectionSet, depth int) int
	walk = func(set ast.SelectionSet, depth int) (fields int) {
		for _, sel := range set {
			if budget--; budget < 0 {
				ok = false
				return fields
			}
			switch sel := sel.(type) {
			case *ast.Field:
				fields++
				s.Fields++
				s.Depth = max(s.Depth, depth)
				if sel.Alias != "" && sel.Alias != sel.Name {
					s.Aliases++
				}
				if sel.Name == "__schema" {
					before := s.Fields
					walk(sel.SelectionSet, depth+1)
					s.Fields = before
					continue
				}
				walk(sel.SelectionSet, depth+1)
			case *ast.InlineFragment:
				fields += walk(sel.SelectionSet, depth)
			case *ast.FragmentSpread:
				if sel.Definition == nil {
					continue
				}
				if stack[sel.Name] {
					ok = false
					continue
				}
				stack[sel.Name] = true
				fields += walk(sel.Definition.SelectionSet, depth)
				delete(stack, sel.Name)
			}
		}
		return fields
	}
	s.RootFields = walk(set, 1)
	return s, ok
}

// bomb is a fragment bomb: n fragments, each spreading the next twice, so
// 2^n expansions of the last one's fields from a few hundred tokens.
func bomb(n int, leaf string) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { %s }\n", n, leaf)
	return b.String()
}

func TestMeasure(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want gqllimit.Shape
	}{
		{"one field", `{ a }`, gqllimit.Shape{Depth: 1, RootFields: 1, Fields: 1}},
		{"nested", `{ a { b { c } } d }`, gqllimit.Shape{Depth: 3, RootFields: 2, Fields: 4}},
		{"aliases", `{ x: a y: a { z: b } a: a }`, gqllimit.Shape{Depth: 2, Aliases: 3, RootFields: 3, Fields: 4}},
		{"inline fragment", `{ ... on Query { a { ... { b } } } }`, gqllimit.Shape{Depth: 2, RootFields: 1, Fields: 2}},
		{"fragment at depth", `{ a { ...F } } fragment F on A { b { c } d }`, gqllimit.Shape{Depth: 3, RootFields: 1, Fields: 4}},
		{"fragment twice", `{ ...F a { ...F } } fragment F on A { x: b }`, gqllimit.Shape{Depth: 2, Aliases: 2, RootFields: 2, Fields: 3}},
		{"unknown fragment", `{ a ...Nope }`, gqllimit.Shape{Depth: 1, RootFields: 1, Fields: 1}},
		// A fragment bomb is measured at once: 2^40 expansions of its alias.
		{"bomb", bomb(40, "x: __typename"), gqllimit.Shape{Depth: 1, Aliases: gqllimit.MaxCount, RootFields: gqllimit.MaxCount, Fields: gqllimit.MaxCount}},
		{"small bomb", bomb(10, "x: __typename"), gqllimit.Shape{Depth: 1, Aliases: 1024, RootFields: 1024, Fields: 1024}},
		{"bomb of __schema", bomb(40, "__schema { types { name } }"), gqllimit.Shape{Depth: 3, RootFields: gqllimit.MaxCount, Fields: gqllimit.MaxCount}},
		{"introspection", `{ __schema { types { name fields { name } } } __typename }`, gqllimit.Shape{Depth: 4, RootFields: 2, Fields: 2}},
		// Cycles never pass validation, but Measure ends on them anyway.
		{"direct cycle", `{ ...A } fragment A on Query { a ...A }`, gqllimit.Shape{Depth: 1, RootFields: 1, Fields: 1}},
		{"indirect cycle", `{ ...A } fragment A on Query { a { ...B } } fragment B on A { b ...A }`, gqllimit.Shape{Depth: 2, RootFields: 1, Fields: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := parse(t, c.doc)
			if d == nil {
				t.Fatalf("does not parse: %s", c.doc)
			}
			start := time.Now()
			got := gqllimit.Measure(d.Operations[0].SelectionSet)
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %s", took)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if want, ok := naive(d.Operations[0].SelectionSet); ok && got != want {
				t.Errorf("got %+v, the naive walk %+v", got, want)
			}
		})
	}
}

// FuzzMeasure: any document is measured in a bounded time, and, when it has
// no fragment cycle and is small enough to expand, exactly as a walk that
// expands every fragment spread measures it.
func FuzzMeasure(f *testing.F) {
	for _, s := range []string{
		`{ a }`,
		`{ a { b { c } } x: d }`,
		`query Q($v: Int) { a(x: $v) { ... on T { b } ...F } } fragment F on T { c: d }`,
		`{ ...A } fragment A on Query { a ...A }`,
		`{ ...A } fragment A on Query { a { ...B } } fragment B on A { b ...A }`,
		bomb(5, "x: a"),
		bomb(30, "a"),
		`{ a { ...F ...F } } fragment F on A { b { ...G } } fragment G on B { c x: c }`,
		strings.Repeat("{ a ", 500) + strings.Repeat("}", 500),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		d := parse(t, doc)
		if d == nil {
			return
		}
		for _, op := range d.Operations {
			start := time.Now()
			got := gqllimit.Measure(op.SelectionSet)
			if took := time.Since(start); took > time.Second {
				t.Fatalf("took %s", took)
			}
			if got.Depth < 0 || got.Aliases < 0 || got.RootFields < 0 || got.Fields < got.RootFields || got.Aliases > gqllimit.MaxCount || got.Fields > gqllimit.MaxCount {
				t.Fatalf("shape %+v", got)
			}
			if want, ok := naive(op.SelectionSet); ok && got != want {
				t.Fatalf("got %+v, the naive walk %+v", got, want)
			}
		}
	})
}

func TestInputLimits(t *testing.T) {
	nested := func(n int) any {
		var v any = "x"
		for range n {
			v = map[string]any{"not": v}
		}
		return v
	}
	list := func(n int) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = "r"
		}
		return l
	}
	lits := func(n int) string { return "[" + strings.Repeat(`"a" `, n) + "]" }
	l := gqllimit.DefaultInputLimits
	cases := []struct {
		name string
		doc  string
		vars map[string]any
		ok   bool
	}{
		{"plain", `{ a(x: 1, y: "s", z: [1, 2], w: {a: {b: null}}) }`, map[string]any{"v": map[string]any{"a": []any{"b", 1}}}, true},
		{"nested 31", `{ a }`, map[string]any{"w": nested(31)}, true},
		{"nested 33", `{ a }`, map[string]any{"w": nested(33)}, false},
		{"nested 10,000", `{ a }`, map[string]any{"w": nested(10000)}, false},
		{"nested literal", `{ a(w: ` + strings.Repeat("{not: ", 40) + `1` + strings.Repeat("}", 40) + `) }`, nil, false},
		{"nested literal in a fragment", `{ ...F } fragment F on Query { a(w: ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `) }`, nil, false},
		{"list of 500", `{ a }`, map[string]any{"l": list(500)}, true},
		{"list of 501", `{ a }`, map[string]any{"l": list(501)}, false},
		{"list of 100,000", `{ a }`, map[string]any{"l": list(100000)}, false},
		{"literal list of 501", `{ a(l: ` + lits(501) + `) }`, nil, false},
		{"values at the total", `{ a }`, map[string]any{"c": []any{list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500)}}, true},
		{"values over the total", `{ a }`, map[string]any{"c": []any{list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500), list(500)}, "d": 1}, false},
		{"string of 16 KiB", `{ a }`, map[string]any{"s": strings.Repeat("x", 16<<10)}, true},
		{"string of 10 MiB", `{ a }`, map[string]any{"s": strings.Repeat("x", 10<<20)}, false},
		{"literal string of 20 KiB", `{ a(s: "` + strings.Repeat("x", 20<<10) + `") }`, nil, false},
		{"NUL in a variable", `{ a }`, map[string]any{"w": map[string]any{"reference": "a\x00b"}}, false},
		{"NUL in a literal", `{ a(s: "a\u0000b") }`, nil, false},
		{"typed slices", `{ a }`, map[string]any{"ids": []string{"a", "b"}, "m": map[string]string{"k": "v"}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := parser.ParseQuery(&ast.Source{Input: c.doc})
			if err != nil {
				t.Fatal(err)
			}
			oc := &graphql.OperationContext{Doc: d, Operation: d.Operations[0], Variables: c.vars}
			gerr := gqllimit.Limits{Inputs: l}.MutateOperationContext(context.Background(), oc)
			if (gerr == nil) != c.ok {
				t.Fatalf("got %v, want ok=%v", gerr, c.ok)
			}
			if gerr != nil && (gerr.Extensions["code"] != "BAD_USER_INPUT" || len(gerr.Message) > 200) {
				t.Errorf("error %v %v", gerr.Message, gerr.Extensions)
			}
		})
	}
}

func TestDocument(t *testing.T) {
	d := gqllimit.NewDocument(5, 100, 10)
	ctx := context.Background()
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{`{ a b c d e }`, true},
		{`{ a b c d e }`, true}, // remembered
		{`{ a b c d e f }`, false},
		{`{ a { b { c } } ...F } fragment F on Q { d e f }`, false},
		{`{ ...F ...F ...F } fragment F on Q { a b c }`, true}, // as written: fragments once
		{`{ a b c d e f`, true},                                // does not parse: gqlgen says so
		{strings.Repeat("{ a } ", 200), true},                  // over the token limit: likewise
		{``, true},
	} {
		err := d.MutateOperationParameters(ctx, &graphql.RawParams{Query: c.doc})
		if (err == nil) != c.ok || err != nil && err.Extensions["code"] != gqllimit.CodeTooManyFields {
			t.Errorf("%.40s: %v, want ok=%v", c.doc, err, c.ok)
		}
	}
}
