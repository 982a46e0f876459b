package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// headerValue keeps what an HTTP client can send in a header value.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// escapeRequestTarget percent-encodes the bytes a request line cannot hold.
func escapeRequestTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// wireAnswer checks the answer to any request sent to /graphql: never a
// 5xx; a JSON body whose every error has a client code and shows no
// internals (what the request itself sent, in sent, may come back), or
// data; an empty body only for OPTIONS. It returns the answer's error codes.
func wireAnswer(t testing.TB, method string, sent []byte, status int, header http.Header, raw []byte) []string {
	t.Helper()
	if status >= 500 {
		t.Fatalf("HTTP %d: %.2000s", status, raw)
	}
	if method == http.MethodOptions && len(raw) == 0 && (status == http.StatusOK || status == http.StatusNoContent) {
		return nil
	}
	if !strings.Contains(header.Get("Content-Type"), "json") {
		t.Fatalf("HTTP %d %q: %.2000s", status, header.Get("Content-Type"), raw)
	}
	var body struct {
		Data   *json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("HTTP %d: not a JSON object: %v: %.2000s", status, err, raw)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(raw, &top)
	if _, hasData := top["data"]; !hasData && len(body.Errors) == 0 {
		t.Fatalf("HTTP %d: neither data nor errors: %.2000s", status, raw)
	}
	codes := make([]string, 0, len(body.Errors))
	for _, e := range body.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" || code == "INTERNAL" {
			t.Fatalf("HTTP %d: error without a client code: %.2000s", status, raw)
		}
		if leak := leaked(e.Message); leak != "" && !bytes.Contains(sent, []byte(leak)) {
			t.Fatalf("HTTP %d: message leaks %q: %s", status, leak, e.Message)
		}
		codes = append(codes, code)
	}
	return codes
}

// leaked returns what in msg looks like the server's internals: driver
// messages, SQL, file paths, stacks.
func leaked(msg string) string {
	for _, s := range []string{
		"goroutine ", ".go:", "panic", "runtime error", "sql:", "SQLSTATE", "Error 1", "pq:", "sqlite", "SELECT ", "INSERT ",
		"/root/", "/home/", "/tmp/", "/work/", "ent: ", "dial tcp", "syntax error at or near",
	} {
		if strings.Contains(msg, s) {
			return s
		}
	}
	return ""
}

