package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// The hostile-input corpus (issue 10, item 4): documents, variables, bodies
// and URLs built to hurt a GraphQL server, each of which must get a clean
// answer — the expected HTTP status and a stable extensions.code, no
// internals in the messages, nothing echoed back in bulk — while the
// process's memory stays bounded. Figures: docs/RELIABILITY.md, "Hostile
// input".

// hostileBodyLimit is HTTP_MAX_BODY_BYTES for the corpus: above the default
// (1 MiB) so that the 10 MiB variable and the 100,000-item list reach
// GraphQL rather than stop at the body limit.
const hostileBodyLimit = 16 << 20

// hostileHeapBound is what the peak heap of the whole corpus must stay
// under (measured: see docs/RELIABILITY.md).
const hostileHeapBound = 256 << 20

type hostileCase struct {
	name   string
	method string            // POST when empty
	query  string            // the raw query string of the URL
	ctype  string            // Content-Type; application/json when empty, "-" for none
	header map[string]string // more headers
	body   func() []byte     // built when the case runs
	chunk  bool              // send the body without a Content-Length
	status int
	code   string // the first error's code; "" means data and no errors
	// plain: the answer comes from Go's HTTP server itself, before the app
	// (431 for a request line over MaxHeaderBytes): text, not JSON.
	plain bool
}

func hostileBody(doc string, vars map[string]any) func() []byte {
	return func() []byte {
		b, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
		if err != nil {
			panic(err)
		}
		return b
	}
}

func rawBody(s string) func() []byte { return func() []byte { return []byte(s) } }

// bombDoc is a fragment bomb: n fragments on typ, each spreading the next
// twice (2^n expansions), the last selecting leaf; root selects the first.
func bombDoc(root, typ string, n int, leaf string) string {
	var b strings.Builder
	b.WriteString(strings.Replace(root, "SPREAD", "...F0", 1))
	for i := range n {
		fmt.Fprintf(&b, "\nfragment F%d on %s { ...F%d ...F%d }", i, typ, i+1, i+1)
	}
	fmt.Fprintf(&b, "\nfragment F%d on %s { %s }", n, typ, leaf)
	return b.String()
}

// nestedJSON is {"not": {"not": ... {"reference": "x"} ...}}, n levels.
func nestedJSON(n int) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(strings.Repeat(`{"not":`, n))
	b.WriteString(`{"reference":"x"}`)
	b.WriteString(strings.Repeat(`}`, n))
	return b.Bytes()
}

