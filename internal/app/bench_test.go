package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// nestedList is workload (a) of docs/BENCHMARKS.md: 50 shipments with their
// customer and country and their last 3 events.
const nestedList = `query { shipments(first: 50, where: {statusNEQ: CANCELLED}) { totalCount edges { node {
	reference status customer { name country { code } } events(first: 3) { edges { node { status occurredAt } } } } } } }`

func benchPost(b *testing.B, h http.Handler, query string, vars map[string]any) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
		}
	}
}

func BenchmarkNestedList(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "DEMO_SEED=true")
	benchPost(b, e.app.Handler, nestedList, nil)
}

func BenchmarkShipmentByReference(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "DEMO_SEED=true")
	benchPost(b, e.app.Handler, `query($r: String) { shipment(reference: $r) { id reference status version carrier trackingNumber
		origin { city } destination { city } parcels { weightGrams } customer { name code country { code label } }
		events(first: 20) { totalCount edges { node { status occurredAt location { city } } } } } }`, map[string]any{"r": "DEMO-0042"})
}
