package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// countingCache counts the parsed-query cache's lookups and additions: gqlgen
// adds a document once it has parsed and validated it, so adds counts the
// parses and validations that succeeded.
type countingCache struct {
	graphql.Cache[*ast.QueryDocument]
	gets, hits, adds atomic.Int64
}

func (c *countingCache) Get(ctx context.Context, key string) (*ast.QueryDocument, bool) {
	doc, ok := c.Cache.Get(ctx, key)
	c.gets.Add(1)
	if ok {
		c.hits.Add(1)
	}
	return doc, ok
}

func (c *countingCache) Add(ctx context.Context, key string, doc *ast.QueryDocument) {
	c.adds.Add(1)
	c.Cache.Add(ctx, key, doc)
}

// TestAPQParsesOnce: a persisted query sent as its hash over GET (as
// benchload's workload (d) sends it, operationName and variables in the URL)
// is parsed and validated once, when it is registered; every request after
// finds it in gqlgen's parsed-query cache, as the same document sent in full
// over POST does.
func TestAPQParsesOnce(t *testing.T) {
	mainDB, dolibarrDB := testutil.NewDatabase(t, testutil.SQLite), testutil.NewDolibarr(t, testutil.SQLite)
	a, err := New(context.Background(), testutil.Config(t, mainDB, dolibarrDB, "PERSISTED_QUERIES=apq", "CACHE_DRIVER=memory"),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := a.GraphQL()
	cache := &countingCache{Cache: boundedCache{lru.New[*ast.QueryDocument](10)}}
	srv.SetQueryCache(cache)
	const doc = "# a comment, as benchload sends them\nquery Kind($b: Boolean!) { __typename k: __typename @include(if: $b) n: __typename @skip(if: false) }\n"
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": apq.Hash(doc)}}
	vars := map[string]any{"b": true}
	do := func(req *http.Request) {
		t.Helper()
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body.Bytes())
		}
	}
	post := func(body map[string]any) *http.Request {
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	// Registered: parsed and validated once.
	do(post(map[string]any{"query": doc, "operationName": "Kind", "variables": vars, "extensions": ext}))
	if n := cache.adds.Load(); n != 1 {
		t.Fatalf("registration parsed and validated %d times, want 1", n)
	}
	extJSON, _ := json.Marshal(ext)
	varsJSON, _ := json.Marshal(vars)
	get := "/graphql?" + url.Values{"extensions": {string(extJSON)}, "variables": {string(varsJSON)}, "operationName": {"Kind"}}.Encode()
	const n = 20
	for range n {
		do(httptest.NewRequest(http.MethodGet, get, nil))
	}
	for range n {
		do(post(map[string]any{"query": doc, "operationName": "Kind", "variables": vars}))
	}
	if adds, gets, hits := cache.adds.Load(), cache.gets.Load(), cache.hits.Load(); adds != 1 || gets != 2*n+1 || hits != 2*n {
		t.Errorf("after %d hash GETs and %d full POSTs: %d parses and validations (want 1), %d cache lookups (want %d), %d hits (want %d)",
			n, n, adds, gets, 2*n+1, hits, 2*n)
	}
}
