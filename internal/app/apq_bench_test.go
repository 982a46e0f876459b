package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// BenchmarkRequestOverhead sends workload (a)'s document as benchload sends
// (a) (a POST with the document) and (d) (its APQ hash over GET, variables
// and operationName in the URL) to an app on an empty SQLite database: the
// operation finds nothing, so what is measured is what a request costs
// around its execution (transport, persisted query lookup, parsing and
// validation or the caches that skip them, limits, complexity).
func BenchmarkRequestOverhead(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "PERSISTED_QUERIES=apq", "CACHE_DRIVER=memory")
	raw, err := os.ReadFile(filepath.Join("..", "..", "bench", "queries", "app", "nested-list.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	doc := string(raw) // as benchload sends it: comments and all
	vars := map[string]any{"statuses": []string{"IN_TRANSIT", "OUT_FOR_DELIVERY"}}
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": apq.Hash(doc)}}
	body := func(ext map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"query": doc, "operationName": "NestedList", "variables": vars, "extensions": ext})
		return b
	}
	postBody := body(nil)
	post := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(postBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		return req
	}
	reg := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body(ext)))
	reg.Header.Set("Content-Type", "application/json")
	if err := serve(b, e, e.app.Handler, reg); err != nil {
		b.Fatal(err)
	}
	varsJSON, _ := json.Marshal(vars)
	extJSON, _ := json.Marshal(ext)
	getURL := "/graphql?" + url.Values{"extensions": {string(extJSON)}, "variables": {string(varsJSON)}, "operationName": {"NestedList"}}.Encode()
	get := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, getURL, nil)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("GraphQL-Require-Preflight", "1")
		return req
	}
	for _, w := range []struct {
		name string
		req  func() *http.Request
	}{{"a", post}, {"d", get}} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				if err := serve(b, e, e.app.Handler, w.req()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
