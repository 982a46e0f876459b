package app_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestTracing: with TRACING_EXPORTER=otlp, a GraphQL request is exported to
// an OTLP/HTTP collector as a trace with the request, the operation, its
// resolvers and its SQL statements, continuing the caller's traceparent.
func TestTracing(t *testing.T) {
	var (
		mu    sync.Mutex
		names []string
		trace [][]byte
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		raw, _ := io.ReadAll(body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					names = append(names, sp.Name)
					trace = append(trace, sp.TraceId)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	b := testutil.All()[0]
	mainDB, dolibarrDB := testutil.NewDatabase(t, b), testutil.NewDolibarr(t, b)
	cfg := testutil.Config(t, mainDB, dolibarrDB, "TRACING_EXPORTER=otlp")
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, a, auth.RoleAdmin)
	srv := httptest.NewServer(a.Handler)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader([]byte(`{"query":"query ListShipments { shipments(first: 2) { totalCount } }"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	const parent = "4bf92f3577b34da6a3ce929d0e0e4736"
	req.Header.Set("traceparent", "00-"+parent+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("query: %v %v", err, resp)
	}
	_ = resp.Body.Close()
	srv.Close()
	a.Close() // flushes the spans

	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"POST /graphql", "query ListShipments", "Query.shipments"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %q span among %v", want, names)
		}
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "sql.") }) {
		t.Errorf("no SQL span among %v", names)
	}
	found := false
	for _, id := range trace {
		if want, _ := hex.DecodeString(parent); bytes.Equal(id, want) {
			found = true
		}
	}
	if !found {
		t.Error("the caller's trace was not continued")
	}
}
