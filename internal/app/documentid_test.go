package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// decodeNumbers decodes JSON as the transports do (numbers kept as written).
func decodeNumbers(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if !decodeJSON(b, &m) {
		t.Fatalf("not one JSON object: %s", b)
	}
	return m
}

func TestDocumentIDs(t *testing.T) {
	// Numbers in variables keep their digits (a float64 rounded 2^53+1).
	out := documentIDs([]byte(`{"id": "doc1", "variables": {"n": 9007199254740993, "f": 1e400}}`))
	m := decodeNumbers(t, out)
	vars := m["variables"].(map[string]any)
	if vars["n"] != json.Number("9007199254740993") || vars["f"] != json.Number("1e400") {
		t.Errorf("variables changed: %s", out)
	}
	// What the transport must refuse is left for it to refuse.
	for _, body := range []string{
		`{"id": "doc1", "extensions": "x"}`,
		`{"id": "doc1"} {"query": "{a}"}`,
		`{"id": "doc1"`,
		`null`,
	} {
		if got := documentIDs([]byte(body)); !bytes.Equal(got, []byte(body)) {
			t.Errorf("%s became %s", body, got)
		}
	}
}

func TestDocumentIDsInQuery(t *testing.T) {
	cases := []struct {
		query string
		ext   string // the extensions parameter after; "" when unchanged
	}{
		{"id=doc1", `{"persistedQuery":{"documentId":true,"sha256Hash":"doc1","version":1}}`},
		// extensions=null panicked: json.Unmarshal set the map to nil
		// (found reading the code for FuzzGraphQLHTTP; a 500 before).
		{"id=doc1&extensions=null", `{"persistedQuery":{"documentId":true,"sha256Hash":"doc1","version":1}}`},
		{"id=doc1&extensions=%7B%22a%22%3A12345678901234567890%7D", `{"a":12345678901234567890,"persistedQuery":{"documentId":true,"sha256Hash":"doc1","version":1}}`},
		{"id=doc1&extensions=%5B1%5D", ""}, // [1]: the transport says BAD_REQUEST
		{"id=doc1&extensions=%7B%7Dx", ""},
		{"query=%7Ba%7D", ""},
		{"query=%zz&id=doc1", ""}, // the transport refuses the broken escape
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/graphql?"+c.query, nil)
		documentIDsInQuery(r)
		if c.ext == "" {
			if r.URL.RawQuery != c.query {
				t.Errorf("%s became %s", c.query, r.URL.RawQuery)
			}
			continue
		}
		if got := r.URL.Query().Get("extensions"); got != c.ext {
			t.Errorf("%s: extensions %s, want %s", c.query, got, c.ext)
		}
	}
}

// FuzzDocumentIDs: a POST body is passed on unchanged, or rewritten into
// one JSON object that is the same request with id/documentId moved into
// extensions.persistedQuery; a GET's parameters likewise, and never a panic.
func FuzzDocumentIDs(f *testing.F) {
	for _, s := range []string{
		`{"id": "doc1"}`,
		`{"documentId": "doc1", "variables": {"n": 9007199254740993}}`,
		`{"id": "doc1", "extensions": {"persistedQuery": {"version": 2}, "other": [1, 2]}}`,
		`{"id": "doc1", "extensions": null, "query": "{a}"}`,
		`{"id": 1, "documentId": ""}`,
		`{"id": "doc1", "extensions": "x"}`,
		`{"id": "doc1"} trailing`,
		`[{"id": "doc1"}]`,
		`{"id": "` + string(make([]byte, 200)) + `"}`,
	} {
		f.Add([]byte(s), "id=doc1&extensions=null")
	}
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		out := documentIDs(body)
		if !bytes.Equal(out, body) {
			var in map[string]any
			if !decodeJSON(body, &in) {
				t.Fatalf("rewrote a body that is not one JSON object: %q", body)
			}
			got := decodeNumbers(t, out)
			if _, has := got["id"]; has {
				t.Fatalf("id left in %s", out)
			}
			if _, has := got["documentId"]; has {
				t.Fatalf("documentId left in %s", out)
			}
			ext := got["extensions"].(map[string]any)
			pq := ext["persistedQuery"].(map[string]any)
			if pq["documentId"] != true || pq["sha256Hash"] != documentID(in["documentId"], in["id"]) {
				t.Fatalf("persistedQuery %v from %q", pq, body)
			}
			for k, v := range in {
				if k == "id" || k == "documentId" || k == "extensions" {
					continue
				}
				// Invalid UTF-8 becomes U+FFFD on the way; compare re-encoded.
				a, _ := json.Marshal(v)
				b, _ := json.Marshal(got[k])
				if !bytes.Equal(a, b) && !reflect.DeepEqual(v, got[k]) {
					t.Fatalf("%s changed: %s -> %s", k, a, b)
				}
			}
		}

		// The fast path never skips a query string whose parameters name
		// a document.
		if q, err := url.ParseQuery(query); err == nil && (q.Has("id") || q.Has("documentId")) && !hasDocumentIDParam(query) {
			t.Fatalf("%q names a document but hasDocumentIDParam says no", query)
		}
		r := httptest.NewRequest("GET", "/graphql", nil)
		r.URL.RawQuery = query
		documentIDsInQuery(r)
		if r.URL.RawQuery != query {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil || q.Has("id") || q.Has("documentId") {
				t.Fatalf("%q became %q", query, r.URL.RawQuery)
			}
			var ext map[string]any
			if !decodeJSON([]byte(q.Get("extensions")), &ext) || ext["persistedQuery"] == nil {
				t.Fatalf("%q: extensions %q", query, q.Get("extensions"))
			}
		}
	})
}

