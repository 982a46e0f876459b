package gqlhttp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxErrorLen bounds the message of a refused request: it describes the
// problem and never echoes the body or parameters back.
const maxErrorLen = 400

func TestDecodeQuery(t *testing.T) {
	cases := []struct {
		raw  string
		ok   bool
		vars map[string]any
	}{
		{"query=%7Ba%7D", true, nil},
		{"query=%7Ba%7D&variables=%7B%22n%22%3A1%7D", true, map[string]any{"n": json.Number("1")}},
		{"query=%7Ba%7D&variables=null", true, nil},
		{"query=%7Ba%7D&variables=", true, nil},
		{"query=%7Ba%7D&variables=%5B1%5D", false, nil},                                               // [1]
		{"query=%7Ba%7D&variables=%7B%7D%7B%7D", false, nil},                                          // {}{}: two values
		{"query=%7Ba%7D&variables=%7B%7Dgarbage", false, nil},                                         // was accepted before
		{"query=%7Ba%7D&extensions=%22x%22", false, nil},                                              // "x"
		{"query=%7Ba%7D&variables=%7B%22a%22%3A", false, nil},                                         // cut off
		{"query=%zz", false, nil},                                                                     // not urlencoded
		{"query=%7Ba%7D&variables=%7B%22n%22%3A1%7D%20", true, map[string]any{"n": json.Number("1")}}, // trailing space
	}
	for _, c := range cases {
		p, err := decodeQuery(c.raw)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok=%v", c.raw, err, c.ok)
			continue
		}
		if err == nil && !reflect.DeepEqual(p.Variables, c.vars) {
			t.Errorf("%s: variables %#v, want %#v", c.raw, p.Variables, c.vars)
		}
	}
}

func TestDecodeBodyEchoesNothing(t *testing.T) {
	long := strings.Repeat("k", 10000)
	for _, body := range []string{
		`{"` + long + `": 1, "query": 2}`,
		`{"query": 1}`,
		`{"variables": {"` + long + `": 1}, "query": []}`,
	} {
		_, err := DecodeParams([]byte(body))
		if err == nil || len(err.Error()) > maxErrorLen {
			t.Errorf("%.40s: %.200v", body, err)
		}
	}
}

