package gqlhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestAcceptsIncremental(t *testing.T) {
	cases := []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"application/json"}, false},
		{[]string{"multipart/mixed;deferSpec=20220824, application/json"}, true}, // Apollo Client
		{[]string{"multipart/mixed, application/graphql-response+json, application/json"}, true},
		{[]string{"application/json", "multipart/mixed"}, true},
		{[]string{"multipart/mixed; deferSpec=20220824; q=0.5"}, true},
		{[]string{"multipart/mixed;q=0"}, false},
		{[]string{"multipart/mixed;deferSpec=20230621"}, false}, // another format
		{[]string{`multipart/mixed;boundary="graphql";subscriptionSpec=1.0, application/json`}, true},
		{[]string{"multipart/*"}, false},
		{[]string{"*/*"}, false},
	}
	for _, c := range cases {
		if got := acceptsIncremental(c.accept); got != c.want {
			t.Errorf("acceptsIncremental(%q) = %v, want %v", c.accept, got, c.want)
		}
	}
}

func TestWithoutDefer(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{
			name: "inline fragment",
			doc:  `{ a { b ... @defer { c } } }`,
			want: `{ a { b ... { c } } }`,
		},
		{
			name: "label, if and other directives kept",
			doc:  `query ($d: Boolean!) { a { ... @defer(label: "x", if: $d) @include(if: true) { c } } }`,
			want: `query ($d: Boolean!) { a { ... @include(if: true) { c } } }`,
		},
		{
			name: "fragment spread and nested defers",
			doc:  `query Q { a { ...F @defer } } fragment F on A { b ... @defer(label: "in") { c { ... @defer { d } } } }`,
			want: `query Q { a { ...F } } fragment F on A { b ... { c { ... { d } } } }`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: c.doc})
			if err != nil {
				t.Fatal(err)
			}
			before := format(doc)
			got := WithoutDefer(doc)
			if format(doc) != before {
				t.Fatalf("the document itself changed:\n%s", format(doc))
			}
			want, err := parser.ParseQuery(&ast.Source{Input: c.want})
			if err != nil {
				t.Fatal(err)
			}
			if format(got) != format(want) {
				t.Errorf("got\n%s\nwant\n%s", format(got), format(want))
			}
			if again := WithoutDefer(got); again != got {
				t.Errorf("a document without @defer is copied")
			}
			// Spreads point to the copied fragments.
			for _, op := range got.Operations {
				for _, s := range op.SelectionSet {
					for _, inner := range s.(*ast.Field).SelectionSet {
						if sp, ok := inner.(*ast.FragmentSpread); ok && sp.Definition != got.Fragments.ForName(sp.Name) {
							t.Errorf("spread %s points to the old fragment", sp.Name)
						}
					}
				}
			}
		})
	}
}

func format(doc *ast.QueryDocument) string {
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	return b.String()
}

// responses returns a ResponseHandler giving rs in order, then nil; a nil
// entry of rs blocks past the end of the context, as gqlgen's handler does
// when a deferred result is lost, until stuck is closed.
func responses(stuck <-chan struct{}, rs ...*graphql.Response) graphql.ResponseHandler {
	i := 0
	return func(ctx context.Context) *graphql.Response {
		if i >= len(rs) {
			return nil
		}
		r := rs[i]
		i++
		if r == nil {
			<-ctx.Done()
			<-stuck
			return nil
		}
		return r
	}
}

func hasNext(b bool) *bool { return &b }

