package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestOperationLimits(t *testing.T) {
	e := newEnv(t, testutil.SQLite,
		"GRAPHQL_MAX_DEPTH=6", "GRAPHQL_MAX_ALIASES=3", "GRAPHQL_MAX_ROOT_FIELDS=4", "GRAPHQL_MAX_COMPLEXITY=50")
	cases := []struct {
		name, query, code string
	}{
		{"depth 6", `{ shipments(first: 1) { edges { node { customer { country { code } } } } } }`, ""},
		{"depth 7", `{ shipments(first: 1) { edges { node { events { edges { node { status } } } } } } }`, "QUERY_TOO_DEEP"},
		{"depth 7 through a fragment", `{ shipments(first: 1) { edges { node { ...F } } } } fragment F on Shipment { events { edges { node { status } } } }`, "QUERY_TOO_DEEP"},
		{"3 aliases", `{ a: shipments(first: 1) { totalCount } b: shipments(first: 1) { totalCount } c: shipments(first: 1) { totalCount } }`, ""},
		{"4 aliases", `{ a: shipments(first: 1) { totalCount } b: shipments(first: 1) { totalCount } c: shipments(first: 1) { totalCount } shipments(first: 1) { d: totalCount } }`, "TOO_MANY_ALIASES"},
		{"4 root fields", `{ shipments(first: 1) { totalCount } customers(first: 1) { totalCount } a: shipments(first: 1) { totalCount } b: customers(first: 1) { totalCount } }`, ""},
		{"5 root fields", `{ shipments(first: 1) { totalCount } customers(first: 1) { totalCount } a: shipments(first: 1) { totalCount } b: customers(first: 1) { totalCount } ...Q } fragment Q on Query { c: node(id: "U2hpcG1lbnQ6MQ") { id } }`, "TOO_MANY_ROOT_FIELDS"},
		// A connection costs 1 + (cost of its children) x (page size).
		{"complexity 50", `{ shipments(first: 49) { totalCount } }`, ""},
		{"complexity 51", `{ shipments(first: 50) { totalCount } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"complexity grows with nested pages", `{ customers(first: 5) { edges { node { shipments(first: 5) { totalCount } } } } }`, ""},
		{"complexity of nested pages over", `{ customers(first: 10) { edges { node { shipments(first: 10) { totalCount } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.gql.Do(c.query, nil)
			if c.code == "" {
				if len(r.Errors) > 0 {
					t.Fatalf("refused: %s", r.Raw)
				}
				return
			}
			if len(r.Errors) != 1 || r.Errors[0].Code() != c.code || r.Status == http.StatusOK && r.Data != nil && string(r.Data) != "null" {
				t.Fatalf("want only %s: HTTP %d %s", c.code, r.Status, r.Raw)
			}
		})
	}
}

func TestTokenLimit(t *testing.T) {
	doc := `{ shipments(first: 1) { totalCount edges { node { reference status } } } }`
	tokens := 0
	lx := lexer.New(&ast.Source{Input: doc})
	for {
		tok, err := lx.ReadToken()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == lexer.EOF {
			break
		}
		tokens++
	}
	for _, c := range []struct {
		limit int
		ok    bool
	}{{tokens, true}, {tokens - 1, false}} {
		e := newEnv(t, testutil.SQLite, fmt.Sprintf("GRAPHQL_MAX_TOKENS=%d", c.limit))
		r := e.gql.Do(doc, nil)
		if c.ok && len(r.Errors) > 0 {
			t.Errorf("%d tokens with a limit of %d: %s", tokens, c.limit, r.Raw)
		}
		if !c.ok && (len(r.Errors) == 0 || r.Errors[0].Code() != "TOO_MANY_TOKENS") {
			t.Errorf("%d tokens with a limit of %d: %s", tokens, c.limit, r.Raw)
		}
	}
}

func TestCSRFPrevention(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	q := `{ shipments { totalCount } }`
	get := "/graphql?query=" + strings.ReplaceAll(q, " ", "%20")
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		blocked bool
	}{
		{"GET", http.MethodGet, get, nil, "", true},
		{"GET with Apollo-Require-Preflight", http.MethodGet, get, map[string]string{"Apollo-Require-Preflight": "true"}, "", false},
		{"GET with X-Apollo-Operation-Name", http.MethodGet, get, map[string]string{"X-Apollo-Operation-Name": "Q"}, "", false},
		{"GET with GraphQL-Require-Preflight", http.MethodGet, get, map[string]string{"GraphQL-Require-Preflight": "1"}, "", false},
		{"GET with an empty preflight header", http.MethodGet, get, map[string]string{"Apollo-Require-Preflight": ""}, "", true},
		{"POST text/plain", http.MethodPost, "/graphql", map[string]string{"Content-Type": "text/plain"}, `{"query":"` + q + `"}`, true},
		{"POST text/plain; charset", http.MethodPost, "/graphql", map[string]string{"Content-Type": "text/plain; charset=utf-8"}, `{"query":"` + q + `"}`, true},
		{"POST form", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "query=" + q, true},
		{"POST multipart", http.MethodPost, "/graphql", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "--x--", true},
		{"POST without a content type", http.MethodPost, "/graphql", nil, `{"query":"` + q + `"}`, true},
		{"POST JSON", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, `{"query":"` + q + `"}`, false},
		{"POST graphql-response+json", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{"query":"` + q + `"}`, false},
		// Credentials in a header a browser preflights cross-site (urql's GETs).
		{"GET with Authorization: Bearer", http.MethodGet, get, map[string]string{"Authorization": "Bearer " + e.adminKey}, "", false},
		{"GET with X-API-Key", http.MethodGet, get, map[string]string{"X-API-Key": e.adminKey}, "", false},
		{"GET with Authorization: Basic", http.MethodGet, get, map[string]string{"Authorization": "Basic dTpw"}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A forgery carries no credentials header (a browser cannot add
			// one cross-site without a preflight): the blocked cases are
			// anonymous unless they name one; the others send the key.
			gql := e.gql
			if c.blocked || c.headers["Authorization"] != "" || c.headers["X-API-Key"] != "" {
				gql = e.gql.Anonymous()
			}
			r := gql.RawH(c.method, c.path, c.headers, []byte(c.body))
			csrf := len(r.Errors) > 0 && r.Errors[0].Code() == "CSRF_PREVENTED"
			if csrf != c.blocked || (c.blocked && r.Status != http.StatusBadRequest) {
				t.Errorf("blocked=%v, want %v: HTTP %d %s", csrf, c.blocked, r.Status, r.Raw)
			}
			if !c.blocked && r.Status != http.StatusOK {
				t.Errorf("HTTP %d: %s", r.Status, r.Raw)
			}
		})
	}
}

func TestSuggestionsAndRequestIDInProduction(t *testing.T) {
	dev := newEnv(t, testutil.SQLite)
	if r := dev.gql.Do(`{ shipmnts { totalCount } }`, nil); !strings.Contains(string(r.Raw), "Did you mean") {
		t.Errorf("development should suggest: %s", r.Raw)
	}

	mainDB := testutil.NewDatabase(t, testutil.SQLite)
	cfg := testutil.Config(t, mainDB, testutil.NewDolibarr(t, testutil.SQLite), "APP_ENV=production", "APP_URL=https://api.example.com", "FILE_SIGNING_KEY=0123456789abcdef0123456789abcdef")
	migrateUp(t, mainDB, cfg.DB.Connection)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	gql := testutil.NewClient(t, a.Handler).As(newKey(t, a, auth.RoleAdmin))
	r := gql.Do(`{ shipmnts { totalCount } }`, nil)
	if len(r.Errors) == 0 || strings.Contains(string(r.Raw), "Did you mean") || strings.Contains(string(r.Raw), "shipments") {
		t.Errorf("production must not suggest field names: %s", r.Raw)
	}
	_ = a.Client.Close()
	r = gql.Do(`{ shipments { totalCount } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "INTERNAL" || r.Errors[0].Extensions["requestId"] == nil ||
		r.Errors[0].Extensions["requestId"] != r.Header.Get("X-Request-ID") {
		t.Errorf("INTERNAL error with the request id %q: %s", r.Header.Get("X-Request-ID"), r.Raw)
	}
}

// introspectionQuery is GraphiQL's (graphql-js getIntrospectionQuery): the
// default limits must let the playground load the schema.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

func TestDefaultLimitsAllowThePlayground(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	var out struct {
		Schema struct {
			Types []struct{ Name string }
		} `json:"__schema"`
	}
	e.gql.MustData(introspectionQuery, nil, &out)
	if len(out.Schema.Types) < 20 {
		t.Errorf("introspection: %d types", len(out.Schema.Types))
	}
	// And the README's nested list at the maximum page size.
	e.gql.MustData(nestedQuery, map[string]any{"n": 100}, nil)
}
