package app_test

import (
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestResponseHead: what GraphQL code adds to a response's head reaches it
// through the edge's typed response head (no http.ResponseWriter in the
// context): a mutation's read-your-writes cookie, a persisted-query miss's
// Cache-Control; a query sets no cookie.
func TestResponseHead(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "PERSISTED_QUERIES=apq", "CACHE_DRIVER=memory")
	r := e.gql.Do(createMutation, map[string]any{"input": createInput(activeCustomer, "DHL")})
	if len(r.Errors) > 0 {
		t.Fatalf("create: %s", r.Raw)
	}
	if c := r.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "shipmentapp_rw=") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("mutation: Set-Cookie %q", c)
	}
	if r := e.gql.Do(`{ shipments(first: 1) { totalCount } }`, nil); r.Header.Get("Set-Cookie") != "" {
		t.Errorf("query: Set-Cookie %q", r.Header.Get("Set-Cookie"))
	}
	miss := e.gql.RawH("POST", "/graphql", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+apq.Hash("{ nope }")+`"}}}`))
	if miss.Header.Get("Cache-Control") != "private, no-cache, must-revalidate" {
		t.Errorf("miss: Cache-Control %q: %s", miss.Header.Get("Cache-Control"), miss.Raw)
	}
}