// FuzzGraphQLHTTP sends arbitrary requests to /graphql through the whole
// handler (CORS, rate limits, CSRF, authentication, body limits, document
// IDs, the transports, APQ, the limits, execution): whatever the method,
// headers, query string and body, the answer is never a panic or a 5xx and
// is always JSON with data or errors that carry a client code.
func FuzzGraphQLHTTP(f *testing.F) {
	e := newEnv(f, testutil.SQLite, "HTTP_MAX_BODY_BYTES=65536", "HTTP_REQUEST_TIMEOUT=5s",
		"HTTP_CORS_ORIGINS=https://app.example.com")
	sh := e.create(createInput(activeCustomer, "UPS"))
	staff := e.key(auth.RoleStaff)
	q := func(doc string, vars map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
		return b
	}
	const (
		post    = 0 // method selectors: see methods
		get     = 1
		jsonCT  = "application/json"
		accGR   = "application/graphql-response+json, application/json;q=0.9"
		noExtra = 0 // extra header selectors: see the switch below
		origin  = 1 << 3
		authz   = 2 << 3
		reqID   = 3 << 3
	)
	seeds := []struct {
		method      uint8
		contentType string
		accept      string
		header      string
		body        []byte
		rawQuery    string
	}{
		{post, jsonCT, accGR, "", q(`{ shipments(first: 2) { totalCount edges { cursor node { id reference customer { name } } } } }`, nil), ""},
		{post, jsonCT, "", "", q(`query($r: String) { shipment(reference: $r) { id status events(first: 1) { totalCount } } }`, map[string]any{"r": sh.Reference}), ""},
		{post, jsonCT, accGR, "", q(`query($id: ID!) { node(id: $id) { id ... on Shipment { files { name } } } }`, map[string]any{"id": sh.ID}), ""},
		{post, jsonCT, accGR, "", q(`query($w: ShipmentWhereInput) { shipments(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"referenceContains": "'; DROP TABLE shipments; --", "carrierIn": []string{"%", "_", `\`}}}), ""},
		{post, jsonCT, accGR, "", q(`query($s: String) { customers(search: $s) { totalCount } }`, map[string]any{"s": "%' OR 1=1 --"}), ""},
		{post, jsonCT, accGR, "", q(`mutation($id: ID!) { cancelShipment(id: $id, reason: "fuzz") { status } }`, map[string]any{"id": sh.ID}), ""},
		{post, jsonCT, accGR, "", []byte(`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`), ""},
		{post, jsonCT, accGR, "", []byte(`{"id": "doc1", "variables": {"n": 1}}`), ""},
		{post, jsonCT, accGR, "", []byte(`[{"query": "{ __typename }"}]`), ""},
		{post, jsonCT, accGR, "", []byte(`{"query": "{ __typename }"`), ""},
		{post, jsonCT, accGR, "", []byte(`{"query": "{ __typename }", "query": "{ shipments { totalCount } }"}`), ""},
		{post, jsonCT, accGR, "", []byte("{\"query\": \"{ __typename \xff }\"}"), ""},
		{post, jsonCT, accGR, "", []byte(`{"query": "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"}`), ""},
		{post, jsonCT, accGR, "", []byte(`{"query": "subscription { shipmentEvents { cursor } }"}`), ""},
		{post, "text/plain", accGR, "", q(`{ __typename }`, nil), ""},
		{post, "application/json; charset=latin1", "", "", q(`{ __typename }`, nil), ""},
		{post, "multipart/form-data; boundary=x", "", "", []byte("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--"), ""},
		{post, jsonCT, "text/html", "", q(`{ __typename }`, nil), ""},
		{get, "", accGR, "", nil, "query=%7B__typename%7D"},
		{get, "", accGR, "", nil, "query=mutation%7BcancelShipment(id:%22x%22)%7Bid%7D%7D"},
		{get, "", accGR, "", nil, "id=doc1&extensions=null"},
		{get, "", "", "", nil, "query=%7B__typename%7D&variables=%7B%7Dx&operationName=%00"},
		{get, "", "", "", nil, "query=%zz"},
		{2, "", "", "", nil, ""}, // OPTIONS
		{3, jsonCT, "", "", q(`{ __typename }`, nil), ""},
		{post | origin, jsonCT, "", "https://app.example.com", q(`{ __typename }`, nil), ""},
		{2 | origin, "", "", "https://evil.example.com", nil, ""},
		{post | authz, jsonCT, "", "Bearer sa_nope_nope", q(`{ __typename }`, nil), ""},
		{post | authz, jsonCT, "", "Basic dXNlcjpwYXNz", q(`{ __typename }`, nil), ""},
		{post | authz, jsonCT, "", "Bearer eyJhbGciOiJub25lIn0.e30.", q(`{ __typename }`, nil), ""},
		{post | reqID, jsonCT, "", "../../etc/passwd", q(`{ __typename }`, nil), ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.contentType, s.accept, s.header, s.body, s.rawQuery)
	}
	methods := []string{http.MethodPost, http.MethodGet, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, "PROPFIND"}
	client := &http.Client{Timeout: 20 * time.Second}
	f.Fuzz(func(t *testing.T, method uint8, contentType, accept, header string, body []byte, rawQuery string) {
		m := methods[int(method&7)]
		if m == http.MethodHead {
			m = http.MethodGet // a HEAD answer has no body to check
		}
		u, err := url.Parse(e.gql.URL() + "/graphql")
		if err != nil {
			t.Fatal(err)
		}
		// What cannot stand in a request line is escaped: a raw space would
		// be Go's server's plain-text 400, before the app.
		u.RawQuery = escapeRequestTarget(rawQuery)
		req, err := http.NewRequest(m, u.String(), bytes.NewReader(body))
		if err != nil {
			return
		}
		accept = headerValue(accept)
		if strings.Contains(strings.ToLower(accept), "event-stream") {
			return // Server-Sent Events: a stream, not a JSON answer
		}
		req.Header.Set("Authorization", "Bearer "+staff)
		req.Header.Set("GraphQL-Require-Preflight", "1")
		if contentType = headerValue(contentType); contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		header = headerValue(header)
		switch method >> 3 & 3 {
		case 1:
			req.Header.Set("Origin", header)
		case 2:
			req.Header.Set("Authorization", header)
		case 3:
			req.Header.Set("X-Request-ID", header)
		}
		if method&0x20 != 0 {
			req.Header.Del("GraphQL-Require-Preflight")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", m, u, err)
		}
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatalf("read the answer: %v", err)
		}
		sent := append(append([]byte(rawQuery+"\n"+header+"\n"), body...), []byte(accept)...)
		wireAnswer(t, m, sent, resp.StatusCode, resp.Header, raw)
	})
}