// TestDocumentIDsInQueryLeavesAPQAlone: a GET that names no document by id
// or documentId (an APQ hash, a query) is not parsed here: the GET transport
// parses its query string, and parsing it here too cost every persisted-query
// GET a second url.ParseQuery (a map, and a copy of each unescaped value).
func TestDocumentIDsInQueryLeavesAPQAlone(t *testing.T) {
	for _, c := range []struct {
		query string
		want  bool
	}{
		{"", false},
		{"extensions=%7B%22persistedQuery%22%3A%7B%22sha256Hash%22%3A%22ab%22%2C%22version%22%3A1%7D%7D&operationName=NestedList&variables=%7B%7D", false},
		{"query=%7Bid%7D&variables=%7B%22id%22%3A1%7D", false},
		{"ids=1&xid=2&documentIds=3&i%64s=4", false},
		{"id=doc1", true},
		{"a=1&documentId=doc1", true},
		{"i%64=doc1", true},
		{"document%49d=doc1", true},
		{"%zz=1", true}, // left to url.ParseQuery
		{"id", true},
		{"documentId=", true},
	} {
		if got := hasDocumentIDParam(c.query); got != c.want {
			t.Errorf("hasDocumentIDParam(%q) = %v, want %v", c.query, got, c.want)
		}
	}
	r := httptest.NewRequest("GET", "/graphql?extensions=%7B%22persistedQuery%22%3A%7B%22sha256Hash%22%3A%2225ba2ef674afd5f3231e98278514f8a60a01139ce0d1d4ae0989c2b2b90a56c5%22%2C%22version%22%3A1%7D%7D&operationName=NestedList&variables=%7B%22statuses%22%3A%5B%22IN_TRANSIT%22%2C%22OUT_FOR_DELIVERY%22%5D%7D", nil)
	raw := r.URL.RawQuery
	if n := testing.AllocsPerRun(100, func() { documentIDsInQuery(r) }); n != 0 {
		t.Errorf("documentIDsInQuery allocated %v times for a persisted-query GET; want 0 (the transport parses it)", n)
	}
	if r.URL.RawQuery != raw {
		t.Errorf("the query string changed: %q", r.URL.RawQuery)
	}
}

// TestBoundedCache: the parsed-query cache keeps no document over
// maxCachedQuery (each would hold its whole text).
func TestBoundedCache(t *testing.T) {
	c := boundedCache{lru.New[*ast.QueryDocument](10)}
	ctx := context.Background()
	small, big := "{ a }", "{ a }"+strings.Repeat("#", maxCachedQuery)
	c.Add(ctx, small, &ast.QueryDocument{})
	c.Add(ctx, big, &ast.QueryDocument{})
	if _, ok := c.Get(ctx, small); !ok {
		t.Error("a small document was not kept")
	}
	if _, ok := c.Get(ctx, big); ok {
		t.Error("a document over the bound was kept")
	}
}