func hostileCases(shipmentID string) []hostileCase {
	const count = `{ totalCount }`
	strs := func(n int, s string) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = s
		}
		return l
	}
	ors := func(n int) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = map[string]any{"referenceContains": fmt.Sprintf("R%d", i)}
		}
		return l
	}
	deepReal := func(levels int) string { // 4 levels per turn, real fields
		turns := levels / 4
		return "{" + strings.Repeat(" shipments(first: 1) { edges { node { customer {", turns) + " id" + strings.Repeat(" } } } }", turns) + " }"
	}
	return []hostileCase{
		// Documents.
		{name: "depth 10,000 nesting", body: hostileBody("{"+strings.Repeat(" a {", 10000)+" b"+strings.Repeat(" }", 10000)+" }", nil), status: 400, code: "GRAPHQL_PARSE_FAILED"}, // the parser's nesting limit of 1,000
		{name: "depth 200 of real fields", body: hostileBody(deepReal(200), nil), status: 400, code: "QUERY_TOO_DEEP"},
		{name: "10,000 aliases", body: hostileBody("{"+func() string {
			var b strings.Builder
			for i := range 10000 {
				fmt.Fprintf(&b, " a%d: __typename", i)
			}
			return b.String()
		}()+" }", nil), status: 400, code: "TOO_MANY_TOKENS"},
		{name: "900 aliases", body: hostileBody("{"+func() string {
			var b strings.Builder
			for i := range 900 {
				fmt.Fprintf(&b, " a%d: __typename", i)
			}
			return b.String()
		}()+" }", nil), status: 400, code: "TOO_MANY_ALIASES"},
		{name: "100,000-field wide selection", body: hostileBody("{"+strings.Repeat(" __typename", 100000)+" }", nil), status: 400, code: "TOO_MANY_TOKENS"},
		{name: "9,000 fields (within the token limit)", body: hostileBody("{"+strings.Repeat(" __typename", 9000)+" }", nil), status: 400, code: "TOO_MANY_FIELDS"},
		{name: "1,000 repeated fields (at the document limit)", body: hostileBody("{ shipments(first: 1) { edges { node {"+strings.Repeat(" reference", 996)+" } } } }", nil), status: 200},
		{name: "fragment cycle, direct", body: hostileBody(`{ ...A } fragment A on Query { __typename ...A }`, nil), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "fragment cycle, indirect", body: hostileBody(`{ ...A } fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { __typename ...A }`, nil), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "fragment cycle through fields", body: hostileBody(`{ shipments { edges { node { ...S } } } } fragment S on Shipment { customer { ...C } } fragment C on Customer { shipments { edges { node { ...S } } } }`, nil), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "fragment bomb at the root (2^40 spreads)", body: hostileBody(bombDoc("{ SPREAD }", "Query", 40, "__typename"), nil), status: 400, code: "TOO_MANY_ROOT_FIELDS"},
		{name: "fragment bomb of aliases (2^40)", body: hostileBody(bombDoc("{ shipments { edges { node { SPREAD } } } }", "Shipment", 40, "r: reference"), nil), status: 400, code: "TOO_MANY_ALIASES"},
		{name: "fragment bomb of one field (2^40, merged)", body: hostileBody(bombDoc("{ shipments(first: 5) { edges { node { SPREAD } } } }", "Shipment", 40, "reference"), nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "fragment bomb of __schema (2^40)", body: hostileBody(bombDoc("{ SPREAD }", "Query", 40, "__schema { types { name } }"), nil), status: 400, code: "TOO_MANY_ROOT_FIELDS"},
		{name: "fragment bomb of 2^8, merged", body: hostileBody(bombDoc("{ shipments(first: 5) { edges { node { SPREAD } } } }", "Shipment", 8, "reference"), nil), status: 200},
		{name: "2^12 overlapping fields to merge", body: hostileBody(bombDoc("{ shipments(first: 5) { edges { node { SPREAD } } } }", "Shipment", 12, "reference status customer { name } events(first: 1) { totalCount }"), nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "directives on every field", body: hostileBody("{"+strings.Repeat(" __typename @skip(if: false) @include(if: true)", 600)+" }", nil), status: 400, code: "TOO_MANY_ROOT_FIELDS"},
		{name: "3,000 operations in one document", body: hostileBody(func() string {
			var b strings.Builder
			for i := range 3000 {
				fmt.Fprintf(&b, "query Q%d { __typename } ", i)
			}
			return b.String()
		}(), nil), status: 400, code: "TOO_MANY_TOKENS"},
		{name: "unknown operationName", body: rawBody(`{"query": "query A { __typename }", "operationName": "B"}`), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "several operations, no operationName", body: rawBody(`{"query": "query A { __typename } query B { __typename }"}`), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "subscription over POST", body: hostileBody(`subscription { shipmentEvents { cursor } }`, nil), status: 400, code: "BAD_REQUEST"},
		{name: "introspection of a deep type chain", body: hostileBody(`{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }`, nil), status: 200},

		// Variables.
		{name: "10 MiB string variable", body: hostileBody(`query($s: String) { shipments(where: {referenceContains: $s}) `+count+` }`, map[string]any{"s": strings.Repeat("x", 10<<20)}), status: 400, code: "BAD_USER_INPUT"},
		{name: "60 KB search pattern", body: hostileBody(`query($s: String) { shipments(where: {carrierContainsFold: $s}) `+count+` }`, map[string]any{"s": strings.Repeat("%_", 30000)}), status: 400, code: "BAD_USER_INPUT"},
		{name: "100,000-element list variable", body: hostileBody(`query($l: [String!]) { shipments(where: {referenceIn: $l}) `+count+` }`, map[string]any{"l": strs(100000, "SHP-1")}), status: 400, code: "BAD_USER_INPUT"},
		{name: "100,000 IDs", body: hostileBody(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": strs(100000, shipmentID)}), status: 400, code: "BAD_USER_INPUT"},
		{name: "500 IN values (at the limit)", body: hostileBody(`query($l: [String!]) { shipments(where: {referenceIn: $l}) `+count+` }`, map[string]any{"l": strs(500, "'; DROP TABLE shipments; --")}), status: 200},
		{name: "500 OR branches (at the limit)", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": map[string]any{"or": ors(500)}}), status: 200},
		{name: "1,000 OR branches", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": map[string]any{"or": ors(1000)}}), status: 400, code: "BAD_USER_INPUT"},
		{name: "20 ORs of 500 ANDs (10,000 values)", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": map[string]any{"or": func() []any {
			l := make([]any, 20)
			for i := range l {
				l[i] = map[string]any{"and": ors(500)}
			}
			return l
		}()}}), status: 200},
		{name: "input object nested 30 deep (within the limit)", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": nestedJSON(30)}), status: 200},
		{name: "input object nested 5,000 deep", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": nestedJSON(5000)}), status: 400, code: "BAD_USER_INPUT"},
		{name: "input object nested 500 deep in the document", body: hostileBody(`{ shipments(where: `+strings.Repeat("{not: ", 500)+`{reference: "x"}`+strings.Repeat("}", 500)+`) `+count+` }`, nil), status: 400, code: "BAD_USER_INPUT"},
		{name: "JSON nested 100,000 deep", body: func() []byte {
			return append(append([]byte(`{"query": "query($w: ShipmentWhereInput) { shipments(where: $w) { totalCount } }", "variables": {"w": `), nestedJSON(100000)...), "}}"...)
		}, status: 400, code: "BAD_REQUEST"},
		{name: "and/or nested 2,000 deep", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": func() any {
			var w any = map[string]any{"reference": "x"}
			for i := range 2000 {
				w = map[string]any{[]string{"and", "or"}[i%2]: []any{w}}
			}
			return w
		}()}), status: 400, code: "BAD_USER_INPUT"},
		{name: "wrong variable type: string for Int", body: hostileBody(`query($f: Int) { shipments(first: $f) `+count+` }`, map[string]any{"f": "ten"}), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "wrong variable type: object for String", body: hostileBody(`query($s: String) { shipment(reference: $s) { id } }`, map[string]any{"s": map[string]any{"$gt": ""}}), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "wrong variable type: list for ID", body: hostileBody(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": []any{shipmentID}}), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "wrong variable type: unknown input field", body: hostileBody(`query($w: ShipmentWhereInput) { shipments(where: $w) `+count+` }`, map[string]any{"w": map[string]any{"reference; DROP TABLE shipments": "x"}}), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable declared with an unknown type", body: hostileBody(`query($w: NoSuchType) { __typename }`, map[string]any{"w": 1}), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "null for non-null", body: hostileBody(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": nil}), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "missing non-null variable", body: hostileBody(`query($id: ID!) { node(id: $id) { id } }`, nil), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "huge integer variable", body: rawBody(`{"query": "query($f: Int) { shipments(first: $f) { totalCount } }", "variables": {"f": 123456789012345678901234567890}}`), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "huge integer literal", body: hostileBody(`{ shipments(first: 123456789012345678901234567890) `+count+` }`, nil), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "float beyond float64 for Int", body: rawBody(`{"query": "query($f: Int) { shipments(first: $f) { totalCount } }", "variables": {"f": 1e400}}`), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "fractional Int", body: rawBody(`{"query": "query($f: Int) { shipments(first: $f) { totalCount } }", "variables": {"f": 1.5}}`), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		// gqlgen's Int is Go's int, not 32 bits: the complexity of first: 2^31 refuses it.
		{name: "Int at 2^31", body: rawBody(`{"query": "query($f: Int) { shipments(first: $f) { totalCount } }", "variables": {"f": 2147483648}}`), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "negative Int at -2^31", body: rawBody(`{"query": "query($f: Int) { shipments(first: $f) { totalCount } }", "variables": {"f": -2147483648}}`), status: 200, code: "BAD_USER_INPUT"},
		{name: "time far beyond year 9999", body: hostileBody(`query($t: Time) { shipments(where: {createdAtGT: $t}) `+count+` }`, map[string]any{"t": "99999-01-01T00:00:00Z"}), status: 200, code: "BAD_USER_INPUT"},

		// Bodies.
		{name: "malformed JSON", body: rawBody(`{"query": "{ __typename }",,}`), status: 400, code: "BAD_REQUEST"},
		{name: "truncated JSON", body: rawBody(`{"query": "{ shipments { totalCount } }", "variables": {"a": [1, 2`), status: 400, code: "BAD_REQUEST"},
		{name: "truncated in a string", body: rawBody(`{"query": "{ shipments { totalC`), status: 400, code: "BAD_REQUEST"},
		{name: "JSON with duplicate keys (the last wins)", body: rawBody(`{"query": "{ nope }", "query": "{ __typename }"}`), status: 200},
		{name: "JSON with duplicate variables", body: rawBody(`{"query": "query($f: Int) { shipments(first: $f) { totalCount } }", "variables": {"f": 1000, "f": 1}}`), status: 200},
		{name: "batching array", body: rawBody(`[{"query": "{ __typename }"}, {"query": "{ __typename }"}]`), status: 400, code: "BAD_REQUEST"},
		{name: "10,000-request batch", body: func() []byte {
			return []byte("[" + strings.TrimSuffix(strings.Repeat(`{"query": "{ shipments { totalCount } }"},`, 10000), ",") + "]")
		}, status: 400, code: "BAD_REQUEST"},
		{name: "JSON string, not an object", body: rawBody(`"{ __typename }"`), status: 400, code: "BAD_REQUEST"},
		{name: "empty body", body: rawBody(``), status: 400, code: "BAD_REQUEST"},
		{name: "BOM before the JSON", body: rawBody("\xef\xbb\xbf{\"query\": \"{ __typename }\"}"), status: 400, code: "BAD_REQUEST"},
		{name: "invalid UTF-8 in the query", body: rawBody("{\"query\": \"{ __typename \xff\xfe }\"}"), status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "invalid UTF-8 in a variable", body: rawBody("{\"query\": \"query($s: String) { shipment(reference: $s) { id } }\", \"variables\": {\"s\": \"SHP-\xff\xfe\xc0\xaf\"}}"), status: 200},
		{name: "lone surrogate escape in a variable", body: rawBody(`{"query": "query($s: String) { shipment(reference: $s) { id } }", "variables": {"s": "\ud800\udfff\ud800"}}`), status: 200},
		{name: "NUL byte in the query", body: rawBody(`{"query": "{ __typename \u0000 }"}`), status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "NUL byte in a variable", body: hostileBody(`query($s: String) { shipment(reference: $s) { id } }`, map[string]any{"s": "SHP\x00'; DROP TABLE shipments; --"}), status: 400, code: "BAD_USER_INPUT"},
		{name: "NUL byte in a filter literal", body: hostileBody(`{ shipments(where: {carrierContains: "\u0000"}) `+count+` }`, nil), status: 400, code: "BAD_USER_INPUT"},
		{name: "raw NUL bytes in the body", body: rawBody("{\"query\": \"{ __typename }\"}\x00\x00"), status: 400, code: "BAD_REQUEST"},
		{name: "wrong Content-Type text/xml", ctype: "text/xml", body: rawBody(`<query>{ __typename }</query>`), status: 415, code: "BAD_REQUEST"},
		{name: "wrong Content-Type application/graphql", ctype: "application/graphql", header: map[string]string{"GraphQL-Require-Preflight": "1"}, body: rawBody(`{ __typename }`), status: 415, code: "BAD_REQUEST"},
		{name: "JSON in UTF-16", ctype: "application/json; charset=utf-16", body: rawBody("{\x00\"\x00q\x00\"\x00}\x00"), status: 415, code: "BAD_REQUEST"},
		{name: "form-encoded without a preflight header", ctype: "application/x-www-form-urlencoded", body: rawBody(`query=%7B__typename%7D`), status: 400, code: "CSRF_PREVENTED"},
		{name: "no Content-Type", ctype: "-", body: hostileBody(`{ __typename }`, nil), status: 400, code: "CSRF_PREVENTED"},
		{name: "malformed Content-Type", ctype: `application/json; charset="`, body: hostileBody(`{ __typename }`, nil), status: 400, code: "CSRF_PREVENTED"},
		{name: "multipart without a boundary", ctype: "multipart/form-data", header: map[string]string{"GraphQL-Require-Preflight": "1"}, body: rawBody(`x`), status: 400, code: "BAD_USER_INPUT"},
		{name: "oversize body (Content-Length)", body: func() []byte { return bytes.Repeat([]byte(" "), hostileBodyLimit+1) }, status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "oversize body (chunked)", chunk: true, body: func() []byte { return bytes.Repeat([]byte(" "), hostileBodyLimit+1) }, status: 413, code: "REQUEST_TOO_LARGE"},

		// GET.
		{name: "GET with a 60 KB URL", method: http.MethodGet, query: "query=" + url.QueryEscape("{"+strings.Repeat(" __typename", 5000)+" }"), status: 400, code: "TOO_MANY_FIELDS"},
		{name: "GET with a 100 KB URL (over MaxHeaderBytes)", method: http.MethodGet, query: "query=" + strings.Repeat("%20", 34000) + "%7B__typename%7D", status: 431, plain: true},
		{name: "GET with invalid UTF-8 in the query", method: http.MethodGet, query: "query=%7B__typename%FF%7D", status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "GET with a NUL in variables", method: http.MethodGet, query: "query=" + url.QueryEscape(`query($s: String) { shipment(reference: $s) { id } }`) + "&variables=" + url.QueryEscape(`{"s": "\u0000"}`), status: 400, code: "BAD_USER_INPUT"},
		{name: "GET with a broken escape", method: http.MethodGet, query: "query=%7B__typename%7&variables=%", status: 400, code: "BAD_REQUEST"},
		{name: "GET with variables and garbage after", method: http.MethodGet, query: "query=" + url.QueryEscape(`query($n: Int) { shipments(first: $n) { totalCount } }`) + "&variables=" + url.QueryEscape(`{"n": 1} {"n": 2}`), status: 400, code: "BAD_REQUEST"},
		{name: "GET with a document id and extensions=null", method: http.MethodGet, query: "id=doc1&extensions=null", status: 400, code: "PERSISTED_QUERY_NOT_FOUND"},
		{name: "GET mutation", method: http.MethodGet, query: "query=" + url.QueryEscape(`mutation { cancelShipment(id: "`+shipmentID+`") { id } }`), status: 405, code: "BAD_REQUEST"},
	}
}

// memoryPeak samples the Go runtime's memory until stop is called and keeps
// the peaks: over the whole run, and since the last mark.
type memoryPeak struct {
	mu                  sync.Mutex
	heap, sys, caseHeap uint64
	stop                chan struct{}
	done                chan struct{}
}

func sampleMemory(every time.Duration) *memoryPeak {
	m := &memoryPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			m.mu.Lock()
			m.heap = max(m.heap, ms.HeapInuse)
			m.sys = max(m.sys, ms.Sys)
			m.caseHeap = max(m.caseHeap, ms.HeapInuse)
			m.mu.Unlock()
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// mark returns the peak heap since the last mark and starts a new one.
func (m *memoryPeak) mark() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mu.Lock()
	m.caseHeap = max(m.caseHeap, ms.HeapInuse)
	defer m.mu.Unlock()
	p := m.caseHeap
	m.caseHeap = 0
	return p
}

func (m *memoryPeak) end() (heap, sys uint64) {
	close(m.stop)
	<-m.done
	return m.heap, m.sys
}

const mib = 1 << 20

// TestHostileInput runs the corpus against the app on SQLite, through a real
// HTTP server with the production server's MaxHeaderBytes, sampling memory.
func TestHostileInput(t *testing.T) {
	e := newEnv(t, testutil.SQLite, fmt.Sprintf("HTTP_MAX_BODY_BYTES=%d", hostileBodyLimit), "HTTP_REQUEST_TIMEOUT=10s")
	sh := e.create(createInput(activeCustomer, "UPS"))
	srv := httptest.NewUnstartedServer(e.app.Handler)
	srv.Config.MaxHeaderBytes = 64 << 10 // as server.go
	srv.Start()
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second}

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	mem := sampleMemory(2 * time.Millisecond)
	var figures []string
	cases := hostileCases(sh.ID)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			var body []byte
			if c.body != nil {
				body = c.body()
			}
			var rd io.Reader = bytes.NewReader(body)
			if c.chunk {
				rd = io.MultiReader(rd) // no length: sent chunked
			}
			req, err := http.NewRequest(method, srv.URL+"/graphql?"+c.query, rd)
			if err != nil {
				t.Fatal(err)
			}
			if c.code != "CSRF_PREVENTED" { // a forgery carries no credentials header
				req.Header.Set("Authorization", "Bearer "+e.adminKey)
			}
			req.Header.Set("Accept", acceptGR)
			switch {
			case method == http.MethodGet:
				req.Header.Set("GraphQL-Require-Preflight", "1")
			case c.ctype == "":
				req.Header.Set("Content-Type", "application/json")
			case c.ctype != "-":
				req.Header.Set("Content-Type", c.ctype)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%v", err)
			}
			raw, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			var code string
			if c.plain {
				if resp.StatusCode != c.status {
					t.Errorf("HTTP %d, want %d: %.300s", resp.StatusCode, c.status, raw)
				}
			} else {
				sent := []byte(c.query)
				if len(body) < 1<<20 { // the big ones hold nothing a message could leak
					sent = append(sent, body...)
				}
				codes := wireAnswer(t, method, sent, resp.StatusCode, resp.Header, raw)
				if len(codes) > 0 {
					code = codes[0]
				}
				if resp.StatusCode != c.status || code != c.code {
					t.Errorf("HTTP %d %q, want %d %q: %.600s", resp.StatusCode, code, c.status, c.code, raw)
				}
				if c.code == "" && !bytes.Contains(raw, []byte(`"data":{`)) {
					t.Errorf("no data: %.600s", raw)
				}
			}
			// Refusals are short: the input is never echoed back.
			if c.code != "" && len(raw) > 4096 {
				t.Errorf("an answer of %d bytes: %.300s", len(raw), raw)
			}
			body = nil
			if took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			peak := mem.mark()
			figures = append(figures, fmt.Sprintf("%-60s HTTP %d %-26s %6d ms %5.1f MiB", c.name, resp.StatusCode, code, took.Milliseconds(), float64(peak)/mib))
		})
	}
	heap, sys := mem.end()

	// Still alive and serving, and nothing was written.
	var out struct {
		Shipments struct {
			TotalCount int `json:"totalCount"`
		} `json:"shipments"`
	}
	e.gql.MustData(`{ shipments { totalCount } }`, nil, &out)
	if out.Shipments.TotalCount != 1 {
		t.Errorf("%d shipments after the corpus, want 1", out.Shipments.TotalCount)
	}
	for _, f := range figures {
		t.Log(f)
	}
	t.Logf("%d inputs; heap in use %.1f MiB before, peak %.1f MiB; peak Sys %.1f MiB (bound %d MiB)",
		len(cases), float64(base.HeapInuse)/mib, float64(heap)/mib, float64(sys)/mib, hostileHeapBound/mib)
	if path := os.Getenv("HOSTILE_FIGURES"); path != "" {
		line, _ := json.Marshal(map[string]any{"inputs": len(cases), "baseHeapMiB": base.HeapInuse / mib, "peakHeapMiB": heap / mib, "peakSysMiB": sys / mib, "cases": figures})
		_ = os.WriteFile(path, append(line, '\n'), 0o644)
	}
	if heap > hostileHeapBound {
		t.Errorf("peak heap in use %.1f MiB, over the bound of %d MiB", float64(heap)/mib, hostileHeapBound/mib)
	}
}