// FuzzDecodeBody: any POST body is a request or an error that says what is
// wrong in a few words (never echoing the body); a request decodes from
// valid JSON only, and encoding it again gives the same request.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"query": "{ shipments { totalCount } }"}`,
		`{"query": "query Q($id: ID!) { node(id: $id) { id } }", "operationName": "Q", "variables": {"id": "U2hpcG1lbnQ6MQ"}}`,
		`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`,
		`{"query": "{a}", "variables": null, "extensions": null, "operationName": null}`,
		`{"query": "{a}", "query": "{b}"}`,
		`{"query": "{a}"} {"query": "{b}"}`,
		`[{"query": "{a}"}, {"query": "{b}"}]`,
		`{"query": "{a}", "variables": {"n": 123456789012345678901234567890, "f": 1e400}}`,
		`{"query": "{a}", "variables": []}`,
		`{"query": 42}`,
		`{"query": "{a}"`,
		`{"query": "\u0000\ud800"}`,
		"{\"query\": \"\xff\xfe\"}",
		`{"headers": {"X": 1}, "query": "{a}", "QUERY": "{b}"}`,
		`null`, ``, `   `, `"query"`, `{}`,
		// Trusted documents by ID (apq.SetDocumentID).
		`{"id": "doc1", "variables": {"n": 9007199254740993}}`,
		`{"documentId": "doc1", "id": 7, "extensions": {"persistedQuery": {"version": 2}, "other": [1, 2]}}`,
		`{"id": "doc1", "extensions": null, "query": "{a}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodeParams(body)
		if err != nil {
			if p != nil {
				t.Fatal("a request and an error")
			}
			if msg := err.Error(); len(msg) > maxErrorLen || !utf8.ValidString(msg) {
				t.Fatalf("error message of %d bytes: %.500q", len(msg), msg)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		again, err := json.Marshal(map[string]any{
			"query": p.Query, "operationName": p.OperationName, "variables": p.Variables, "extensions": p.Extensions,
		})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := DecodeParams(again)
		if err != nil {
			t.Fatalf("re-encoded request refused: %v: %s", err, again)
		}
		if q.Query != p.Query || q.OperationName != p.OperationName ||
			!reflect.DeepEqual(q.Variables, p.Variables) || !reflect.DeepEqual(q.Extensions, p.Extensions) {
			t.Fatalf("round trip changed the request: %s", again)
		}
	})
}

// FuzzDecodeQuery: any GET query string is a request or a short error; the
// parameters a client encodes come back as sent, and variables are accepted
// exactly when they are one JSON object (or null).
func FuzzDecodeQuery(f *testing.F) {
	f.Add("query=%7Bshipments%7BtotalCount%7D%7D", "{ shipments { totalCount } }", `{"first": 1}`)
	f.Add("query=%7Ba%7D&variables=%7B%7D%7B%7D", "query($id: ID!) { node(id: $id) { id } }", `{"id": "x"}`)
	f.Add("extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1%2C%22sha256Hash%22%3A%22ab%22%7D%7D", "", `null`)
	f.Add("query=%zz&variables", "{a}", `[1]`)
	f.Add("query=a&query=b;c=d&&=&variables=%7B", "\x00\xff", `{"a": 1} x`)
	f.Add("", "", `{"n": 1e999, "s": "\ud800"}`)
	f.Add("id=doc1&extensions=null", "{a}", `{}`)
	f.Add("i%64=doc1&documentId=&extensions=%7B%22a%22%3A1%7D", "", `null`)
	f.Fuzz(func(t *testing.T, raw, query, variables string) {
		p, err := decodeQuery(raw)
		if err != nil {
			if msg := err.Error(); len(msg) > maxErrorLen || !utf8.ValidString(msg) {
				t.Fatalf("error message of %d bytes: %.500q", len(msg), msg)
			}
		} else if p == nil {
			t.Fatal("no request and no error")
		}

		v := url.Values{"query": {query}}
		if variables != "" {
			v.Set("variables", variables)
		}
		p, err = decodeQuery(v.Encode())
		// One JSON object or null, whitespace around it.
		trimmed := strings.Trim(variables, " \t\r\n")
		valid := variables == "" || json.Valid([]byte(variables)) && (strings.HasPrefix(trimmed, "{") || trimmed == "null")
		if valid != (err == nil) {
			t.Fatalf("variables %q: err %v, want accepted=%v", variables, err, valid)
		}
		if err == nil && p.Query != query {
			t.Fatalf("query %q came back as %q", query, p.Query)
		}
	})
}

// FuzzNegotiate: any Accept header picks one of the two media types or
// none, the same whether its ranges come in one header line or several, and
// a refusal is a 406 JSON error.
func FuzzNegotiate(f *testing.F) {
	for _, s := range [][2]string{
		{"application/graphql-response+json, application/json;q=0.9", ""},
		{"*/*", "text/html"},
		{"application/json;q=0", "*/*;q=0.5"},
		{"application/json; charset=iso-8859-1", "application/*;q=0.1"},
		{`text/html;x="a,b", application/json`, "garbage;;"},
		{"application/json;q=NaN", "application/graphql-response+json;q=1e-999"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		mt, ok := negotiate([]string{a, b})
		if ok != (mt != "") || ok && mt != JSON && mt != GraphQLResponse {
			t.Fatalf("%q, %q: %q %v", a, b, mt, ok)
		}
		if mt2, ok2 := negotiate([]string{a + "," + b}); mt2 != mt || ok2 != ok {
			t.Fatalf("%q, %q: %q as two lines, %q as one", a, b, mt, mt2)
		}
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.Header["Accept"] = []string{a, b}
		w := httptest.NewRecorder()
		if _, ok3 := (Protocol{}).Negotiate(w, r); ok3 != ok {
			t.Fatal("Negotiate and negotiate disagree")
		} else if !ok {
			var body struct {
				Errors []struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if w.Code != http.StatusNotAcceptable || json.Unmarshal(w.Body.Bytes(), &body) != nil ||
				len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "BAD_REQUEST" {
				t.Fatalf("406 answer: HTTP %d %s", w.Code, w.Body)
			}
		}
	})
}

// TestWriteResultNil: the executor's end of stream (nil) is a TIMEOUT, not
// a panic (it was a nil dereference answered 500 by the recover handler).
func TestWriteResultNil(t *testing.T) {
	w := httptest.NewRecorder()
	Format{mediaType: GraphQLResponse}.WriteResult(w, nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"TIMEOUT"`) {
		t.Errorf("HTTP %d %s", w.Code, w.Body)
	}
}
