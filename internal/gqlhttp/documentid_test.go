package gqlhttp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// pq is the persisted-query extension of a request naming document id.
func pq(id string) map[string]any {
	return map[string]any{"version": json.Number("1"), "sha256Hash": id, "documentId": true}
}

// TestDocumentIDs: a request naming its document with documentId or id (a
// POST's member, a GET's parameter) is decoded as one whose
// extensions.persistedQuery names it, marked as a document ID; the rest of
// the request is decoded as ever, numbers as they were written; what the
// transport refuses it still refuses. (These cases were those of the
// HTTP layer's byte rewriting, which decoding them replaced.)
func TestDocumentIDs(t *testing.T) {
	long := strings.Repeat("d", 128)
	for _, c := range []struct {
		name   string
		post   string // the body of a POST, or
		get    string // the query string of a GET
		ext    map[string]any
		vars   map[string]any
		errMsg string // a refusal mentioning this
	}{
		{name: "post id", post: `{"id": "doc1"}`, ext: map[string]any{"persistedQuery": pq("doc1")}},
		{name: "post documentId before id", post: `{"id": "b", "documentId": "a"}`, ext: map[string]any{"persistedQuery": pq("a")}},
		{name: "post empty documentId, id", post: `{"documentId": "", "id": "b"}`, ext: map[string]any{"persistedQuery": pq("b")}},
		{
			name: "post numbers kept", post: `{"id": "doc1", "variables": {"n": 9007199254740993, "f": 1e400}}`,
			ext: map[string]any{"persistedQuery": pq("doc1")}, vars: map[string]any{"n": json.Number("9007199254740993"), "f": json.Number("1e400")},
		},
		{
			name: "post other extensions kept, persistedQuery replaced",
			post: `{"id": "doc1", "extensions": {"persistedQuery": {"version": 2}, "other": [1, 2]}}`,
			ext:  map[string]any{"persistedQuery": pq("doc1"), "other": []any{json.Number("1"), json.Number("2")}},
		},
		{name: "post extensions null", post: `{"id": "doc1", "extensions": null, "query": "{a}"}`, ext: map[string]any{"persistedQuery": pq("doc1")}},
		{name: "post id not a string", post: `{"id": 1, "documentId": ""}`},
		{name: "post id of 128 bytes", post: `{"id": "` + long + `"}`, ext: map[string]any{"persistedQuery": pq(long)}},
		{name: "post id over 128 bytes", post: `{"id": "` + long + `d"}`},
		{name: "post extensions not an object", post: `{"id": "doc1", "extensions": "x"}`, errMsg: "not a GraphQL request"},
		{name: "post two values", post: `{"id": "doc1"} {"query": "{a}"}`, errMsg: "more than one JSON value"},
		{name: "post cut off", post: `{"id": "doc1"`, errMsg: "cut off"},
		{name: "post batch", post: `[{"id": "doc1"}]`, errMsg: "not a GraphQL request"},
		{name: "get id", get: "id=doc1", ext: map[string]any{"persistedQuery": pq("doc1")}},
		{name: "get documentId", get: "a=1&documentId=doc1", ext: map[string]any{"persistedQuery": pq("doc1")}},
		{name: "get escaped key", get: "i%64=doc1", ext: map[string]any{"persistedQuery": pq("doc1")}},
		// extensions=null once panicked (json.Unmarshal set the map to nil).
		{name: "get extensions null", get: "id=doc1&extensions=null", ext: map[string]any{"persistedQuery": pq("doc1")}},
		{
			name: "get big number kept", get: "id=doc1&extensions=%7B%22a%22%3A12345678901234567890%7D",
			ext: map[string]any{"a": json.Number("12345678901234567890"), "persistedQuery": pq("doc1")},
		},
		{name: "get no id", get: "query=%7Ba%7D"},
		{name: "get empty documentId", get: "documentId="},
		{name: "get extensions not an object", get: "id=doc1&extensions=%5B1%5D", errMsg: "extensions parameter is not a JSON object"},
		{name: "get extensions and more", get: "id=doc1&extensions=%7B%7Dx", errMsg: "something follows it"},
		{name: "get broken escape", get: "query=%zz&id=doc1", errMsg: "not application/x-www-form-urlencoded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var (
				p   *graphql.RawParams
				err error
			)
			if c.post != "" {
				p, err = DecodeParams([]byte(c.post))
			} else {
				p, err = decodeQuery(c.get)
			}
			if c.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), c.errMsg) {
					t.Fatalf("error %v, want one saying %q", err, c.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ext, vars := p.Extensions, p.Variables
			if !reflect.DeepEqual(ext, c.ext) && (len(ext) != 0 || len(c.ext) != 0) {
				t.Errorf("extensions %#v, want %#v", ext, c.ext)
			}
			if c.vars != nil && !reflect.DeepEqual(vars, c.vars) {
				t.Errorf("variables %#v, want %#v", vars, c.vars)
			}
		})
	}
}