// sqlMeta are SQL, LIKE, shell and path metacharacters: sent in every string
// filter, they are values, never syntax.
var sqlMeta = []string{
	`'; DROP TABLE shipments; --`, `' OR '1'='1`, `" OR ""="`, `' OR 1=1 #`, `1; SELECT pg_sleep(5)`,
	`'||(SELECT version())||'`, `' UNION SELECT secret_hash FROM api_keys --`, `%' --`, `\'; DROP TABLE files; --`,
	`%`, `_`, `%%`, `\`, `\%`, `\_`, `[a-z]*`, `*`, `?`, `$1`, `:name`, `@@version`, `'`, `"`, "`", `;`, `--`, `/*`, `*/`,
	`../../etc/passwd`, `..\..\windows\win.ini`, `/etc/passwd`, `%2e%2e%2f`, `file:///etc/passwd`, `$(id)`, `| id`,
	"\x1a", "\t\r\n", "ʼ OR 1=1", "😀", `\\'`, `0x27`, `CHAR(39)`,
}

// hostileCarrier holds many of sqlMeta's characters, so they must match it.
const hostileCarrier = `O'Brien "Express" 100%_\ ;--`

type filterRow struct{ reference, carrier, serviceLevel string }

// filterPredicates: a ShipmentWhereInput field and what it means on a row.
var filterPredicates = []struct {
	field string
	match func(r filterRow, s string) bool
}{
	{"reference", func(r filterRow, s string) bool { return r.reference == s }},
	{"referenceContains", func(r filterRow, s string) bool { return strings.Contains(r.reference, s) }},
	{"referenceHasPrefix", func(r filterRow, s string) bool { return strings.HasPrefix(r.reference, s) }},
	{"referenceContainsFold", func(r filterRow, s string) bool {
		return strings.Contains(strings.ToLower(r.reference), strings.ToLower(s))
	}},
	{"carrier", func(r filterRow, s string) bool { return r.carrier == s }},
	{"carrierContains", func(r filterRow, s string) bool { return strings.Contains(r.carrier, s) }},
	{"carrierHasSuffix", func(r filterRow, s string) bool { return strings.HasSuffix(r.carrier, s) }},
	{"carrierEqualFold", func(r filterRow, s string) bool { return strings.EqualFold(r.carrier, s) }},
	{"carrierContainsFold", func(r filterRow, s string) bool {
		return strings.Contains(strings.ToLower(r.carrier), strings.ToLower(s))
	}},
	{"serviceLevelContains", func(r filterRow, s string) bool { return strings.Contains(r.serviceLevel, s) }},
}