func TestWriteIncremental(t *testing.T) {
	// Each part is followed by its delimiter at once.
	const part = "--" + Boundary + "\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
	const end = "\r\n--" + Boundary + "--\r\n"
	cases := []struct {
		name      string
		f         Format
		rs        []*graphql.Response
		timeout   bool
		wantType  string
		wantBody  string
		wantState int
	}{
		{
			name:     "nothing deferred: one JSON answer",
			f:        Format{mediaType: JSON, incremental: true},
			rs:       []*graphql.Response{{Data: []byte(`{"a":1}`)}},
			wantType: "application/json; charset=utf-8",
			wantBody: `{"data":{"a":1}}`,
		},
		{
			name:     "nothing deferred, only multipart accepted: one part",
			f:        Format{mediaType: JSON, incremental: true, multipartOnly: true},
			rs:       []*graphql.Response{{Data: []byte(`{"a":1}`)}},
			wantType: MultipartContentType,
			wantBody: part + `{"data":{"a":1}}` + end,
		},
		{
			name: "two deferred payloads, a label, an error",
			f:    Format{mediaType: GraphQLResponse, incremental: true},
			rs: []*graphql.Response{
				{Data: []byte(`{"a":{"b":1}}`), HasNext: hasNext(true)},
				{Data: []byte(`{"c":2}`), Path: ast.Path{ast.PathName("a")}, Label: "x", HasNext: hasNext(true)},
				{
					Data: []byte(`{"d":null}`), Path: ast.Path{ast.PathName("a")}, HasNext: hasNext(false),
					Errors: gqlerror.List{{Message: "down", Path: ast.Path{ast.PathName("a"), ast.PathName("d")}, Extensions: map[string]any{"code": "DOLIBARR_UNAVAILABLE"}}},
				},
			},
			wantType: MultipartContentType,
			wantBody: part + `{"data":{"a":{"b":1}},"hasNext":true}` +
				"\r\n" + part + `{"incremental":[{"data":{"c":2},"path":["a"],"label":"x"}],"hasNext":true}` +
				"\r\n" + part + `{"incremental":[{"data":{"d":null},"path":["a"],"errors":[{"message":"down","path":["a","d"],"extensions":{"code":"DOLIBARR_UNAVAILABLE"}}]}],"hasNext":false}` + end,
		},
		{
			name: "a null payload (a non-null field failed under the fragment)",
			f:    Format{mediaType: JSON, incremental: true},
			rs: []*graphql.Response{
				{Data: []byte(`{"a":[{"b":1}]}`), HasNext: hasNext(true)},
				{Data: []byte(`null`), Path: ast.Path{ast.PathName("a"), ast.PathIndex(0)}, HasNext: hasNext(false)},
			},
			wantType: MultipartContentType,
			wantBody: part + `{"data":{"a":[{"b":1}]},"hasNext":true}` +
				"\r\n" + part + `{"incremental":[{"data":null,"path":["a",0]}],"hasNext":false}` + end,
		},
		{
			name: "the executor ends though it said hasNext",
			f:    Format{mediaType: JSON, incremental: true},
			rs: []*graphql.Response{
				{Data: []byte(`{"a":1}`), HasNext: hasNext(true)},
			},
			wantType: MultipartContentType,
			wantBody: part + `{"data":{"a":1},"hasNext":true}` + "\r\n" + part + `{"data":null,"hasNext":false}` + end,
		},
		{
			name: "the deadline passes before a deferred payload",
			f:    Format{mediaType: JSON, incremental: true},
			rs: []*graphql.Response{
				{Data: []byte(`{"a":1}`), HasNext: hasNext(true)},
				nil,
			},
			timeout:  true,
			wantType: MultipartContentType,
			wantBody: part + `{"data":{"a":1},"hasNext":true}` + "\r\n" + part +
				`{"errors":[{"message":"the request took too long and was stopped before its deferred fragments were delivered","extensions":{"code":"TIMEOUT"}}],"data":null,"hasNext":false}` + end,
		},
		{
			name:      "the deadline passes before the first payload",
			f:         Format{mediaType: JSON, incremental: true},
			rs:        []*graphql.Response{nil},
			timeout:   true,
			wantType:  "application/json; charset=utf-8",
			wantBody:  `{"errors":[{"message":"the request took too long and was stopped","extensions":{"code":"TIMEOUT"}}]}`,
			wantState: http.StatusServiceUnavailable,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.timeout {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			stuck := make(chan struct{})
			defer close(stuck)
			w := httptest.NewRecorder()
			c.f.WriteIncremental(ctx, w, responses(stuck, c.rs...))
			status := c.wantState
			if status == 0 {
				status = http.StatusOK
			}
			if w.Code != status || w.Header().Get("Content-Type") != c.wantType {
				t.Errorf("HTTP %d %q, want %d %q", w.Code, w.Header().Get("Content-Type"), status, c.wantType)
			}
			if got := w.Body.String(); got != c.wantBody {
				t.Errorf("body\n%q\nwant\n%q", got, c.wantBody)
			}
			if c.wantType == MultipartContentType && w.Header().Get("X-Accel-Buffering") != "no" {
				t.Errorf("no X-Accel-Buffering: no")
			}
		})
	}
}

// A single answer never carries hasNext: true, whatever the executor does.
func TestWriteResultRefusesHasNext(t *testing.T) {
	w := httptest.NewRecorder()
	Format{mediaType: JSON}.WriteResult(w, &graphql.Response{Data: []byte(`{"a":null}`), HasNext: hasNext(true)})
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "hasNext") {
		t.Errorf("HTTP %d %s", w.Code, w.Body)
	}
}

// flushRecorder records what was flushed, flush by flush.
type flushRecorder struct {
	*httptest.ResponseRecorder
	flushes []string
}

func (f *flushRecorder) Flush() { f.flushes = append(f.flushes, f.Body.String()) }

// Apollo Client and meros hand a part over when they read the delimiter
// after it: each flush ends with one.
func TestWriteIncrementalDelimiterFlushed(t *testing.T) {
	w := &flushRecorder{ResponseRecorder: httptest.NewRecorder()}
	Format{mediaType: JSON, incremental: true}.WriteIncremental(context.Background(), w, responses(nil,
		&graphql.Response{Data: []byte(`{"a":{}}`), HasNext: hasNext(true)},
		&graphql.Response{Data: []byte(`{"b":1}`), Path: ast.Path{ast.PathName("a")}, HasNext: hasNext(false)},
	))
	if len(w.flushes) < 2 {
		t.Fatalf("%d flushes: %q", len(w.flushes), w.Body)
	}
	for i, f := range w.flushes {
		if !strings.HasSuffix(f, "\r\n---") && !strings.HasSuffix(f, "\r\n-----\r\n") {
			t.Errorf("flush %d does not end with a delimiter: %q", i, f)
		}
	}
	if !strings.Contains(w.flushes[0], `"hasNext":true}`+"\r\n---") {
		t.Errorf("the first part is not delimited when flushed: %q", w.flushes[0])
	}
}
