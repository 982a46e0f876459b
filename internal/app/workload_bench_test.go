package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// BenchmarkWorkload runs workloads (a), (b) and (d) of make bench in process, on
// the data make bench seeds (PostgreSQL shipmentapp_bench, Dolibarr on
// MariaDB shipmentapp_bench_dolibarr), with the documents of
// bench/queries/app: the figures to profile with -cpuprofile and
// -memprofile. It is skipped until make bench (or bench/cmd/benchseed)
// has seeded those databases.
//
//	go test ./internal/app -run '^$' -bench Workload -cpuprofile cpu.out
func BenchmarkWorkload(b *testing.B) {
	pg, maria := testutil.All()[2], testutil.All()[1]
	testutil.Require(b, pg)
	testutil.Require(b, maria)
	mainDB := testutil.Database{Backend: pg, Name: "shipmentapp_bench"}
	dolibarrDB := testutil.Database{Backend: maria, Name: "shipmentapp_bench_dolibarr"}
	var n int
	if err := mainDB.Open(b).QueryRowContext(context.Background(), "SELECT count(*) FROM shipments").Scan(&n); err != nil || n < 10000 {
		b.Skipf("the bench data is not seeded (make bench, or go run ./bench/cmd/benchseed): %v", err)
	}
	// The same workloads on gqlgen's executor (GRAPHQL_PLANNED=false) and on
	// the planned one, side by side in one run.
	for _, executor := range []struct{ name, planned string }{{"generic", "false"}, {"planned", "true"}} {
		b.Run(executor.name, func(b *testing.B) {
			workloads(b, mainDB, dolibarrDB, "GRAPHQL_PLANNED="+executor.planned)
		})
	}
}

// workloads runs (a), (b) and (d) on an app started with extra settings.
func workloads(b *testing.B, mainDB, dolibarrDB testutil.Database, extra ...string) {
	cfg := testutil.Config(b, mainDB, dolibarrDB, append([]string{"APP_ENV=staging", "APP_URL=https://api.example.com", "PERSISTED_QUERIES=apq",
		"FILE_SIGNING_KEY=bench-signing-key-0123456789abcdef0123456789abcdef"}, extra...)...)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	e := &env{t: b, app: a, db: mainDB}
	e.adminKey = e.key("ADMIN")
	read := func(file string) string {
		doc, err := os.ReadFile(filepath.Join("..", "..", "bench", "queries", "app", file))
		if err != nil {
			b.Fatal(err)
		}
		return stripComments(string(doc))
	}
	post := func(query string, vars, ext map[string]any) func() *http.Request {
		body, err := json.Marshal(map[string]any{"query": query, "variables": vars, "extensions": ext})
		if err != nil {
			b.Fatal(err)
		}
		return func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		}
	}
	list, listVars := read("nested-list.graphql"), map[string]any{"statuses": []string{"IN_TRANSIT", "OUT_FOR_DELIVERY"}}
	// (d): (a) as a persisted-query hash over GET, registered once.
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": apq.Hash(list)}}
	serve(b, e, a.Handler, post(list, listVars, ext)())
	varsJSON, _ := json.Marshal(listVars)
	extJSON, _ := json.Marshal(ext)
	getURL := "/graphql?" + url.Values{"variables": {string(varsJSON)}, "extensions": {string(extJSON)}}.Encode()
	for _, w := range []struct {
		name string
		req  func() *http.Request
	}{
		{"a", post(list, listVars, nil)},
		{"b", post(read("by-reference.graphql"), map[string]any{"reference": "BENCH-000042"}, nil)},
		{"d", func() *http.Request {
			req := httptest.NewRequest(http.MethodGet, getURL, nil)
			req.Header.Set("GraphQL-Require-Preflight", "1")
			return req
		}},
	} {
		b.Run(w.name, func(b *testing.B) {
			// 8 clients per core, as a loaded server sees them: ns/op is
			// the inverse of the throughput, waits on the databases overlap.
			b.SetParallelism(8)
			b.ReportAllocs()
			start := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := serve(b, e, a.Handler, w.req()); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// The process's own CPU time: robust to a busy machine, unlike
			// ns/op, and free of the databases' share.
			b.ReportMetric(float64((processCPU()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// serve sends req through h with the admin key; an answer that is not 200
// without errors is an error.
func serve(_ testing.TB, e *env, h http.Handler, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		return fmt.Errorf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
	}
	return nil
}

func stripComments(doc string) string {
	var sb strings.Builder
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(line, "#") {
			fmt.Fprint(&sb, line)
		}
	}
	return sb.String()
}

// processCPU returns the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