// TestHostileFilters sends sqlMeta in every kind of string filter on each
// database: each filter matches exactly the rows that hold the string (none,
// for most), nothing errs, and every table keeps its rows. File names with
// path metacharacters are stored sanitized and download.
func TestHostileFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		var rows []filterRow
		for _, carrier := range []string{"UPS", "DHL", hostileCarrier} {
			in := createInput(activeCustomer, carrier)
			in["serviceLevel"] = "../../etc/passwd"
			s := e.create(in)
			rows = append(rows, filterRow{s.Reference, s.Carrier, "../../etc/passwd"})
		}
		hostile := e.create(createInput(activeCustomer, "GLS")) // for the files
		rows = append(rows, filterRow{hostile.Reference, "GLS", "Express"})

		db := e.db.Open(t)
		count := func(table string) int {
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			return n
		}
		keys := count("api_keys")

		doc := `query($w: ShipmentWhereInput) { shipments(where: $w, first: 100) { totalCount } }`
		for _, m := range sqlMeta {
			for _, p := range filterPredicates {
				want, wantFold := 0, 0
				for _, r := range rows {
					if p.match(r, m) {
						want++
					}
					// MariaDB compares case-insensitively: count both ways.
					if p.match(filterRow{strings.ToLower(r.reference), strings.ToLower(r.carrier), strings.ToLower(r.serviceLevel)}, strings.ToLower(m)) {
						wantFold++
					}
				}
				for _, w := range []map[string]any{{p.field: m}, {"or": []any{map[string]any{p.field: m}}}, {"not": map[string]any{"not": map[string]any{p.field: m}}}} {
					r := e.gql.Do(doc, map[string]any{"w": w})
					if len(r.Errors) > 0 || r.Status != http.StatusOK {
						t.Fatalf("%s %q: HTTP %d %s", p.field, m, r.Status, r.Raw)
					}
					var out struct {
						Shipments struct{ TotalCount int } `json:"shipments"`
					}
					_ = json.Unmarshal(r.Data, &out)
					if got := out.Shipments.TotalCount; got != want && got != wantFold {
						t.Errorf("%s %q matched %d shipments, want %d", p.field, m, got, want)
					}
				}
			}
			// A list filter, the lookup by reference and a cancel reason.
			r := e.gql.Do(`query($l: [String!], $s: String!) { shipments(where: {carrierIn: $l, cancelReasonContains: $s}) { totalCount } shipment(reference: $s) { id } }`,
				map[string]any{"l": []string{m, "UPS"}, "s": m})
			if len(r.Errors) > 0 || r.Status != http.StatusOK || !bytes.Contains(r.Raw, []byte(`"shipment":null`)) {
				t.Fatalf("%q: HTTP %d %s", m, r.Status, r.Raw)
			}
			// Customers: search (name, alias or code) and where on the city.
			r = e.gql.Do(`query($s: String) { customers(search: $s, first: 100) { totalCount } byCity: customers(where: {cityContainsFold: $s}) { totalCount } }`, map[string]any{"s": m})
			if len(r.Errors) > 0 || r.Status != http.StatusOK {
				t.Fatalf("customers %q: HTTP %d %s", m, r.Status, r.Raw)
			}
		}

		t.Logf("%d strings, %d filter requests", len(sqlMeta), len(sqlMeta)*(3*len(filterPredicates)+2))

		// File names with path and SQL metacharacters.
		for _, name := range []string{"../../etc/passwd.pdf", `..\..\evil.pdf`, "'; DROP TABLE files; --.pdf", "/abs/path.pdf", "%2e%2e%2fx.pdf", "a\x00b.pdf", "😀.pdf"} {
			r := upload(e.gql, hostile.ID, "LABEL", name, samplePDF)
			if r.Status >= 500 || len(r.Errors) > 0 && r.Errors[0].Code() != "BAD_USER_INPUT" {
				t.Fatalf("upload %q: HTTP %d %s", name, r.Status, r.Raw)
			}
			if len(r.Errors) > 0 {
				continue
			}
			f := uploaded(t, r)
			if strings.ContainsAny(f.Name, "/\\\x00") {
				t.Errorf("%q stored as %q", name, f.Name)
			}
			resp, got := e.fetch(f.URL, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, samplePDF) {
				t.Errorf("%q: download HTTP %d, %d bytes", name, resp.StatusCode, len(got))
			}
		}
		for _, k := range e.objects() {
			if strings.Contains(k, "..") || strings.HasPrefix(k, "/") {
				t.Errorf("object key %q", k)
			}
		}

		// Every table still has its rows.
		for table, want := range map[string]int{"shipments": len(rows), "api_keys": keys, "files": e.fileRows()} {
			if n := count(table); n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
		var out struct {
			Shipments struct{ TotalCount int } `json:"shipments"`
		}
		e.gql.MustData(`{ shipments { totalCount } }`, nil, &out)
		if out.Shipments.TotalCount != len(rows) {
			t.Errorf("%d shipments, want %d", out.Shipments.TotalCount, len(rows))
		}
	})
}
