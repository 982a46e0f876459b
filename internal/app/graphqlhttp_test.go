package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// The wire format of /graphql (internal/gqlhttp): media types, status codes
// and the data entry, rule by rule, through the whole HTTP stack.

const (
	mtGR   = "application/graphql-response+json; charset=utf-8"
	mtJSON = "application/json; charset=utf-8"
	// acceptGR is what a client of the draft sends.
	acceptGR = "application/graphql-response+json, application/json;q=0.9"
)

// The data entry of a response.
const (
	dataAny     = iota // not checked (not a GraphQL response)
	dataAbsent         // nothing ran: the GraphQL spec leaves data out
	dataPresent        // the operation ran (partial or null data included)
	dataNull           // gqlgen's "data": null (GRAPHQL_HTTP_LEGACY)
)

type wireCase struct {
	name    string
	method  string
	query   url.Values        // GET parameters
	headers map[string]string // besides the admin key
	body    string
	status  int
	ctype   string // exact Content-Type
	data    int
	code    string // extensions.code of the first error ("" for none)
	allow   string // Allow header, when it must be set
}

func (c wireCase) run(t *testing.T, gql *testutil.Client) *testutil.Response {
	t.Helper()
	path := "/graphql"
	if c.query != nil {
		path += "?" + c.query.Encode()
	}
	r := gql.RawH(c.method, path, c.headers, []byte(c.body))
	if r.Status != c.status || r.Header.Get("Content-Type") != c.ctype {
		t.Fatalf("HTTP %d %q, want %d %q: %s", r.Status, r.Header.Get("Content-Type"), c.status, c.ctype, r.Raw)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Raw, &top); err != nil {
		t.Fatalf("not a JSON object: %s", r.Raw)
	}
	data, has := top["data"]
	switch {
	case c.data == dataAbsent && has,
		c.data == dataPresent && (!has || string(data) == "null" && len(r.Errors) == 0),
		c.data == dataNull && string(data) != "null":
		t.Errorf("data entry: %s", r.Raw)
	}
	var code string
	if len(r.Errors) > 0 {
		code = r.Errors[0].Code()
	}
	if code != c.code {
		t.Errorf("code %q, want %q: %s", code, c.code, r.Raw)
	}
	if c.allow != "" && r.Header.Get("Allow") != c.allow {
		t.Errorf("Allow %q, want %q", r.Header.Get("Allow"), c.allow)
	}
	return r
}

// jsonPost returns the headers of a JSON POST: Content-Type:
// application/json, Accept when accept is not empty, then the name/value
// pairs of more (which may replace either).
func jsonPost(accept string, more ...string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	if accept != "" {
		h["Accept"] = accept
	}
	for i := 0; i+1 < len(more); i += 2 {
		h[more[i]] = more[i+1]
	}
	return h
}

// getHeaders returns the headers of a GET: the preflight header the CSRF
// rule asks of GETs, and Accept when accept is not empty.
func getHeaders(accept string) map[string]string {
	h := map[string]string{"GraphQL-Require-Preflight": "1"}
	if accept != "" {
		h["Accept"] = accept
	}
	return h
}

