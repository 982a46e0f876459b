package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// nestedList is workload (a) of docs/BENCHMARKS.md: 50 shipments with their
// customer and country and their last 3 events.
const nestedList = `query { shipments(first: 50, where: {statusNEQ: CANCELLED}) { totalCount edges { node {
	reference status customer { name country { code } } events(first: 3) { edges { node { status occurredAt } } } } } } }`

// benchPost runs query through h once per iteration; after each request,
// each (if not nil) is called, to collect per-request figures.
// benchPost runs query through h once per iteration; after each request,
// each (if not nil) is called, to collect per-request figures.
func benchPost(b *testing.B, e *env, h http.Handler, query string, vars map[string]any, each func()) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serveBody(b, e, h, body)
		if each != nil {
			each()
		}
	}
}

func BenchmarkNestedList(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "DEMO_SEED=true")
	benchPost(b, e, e.app.Handler, nestedList, nil, nil)
}

func BenchmarkShipmentByReference(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "DEMO_SEED=true")
	benchPost(b, e, e.app.Handler, `query($r: String) { shipment(reference: $r) { id reference status version carrier trackingNumber
		origin { city } destination { city } parcels { weightGrams } customer { name code country { code label } }
		events(first: 20) { totalCount edges { node { status occurredAt location { city } } } } } }`, map[string]any{"r": "DEMO-0042"}, nil)
}

// BenchmarkNestedListMariaDB is issue 3's list on MariaDB at N = 10 and 100:
// statements/op must stay at 5.
func BenchmarkNestedListMariaDB(b *testing.B) {
	testutil.Require(b, testutil.All()[1])
	e := newEnv(b, testutil.All()[1])
	e.seedMany(100)
	counting := &countingHandler{h: e.app.Handler}
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			statements := 0
			benchPost(b, e, counting, nestedQuery, map[string]any{"n": n}, func() { statements += counting.Last().Total() })
			b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
		})
	}
}

// BenchmarkAPQ compares the nested list sent in full with the same list
// sent as a persisted-query hash: request bytes and server time.
func BenchmarkAPQ(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "DEMO_SEED=true")
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": apq.Hash(nestedList)}}
	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"full document", map[string]any{"query": nestedList}},
		{"hash only", map[string]any{"extensions": ext}},
	} {
		b.Run(c.name, func(b *testing.B) {
			body, _ := json.Marshal(c.body)
			// Registered once, as a client would after its first miss.
			reg, _ := json.Marshal(map[string]any{"query": nestedList, "extensions": ext})
			serveBody(b, e, e.app.Handler, reg)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				serveBody(b, e, e.app.Handler, body)
			}
			b.ReportMetric(float64(len(body)), "request-bytes")
		})
	}
}

// serveBody posts one JSON body through h with the admin key.
func serveBody(b *testing.B, e *env, h http.Handler, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
	}
}
