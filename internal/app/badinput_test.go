package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		s := e.create(createInput(activeCustomer, "UPS"))
		tooLong := strings.Repeat("x", 300)
		cases := []struct {
			name  string
			query string
			vars  map[string]any
			code  string
			field string // extensions.field, when the error names one
		}{
			{"cursor not base64", `{ shipments(after: "%%%") { totalCount } }`, nil, "BAD_USER_INPUT", ""},
			{"cursor not a cursor", `{ shipments(after: "aGVsbG8") { totalCount } }`, nil, "BAD_USER_INPUT", ""},
			{"cursor in variables", `query($c: Cursor) { shipments(after: $c) { totalCount } }`, map[string]any{"c": "not-a-cursor"}, "BAD_USER_INPUT", ""},
			{"negative first", `{ shipments(first: -1) { totalCount } }`, nil, "BAD_USER_INPUT", "first"},
			{"oversize first", `{ shipments(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT", "first"},
			{"oversize last", `{ shipments(last: 1000) { totalCount } }`, nil, "BAD_USER_INPUT", "last"},
			{"first and last", `{ shipments(first: 1, last: 1) { totalCount } }`, nil, "BAD_USER_INPUT", "last"},
			{"oversize nested first", `query($r: String) { shipment(reference: $r) { events(first: 500) { totalCount } } }`, map[string]any{"r": s.Reference}, "BAD_USER_INPUT", "first"},
			{"oversize customers first", `{ customers(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT", "first"},
			{"int overflow", `{ shipments(first: 99999999999999999999) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED", ""},
			{"malformed ID", `{ node(id: "!!not-an-id!!") { id } }`, nil, "BAD_USER_INPUT", ""},
			{"ID of an unknown type", `{ node(id: "V2lkZ2V0OjE") { id } }`, nil, "BAD_USER_INPUT", ""}, // Widget:1
			{"customer ID for a shipment", `query($id: ID) { shipment(id: $id) { id } }`, map[string]any{"id": customerID(1)}, "BAD_USER_INPUT", "id"},
			{"shipment ID for a customer", `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": s.ID}, "BAD_USER_INPUT", "id"},
			{"shipment ID as customerId", createMutation, map[string]any{"input": func() map[string]any {
				in := createInput(1, "UPS")
				in["customerId"] = s.ID
				return in
			}()}, "BAD_USER_INPUT", "input.customerId"},
			{"neither id nor reference", `{ shipment { id } }`, nil, "BAD_USER_INPUT", "id"},
			{"both id and reference", `query($id: ID) { shipment(id: $id, reference: "x") { id } }`, map[string]any{"id": s.ID}, "BAD_USER_INPUT", "id"},
			{"unknown enum literal", `{ shipments(where: {status: FLYING}) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED", ""},
			{"unknown enum variable", `query($s: ShipmentStatus) { shipments(where: {status: $s}) { totalCount } }`, map[string]any{"s": "FLYING"}, "GRAPHQL_VALIDATION_FAILED", ""},
			{"bad time variable", `query($t: Time) { shipments(where: {createdAtGT: $t}) { totalCount } }`, map[string]any{"t": "yesterday"}, "BAD_USER_INPUT", ""},
			{"unknown field", `{ shipments { nope } }`, nil, "GRAPHQL_VALIDATION_FAILED", ""},
			{"syntax error", `{ shipments { `, nil, "GRAPHQL_PARSE_FAILED", ""},
			{"too many nodes", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": func() []string {
				ids := make([]string, 101)
				for i := range ids {
					ids[i] = s.ID
				}
				return ids
			}()}, "BAD_USER_INPUT", "ids"},
			{"search too long", `query($q: String) { customers(search: $q) { totalCount } }`, map[string]any{"q": tooLong}, "BAD_USER_INPUT", "search"},
			{"empty carrier", createMutation, map[string]any{"input": func() map[string]any {
				in := createInput(1, " ")
				return in
			}()}, "BAD_USER_INPUT", "input.carrier"},
			{"bad country and weight", createMutation, map[string]any{"input": func() map[string]any {
				in := createInput(1, "UPS")
				in["destination"] = address("Paris", "France")
				in["parcels"] = []any{map[string]any{"weightGrams": 0, "lengthMm": 1, "widthMm": 1, "heightMm": 1}}
				return in
			}()}, "BAD_USER_INPUT", "input.destination.countryCode"},
			{"no parcels", createMutation, map[string]any{"input": func() map[string]any {
				in := createInput(1, "UPS")
				in["parcels"] = []any{}
				return in
			}()}, "BAD_USER_INPUT", "input.parcels"},
			{"bad reference", createMutation, map[string]any{"input": func() map[string]any {
				in := createInput(1, "UPS")
				in["reference"] = "no spaces allowed"
				return in
			}()}, "BAD_USER_INPUT", "input.reference"},
			{"bad email", createMutation, map[string]any{"input": func() map[string]any {
				in := createInput(1, "UPS")
				o := address("Paris", "FR")
				o["email"] = "not an email"
				in["origin"] = o
				return in
			}()}, "BAD_USER_INPUT", "input.origin.email"},
			{"empty update", `mutation($id: ID!) { updateShipment(id: $id, version: 1, input: {}) { id } }`, map[string]any{"id": s.ID}, "BAD_USER_INPUT", "input"},
			{"missing required input", `mutation { createShipment(input: {carrier: "UPS"}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.gql.Do(c.query, c.vars)
				if len(r.Errors) == 0 {
					t.Fatalf("want an error, got HTTP %d %s", r.Status, r.Raw)
				}
				if got := r.Errors[0].Code(); got != c.code {
					t.Fatalf("code = %s, want %s: %s", got, c.code, r.Raw)
				}
				if c.field != "" && r.Errors[0].Extensions["field"] != c.field {
					t.Errorf("field = %v, want %s: %s", r.Errors[0].Extensions["field"], c.field, r.Raw)
				}
				if r.Status >= 500 {
					t.Errorf("HTTP %d for bad input", r.Status)
				}
				for _, leak := range []string{"sql", "ent:", "goroutine", "SELECT", "panic"} {
					if strings.Contains(r.Errors[0].Message, leak) {
						t.Errorf("message leaks internals (%q): %s", leak, r.Errors[0].Message)
					}
				}
			})
		}

		// The database is unchanged by all of the above.
		var count struct {
			Shipments struct {
				TotalCount int `json:"totalCount"`
			} `json:"shipments"`
		}
		e.gql.MustData(`{ shipments { totalCount } }`, nil, &count)
		if count.Shipments.TotalCount != 1 {
			t.Errorf("bad inputs wrote data: %d shipments", count.Shipments.TotalCount)
		}
	})
}

func TestBadHTTPRequests(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "HTTP_MAX_BODY_BYTES=4096")
	cases := []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
	}{
		{"malformed JSON", http.MethodPost, "application/json", `{"query": "{ shipments { totalCount } }"`, http.StatusBadRequest},
		{"JSON of the wrong shape", http.MethodPost, "application/json", `["query"]`, http.StatusBadRequest},
		// Not a well-formed GraphQL-over-HTTP request: 400 whatever the
		// media type (the draft; gqlgen said 422).
		{"no query", http.MethodPost, "application/json", `{}`, http.StatusBadRequest},
		{"body over the limit", http.MethodPost, "application/json", `{"query": "` + strings.Repeat(" ", 8192) + `{ shipments { totalCount } }"}`, http.StatusRequestEntityTooLarge},
		// The GraphQL over HTTP draft's 415 and 405 (gqlgen said 400 and 406).
		{"unsupported content type", http.MethodPost, "text/xml", `<query/>`, http.StatusUnsupportedMediaType},
		{"mutation over GET", http.MethodGet, "", "", http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/graphql"
			if c.method == http.MethodGet {
				path += "?query=" + strings.ReplaceAll(`mutation { cancelShipment(id: "U2hpcG1lbnQ6MQ") { id } }`, " ", "%20")
			}
			h := map[string]string{"GraphQL-Require-Preflight": "1"}
			if c.contentType != "" {
				h["Content-Type"] = c.contentType
			}
			r := e.gql.RawH(c.method, path, h, []byte(c.body))
			if r.Status != c.status {
				t.Errorf("HTTP %d, want %d: %s", r.Status, c.status, r.Raw)
			}
			if strings.Contains(string(r.Raw), "goroutine") || strings.Contains(string(r.Raw), ".go:") {
				t.Errorf("response leaks internals: %s", r.Raw)
			}
		})
	}
}