func TestGraphQLOverHTTP(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	sh := e.create(createInput(activeCustomer, "UPS"))
	const (
		ok         = `{"query": "{ shipments(first: 1) { totalCount } }"}`
		parseFail  = `{"query": "{"}`
		validFail  = `{"query": "{ noSuchField }"}`
		coerceFail = `{"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": null}}`
		noOp       = `{"query": "query A { __typename } query B { __typename }", "operationName": "C"}`
		fieldError = `{"query": "{ node(id: \"not an id\") { id } }"}`
		apqMiss    = `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0000000000000000000000000000000000000000000000000000000000000000"}}}`
	)
	post := http.MethodPost
	get := http.MethodGet
	cases := []wireCase{
		// Media types.
		{name: "no Accept: application/json", method: post, headers: jsonPost(""), body: ok, status: 200, ctype: mtJSON, data: dataPresent},
		{name: "Accept application/json", method: post, headers: jsonPost("application/json"), body: ok, status: 200, ctype: mtJSON, data: dataPresent},
		{name: "Accept graphql-response+json", method: post, headers: jsonPost(acceptGR), body: ok, status: 200, ctype: mtGR, data: dataPresent},
		{name: "Accept */*: application/json", method: post, headers: jsonPost("*/*"), body: ok, status: 200, ctype: mtJSON, data: dataPresent},
		{name: "Accept of nothing we write: 406", method: post, headers: jsonPost("text/html"), body: ok, status: 406, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "request in UTF-8", method: post, headers: jsonPost(acceptGR, "Content-Type", "application/json; charset=utf-8"), body: `{"query": "{ __type(name: \"Run🏃Swim🏊\") { name } }"}`, status: 200, ctype: mtGR, data: dataPresent},

		// Request errors (nothing ran): 400 and no data for the draft's
		// media type, 200 and no data for application/json.
		{name: "parse failure, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: parseFail, status: 400, ctype: mtGR, data: dataAbsent, code: "GRAPHQL_PARSE_FAILED"},
		{name: "parse failure, json", method: post, headers: jsonPost(""), body: parseFail, status: 200, ctype: mtJSON, data: dataAbsent, code: "GRAPHQL_PARSE_FAILED"},
		{name: "validation failure, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: validFail, status: 400, ctype: mtGR, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "validation failure, json", method: post, headers: jsonPost("application/json"), body: validFail, status: 200, ctype: mtJSON, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion failure, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: coerceFail, status: 400, ctype: mtGR, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion failure, json", method: post, headers: jsonPost(""), body: coerceFail, status: 200, ctype: mtJSON, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operationName, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: noOp, status: 400, ctype: mtGR, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operationName, json", method: post, headers: jsonPost(""), body: noOp, status: 200, ctype: mtJSON, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "persisted query miss, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: apqMiss, status: 400, ctype: mtGR, data: dataAbsent, code: "PERSISTED_QUERY_NOT_FOUND"},
		// Apollo's APQ clients retry on this 200.
		{name: "persisted query miss, json", method: post, headers: jsonPost(""), body: apqMiss, status: 200, ctype: mtJSON, data: dataAbsent, code: "PERSISTED_QUERY_NOT_FOUND"},

		// The operation ran: 200 with data, field errors or not.
		{name: "field error, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: fieldError, status: 200, ctype: mtGR, data: dataPresent, code: "BAD_USER_INPUT"},
		{name: "field error, json", method: post, headers: jsonPost(""), body: fieldError, status: 200, ctype: mtJSON, data: dataPresent, code: "BAD_USER_INPUT"},

		// Not well-formed GraphQL-over-HTTP requests: 400 for both.
		{name: "malformed JSON, graphql-response+json", method: post, headers: jsonPost(acceptGR), body: `{"query": "{ __typename }"`, status: 400, ctype: mtGR, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "malformed JSON, json", method: post, headers: jsonPost(""), body: `{ "not a JSON`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "empty body", method: post, headers: jsonPost(""), body: ``, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "no query", method: post, headers: jsonPost(acceptGR), body: `{"qeury": "{ __typename }"}`, status: 400, ctype: mtGR, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "query not a string", method: post, headers: jsonPost(""), body: `{"query": {"obj": "ect"}}`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "operationName not a string", method: post, headers: jsonPost(""), body: `{"query": "{ __typename }", "operationName": 0}`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "variables not an object", method: post, headers: jsonPost(""), body: `{"query": "{ __typename }", "variables": [7]}`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "extensions not an object", method: post, headers: jsonPost(""), body: `{"query": "{ __typename }", "extensions": "x"}`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "batch", method: post, headers: jsonPost(""), body: `[{"query": "{ __typename }"}]`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "two JSON values", method: post, headers: jsonPost(""), body: `{"query": "{ __typename }"} {}`, status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "null parameters are absent ones", method: post, headers: jsonPost(acceptGR), body: `{"query": "{ __typename }", "operationName": null, "variables": null, "extensions": null}`, status: 200, ctype: mtGR, data: dataPresent},

		// Other media types and methods.
		{name: "text/plain: 415", method: post, headers: jsonPost("", "Content-Type", "text/plain", "GraphQL-Require-Preflight", "1"), body: ok, status: 415, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "no Content-Type: 415", method: post, headers: map[string]string{"GraphQL-Require-Preflight": "1", "Accept": acceptGR}, body: ok, status: 415, ctype: mtGR, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "JSON in another charset: 415", method: post, headers: jsonPost("", "Content-Type", "application/json; charset=iso-8859-1"), body: ok, status: 415, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "application/graphql: 415", method: post, headers: jsonPost("", "Content-Type", "application/graphql"), body: `{ __typename }`, status: 415, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "PUT: 405", method: http.MethodPut, headers: jsonPost(""), body: ok, status: 405, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST", allow: "GET, POST, OPTIONS"},
		{name: "DELETE: 405", method: http.MethodDelete, headers: getHeaders(acceptGR), status: 405, ctype: mtGR, data: dataAbsent, code: "BAD_REQUEST", allow: "GET, POST, OPTIONS"},
		// The CSRF rule still comes first.
		{name: "text/plain without a preflight header: CSRF", method: post, headers: map[string]string{"Content-Type": "text/plain"}, body: ok, status: 400, ctype: "application/json", code: "CSRF_PREVENTED"},

		// GET.
		{name: "GET query, json", method: get, query: url.Values{"query": {"{ shipments { totalCount } }"}}, headers: getHeaders(""), status: 200, ctype: mtJSON, data: dataPresent},
		{name: "GET query, graphql-response+json", method: get, query: url.Values{"query": {"query Q($n: Int) { shipments(first: $n) { totalCount } }"}, "variables": {`{"n": 1}`}, "operationName": {"Q"}}, headers: getHeaders(acceptGR), status: 200, ctype: mtGR, data: dataPresent},
		{name: "GET mutation: 405, Allow: POST", method: get, query: url.Values{"query": {`mutation { cancelShipment(id: "` + sh.ID + `", reason: "GET") { id status } }`}}, headers: getHeaders(acceptGR), status: 405, ctype: mtGR, data: dataAbsent, code: "BAD_REQUEST", allow: "POST"},
		{name: "GET mutation, json: 405", method: get, query: url.Values{"query": {"mutation { __typename }"}}, headers: getHeaders(""), status: 405, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST", allow: "POST"},
		{name: "GET mutation named by operationName: 405", method: get, query: url.Values{"query": {"query Q { __typename } mutation M { __typename }"}, "operationName": {"M"}}, headers: getHeaders(""), status: 405, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST", allow: "POST"},
		{name: "GET query of a document with a mutation", method: get, query: url.Values{"query": {"query Q { __typename } mutation M { __typename }"}, "operationName": {"Q"}}, headers: getHeaders(""), status: 200, ctype: mtJSON, data: dataPresent},
		{name: "GET validation failure, graphql-response+json", method: get, query: url.Values{"query": {"{ noSuchField }"}}, headers: getHeaders(acceptGR), status: 400, ctype: mtGR, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "GET validation failure, json", method: get, query: url.Values{"query": {"{ noSuchField }"}}, headers: getHeaders(""), status: 200, ctype: mtJSON, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "GET without query", method: get, query: url.Values{}, headers: getHeaders(acceptGR), status: 400, ctype: mtGR, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "GET variables not JSON", method: get, query: url.Values{"query": {"{ __typename }"}, "variables": {"{oops"}}, headers: getHeaders(""), status: 400, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "GET Accept of nothing we write: 406", method: get, query: url.Values{"query": {"{ __typename }"}}, headers: getHeaders("text/html"), status: 406, ctype: mtJSON, data: dataAbsent, code: "BAD_REQUEST"},
		{name: "GET without a preflight header: CSRF", method: get, query: url.Values{"query": {"{ __typename }"}}, status: 400, ctype: "application/json", code: "CSRF_PREVENTED"},
		{name: "GET with credentials and no preflight header", method: get, query: url.Values{"query": {"{ __typename }"}}, status: 200, ctype: mtJSON, data: dataPresent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gql := e.gql
			if c.code == "CSRF_PREVENTED" {
				gql = e.gql.Anonymous() // a forgery carries no credentials header
			}
			r := c.run(t, gql)
			if c.ctype != "application/json" && !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Accept") {
				t.Errorf("Vary %q lacks Accept", r.Header.Values("Vary"))
			}
		})
	}

	// The mutation sent over GET did not run.
	var got struct {
		Node struct {
			Status string `json:"status"`
		} `json:"node"`
	}
	e.gql.MustData(`query($id: ID!) { node(id: $id) { ... on Shipment { status } } }`, map[string]any{"id": sh.ID}, &got)
	if got.Node.Status == "CANCELLED" {
		t.Error("a mutation sent over GET ran")
	}

	t.Run("persisted query over GET", func(t *testing.T) {
		const doc = `{ shipments { totalCount } }`
		ext := `{"persistedQuery": {"version": 1, "sha256Hash": "` + apq.Hash(doc) + `"}}`
		miss := wireCase{method: get, query: url.Values{"extensions": {ext}}, headers: getHeaders(acceptGR), status: 400, ctype: mtGR, data: dataAbsent, code: "PERSISTED_QUERY_NOT_FOUND"}
		if r := miss.run(t, e.gql); r.Header.Get("Cache-Control") != "private, no-cache, must-revalidate" {
			t.Errorf("a miss is cacheable: Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		miss.headers, miss.status, miss.ctype = getHeaders(""), 200, mtJSON
		miss.run(t, e.gql)
		register := wireCase{method: get, query: url.Values{"query": {doc}, "extensions": {ext}}, headers: getHeaders(acceptGR), status: 200, ctype: mtGR, data: dataPresent}
		register.run(t, e.gql)
		hit := wireCase{method: get, query: url.Values{"extensions": {ext}}, headers: getHeaders(acceptGR), status: 200, ctype: mtGR, data: dataPresent}
		hit.run(t, e.gql)
		hit.headers, hit.ctype = getHeaders(""), mtJSON
		hit.run(t, e.gql)
	})

	t.Run("uploads", func(t *testing.T) {
		file := testutil.File{Var: "variables.f", Name: "label.pdf", ContentType: "application/pdf", Body: samplePDF}
		vars := map[string]any{"s": sh.ID, "k": "LABEL", "f": nil}
		r := e.gql.WithHeader("Accept", acceptGR).Upload(uploadOneMutation, vars, file)
		if r.Status != 200 || r.Header.Get("Content-Type") != mtGR || len(r.Errors) > 0 {
			t.Errorf("upload, graphql-response+json: HTTP %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
		r = e.gql.Upload(uploadOneMutation, vars, file)
		if r.Status != 200 || r.Header.Get("Content-Type") != mtJSON || len(r.Errors) > 0 {
			t.Errorf("upload, json: HTTP %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
		bad := `mutation($s: ID!, $f: Upload!) { uploadShipmentFile(shipmentId: $s, kind: NOPE, file: $f) { id } }`
		r = e.gql.WithHeader("Accept", acceptGR).Upload(bad, map[string]any{"s": sh.ID, "f": nil}, file)
		if r.Status != 400 || r.Header.Get("Content-Type") != mtGR || strings.Contains(string(r.Raw), `"data"`) || len(r.Errors) == 0 || r.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("invalid upload, graphql-response+json: HTTP %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
		r = e.gql.Upload(bad, map[string]any{"s": sh.ID, "f": nil}, file)
		if r.Status != 200 || r.Header.Get("Content-Type") != mtJSON || strings.Contains(string(r.Raw), `"data"`) {
			t.Errorf("invalid upload, json: HTTP %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
		r = e.gql.WithHeader("Accept", "text/html").Upload(uploadOneMutation, vars, file)
		if r.Status != 406 || len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_REQUEST" {
			t.Errorf("upload, Accept text/html: HTTP %d %s", r.Status, r.Raw)
		}
		// A refusal of the upload transport itself comes in the negotiated type.
		body, ct := testutil.Multipart(t, testutil.Part{Name: "map", Body: []byte(`{}`)})
		r = e.gql.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct, "Apollo-Require-Preflight": "1", "Accept": acceptGR}, body)
		if r.Status != 400 || r.Header.Get("Content-Type") != mtGR || len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("malformed upload, graphql-response+json: HTTP %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
	})
}

// TestGraphQLOverHTTPLegacy: GRAPHQL_HTTP_LEGACY=true answers application/json
// clients as gqlgen v0.17 did; clients of the draft's media type see no change.
func TestGraphQLOverHTTPLegacy(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "GRAPHQL_HTTP_LEGACY=true")
	const legacyJSON = "application/json"
	post := http.MethodPost
	for _, c := range []wireCase{
		{name: "result", method: post, headers: jsonPost(""), body: `{"query": "{ __typename }"}`, status: 200, ctype: legacyJSON, data: dataPresent},
		{name: "parse failure: 422, data null", method: post, headers: jsonPost(""), body: `{"query": "{"}`, status: 422, ctype: legacyJSON, data: dataNull, code: "GRAPHQL_PARSE_FAILED"},
		{name: "validation failure: 422, data null", method: post, headers: jsonPost("application/json"), body: `{"query": "{ noSuchField }"}`, status: 422, ctype: legacyJSON, data: dataNull, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "persisted query miss: 200, data null", method: post, headers: jsonPost(""), body: `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0000000000000000000000000000000000000000000000000000000000000000"}}}`, status: 200, ctype: legacyJSON, data: dataNull, code: "PERSISTED_QUERY_NOT_FOUND"},
		{name: "Accept of nothing we write: application/json anyway", method: post, headers: jsonPost("text/html"), body: `{"query": "{ __typename }"}`, status: 200, ctype: legacyJSON, data: dataPresent},
		{name: "graphql-response+json unchanged", method: post, headers: jsonPost(acceptGR), body: `{"query": "{ noSuchField }"}`, status: 400, ctype: mtGR, data: dataAbsent, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "GET mutation: still 405", method: http.MethodGet, query: url.Values{"query": {"mutation { __typename }"}}, headers: getHeaders(""), status: 405, ctype: legacyJSON, data: dataAbsent, code: "BAD_REQUEST", allow: "POST"},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, e.gql) })
	}
}
