package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers like the app: the three documents, APQ over GET with
// the preflight header, /metrics; fakeStmts stands for pg_stat_statements.
type fakeServer struct {
	statements atomic.Int64
	registered atomic.Value // string: the APQ hash
	gets       atomic.Int64
	mutations  atomic.Int64
	failEvery  int64
	n          atomic.Int64
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics":
		fmt.Fprintf(w, "# TYPE shipmentapp_sql_statements_total counter\nshipmentapp_sql_statements_total{target=\"primary\"} %d\nshipmentapp_sql_statements_total{target=\"dolibarr\"} %d\nshipmentapp_sql_statements_total_other 5\n", f.statements.Load()*3, f.statements.Load()*2)
		return
	case "/graphql":
	default:
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer sa_test" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"errors":[{"message":"no","extensions":{"code":"UNAUTHENTICATED"}}]}`)
		return
	}
	if f.failEvery > 0 && f.n.Add(1)%f.failEvery == 0 {
		fmt.Fprint(w, `{"errors":[{"message":"boom","extensions":{"code":"INTERNAL"}}],"data":null}`)
		return
	}
	var body gqlBody
	if r.Method == http.MethodGet {
		if r.Header.Get("GraphQL-Require-Preflight") == "" {
			w.WriteHeader(400)
			return
		}
		var ext struct {
			PersistedQuery struct{ SHA256Hash string } `json:"persistedQuery"`
		}
		_ = json.Unmarshal([]byte(r.URL.Query().Get("extensions")), &ext)
		if h, _ := f.registered.Load().(string); h == "" || ext.PersistedQuery.SHA256Hash != h || r.URL.Query().Get("query") != "" {
			fmt.Fprint(w, `{"errors":[{"message":"PersistedQueryNotFound","extensions":{"code":"PERSISTED_QUERY_NOT_FOUND"}}]}`)
			return
		}
		f.gets.Add(1)
		body.OperationName = r.URL.Query().Get("operationName")
	} else {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			w.WriteHeader(400)
			return
		}
		if pq, ok := body.Extensions["persistedQuery"].(map[string]any); ok {
			f.registered.Store(pq["sha256Hash"].(string))
		}
	}
	f.statements.Add(1)
	time.Sleep(200 * time.Microsecond)
	switch body.OperationName {
	case "NestedList":
		fmt.Fprint(w, `{"data":{"shipments":{"edges":[{"node":{"id":"U2:1"}}]}}}`)
	case "ShipmentByReference":
		ref, _ := body.Variables["reference"].(string)
		if !strings.HasPrefix(ref, "BENCH-0") || len(ref) != 12 {
			fmt.Fprint(w, `{"data":{"shipment":null}}`)
			return
		}
		fmt.Fprintf(w, `{"data":{"shipment":{"reference":%q}}}`, ref)
	case "BenchInTransit":
		if body.Variables["after"] == nil {
			fmt.Fprint(w, `{"data":{"shipments":{"edges":[{"node":{"id":"S1"}},{"node":{"id":"S2"}}],"pageInfo":{"hasNextPage":true,"endCursor":"c2"}}}}`)
		} else {
			fmt.Fprint(w, `{"data":{"shipments":{"edges":[{"node":{"id":"S3"}}],"pageInfo":{"hasNextPage":false,"endCursor":"c3"}}}}`)
		}
	case "AddTrackingEvent":
		f.mutations.Add(1)
		in, _ := body.Variables["in"].(map[string]any)
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(in["occurredAt"])); err != nil || in["status"] != "IN_TRANSIT" {
			fmt.Fprint(w, `{"errors":[{"message":"bad","extensions":{"code":"BAD_USER_INPUT"}}]}`)
			return
		}
		fmt.Fprint(w, `{"data":{"addTrackingEvent":{"id":"E1"}}}`)
	default:
		w.WriteHeader(400)
	}
}

func queriesDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "queries") // bench/queries, from bench/cmd/benchload
	if _, err := os.Stat(filepath.Join(dir, "app", "nested-list.graphql")); err != nil {
		t.Skip("bench/queries/app not present")
	}
	return dir
}

func testSettings(t *testing.T, target, workload, mode string) Settings {
	return Settings{
		Target: target + "/graphql", Workload: workload, System: "app", Mode: mode,
		Rate: 400, Concurrency: 4, MaxInflight: 64,
		Warmup: Duration(200 * time.Millisecond), Duration: Duration(800 * time.Millisecond),
		Timeout: Duration(5 * time.Second), Queries: queriesDir(t), References: 10000,
		Statuses: []string{"IN_TRANSIT"}, Mix: "a=45,b=45,c=10", EventIDs: 300, PID: os.Getpid(), PIDTree: true,
		PGStatURL: "postgres://fake", PGStatUser: "bench_app", DBPIDs: fmt.Sprintf("postgres=%d", os.Getpid()), Seed: 1,
	}
}

// fakeStmts reads the fake server's statements as pg_stat_statements would:
// 3 top-level statements and 1 nested one a request.
type fakeStmts struct{ f *fakeServer }

func (s fakeStmts) read(context.Context) (stmtCount, error) {
	n := float64(s.f.statements.Load())
	return stmtCount{TopLevel: 3 * n, Nested: n}, nil
}

func (fakeStmts) close() {}

// useFakeStmts makes -pgss read f's counters until the test ends.
func useFakeStmts(t *testing.T, f *fakeServer) {
	old := openStmtReader
	openStmtReader = func(_ context.Context, url, user string) (stmtReader, error) {
		if url != "postgres://fake" || user != "bench_app" {
			return nil, fmt.Errorf("-pgss %q -pgss-user %q", url, user)
		}
		return fakeStmts{f}, nil
	}
	t.Cleanup(func() { openStmtReader = old })
}

func TestRunWorkloads(t *testing.T) {
	for _, tc := range []struct{ workload, mode string }{
		{"a", "max"}, {"b", "max"}, {"c", "max"}, {"d", "max"}, {"e", "max"}, {"a", "rate"}, {"d", "rate"},
	} {
		t.Run(tc.workload+"-"+tc.mode, func(t *testing.T) {
			f := &fakeServer{}
			useFakeStmts(t, f)
			srv := httptest.NewServer(f)
			defer srv.Close()
			res, err := Run(context.Background(), testSettings(t, srv.URL, tc.workload, tc.mode), "sa_test")
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 0 || res.OK == 0 || res.WarmupRequests == 0 {
				t.Fatalf("ok %d errors %d warm %d: %v", res.OK, res.Errors, res.WarmupRequests, res.ErrorSamples)
			}
			if res.SQL == nil || res.SQL.Source != "pg_stat_statements" || res.SQL.PerRequest < 2.5 || res.SQL.PerRequest > 3.5 ||
				*res.SQL.PGStatNestedPerRequest < 0.8 || *res.SQL.PGStatNestedPerRequest > 1.2 {
				t.Errorf("sql %+v", res.SQL)
			}
			if res.SQL.MetricsPerRequest["total"] < 4.5 || res.SQL.MetricsPerRequest["total"] > 5.5 {
				t.Errorf("metrics per request %v", res.SQL.MetricsPerRequest)
			}
			if res.Server == nil || res.Server.PeakRSSBytes == 0 || res.Server.RSSSamples < 5 {
				t.Errorf("server %+v", res.Server)
			}
			// The "database" is this process too: its CPU is counted twice.
			if res.Database == nil || res.Database.Processes["postgres"].PID != os.Getpid() || res.CPU == nil ||
				res.CPU.DatabaseMsPerRequest != res.Database.CPUMsPerRequest || res.CPU.ServerMsPerRequest != res.Server.CPUMsPerRequest ||
				math.Abs(res.CPU.TotalMsPerRequest-res.CPU.ServerMsPerRequest-res.CPU.DatabaseMsPerRequest) > 0.002 {
				t.Errorf("database %+v, cpu %+v", res.Database, res.CPU)
			}
			if res.Latency.P50Ms <= 0 || res.Latency.P99Ms < res.Latency.P50Ms {
				t.Errorf("latency %+v", res.Latency)
			}
			if tc.mode == "rate" {
				// 400/s for 0.8 s
				if res.Requests < 300 || res.Requests > 330 {
					t.Errorf("rate mode: %d requests in the window, want about 320", res.Requests)
				}
			}
			switch tc.workload {
			case "d":
				if f.gets.Load() == 0 {
					t.Error("no GET with the hash")
				}
			case "e":
				if len(res.PerOp) != 3 || res.PerOp["c"].Count == 0 {
					t.Errorf("per op %+v", res.PerOp)
				}
				share := float64(res.PerOp["c"].Count) / float64(res.Requests)
				if share < 0.07 || share > 0.13 {
					t.Errorf("writes are %.2f of the mix", share)
				}
			}
			t.Logf("%s/%s: %.0f req/s p50 %.3f p99 %.3f ms, %.2f stmt/req, cpu %.3f ms/req",
				tc.workload, tc.mode, res.RequestsPerSec, res.Latency.P50Ms, res.Latency.P99Ms, res.SQL.PerRequest, res.Server.CPUMsPerRequest)
		})
	}
}

func TestRunCountsErrors(t *testing.T) {
	f := &fakeServer{failEvery: 10}
	useFakeStmts(t, f)
	srv := httptest.NewServer(f)
	defer srv.Close()
	res, err := Run(context.Background(), testSettings(t, srv.URL, "b", "max"), "sa_test")
	if err != nil {
		t.Fatal(err)
	}
	frac := float64(res.Errors) / float64(res.Requests)
	if frac < 0.08 || frac > 0.12 || res.ErrorKinds["errors INTERNAL"] != res.Errors || len(res.ErrorSamples) == 0 {
		t.Errorf("errors %d of %d, kinds %v", res.Errors, res.Requests, res.ErrorKinds)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		kind   string
	}{
		{200, `{"data":{"shipment":{"id":"1"}}}`, ""},
		{200, `{"data":{"shipment":null}}`, "null shipment"},
		{200, `{"data":{}}`, "empty data"},
		{200, `{"data":null,"errors":[{"message":"x","extensions":{"code":"NOT_FOUND"}}]}`, "errors NOT_FOUND"},
		{200, `{"data":{"a":1},"errors":[{"message":"x"}]}`, "errors"},
		{429, `{}`, "http 429"},
		{200, `<html>`, "bad json"},
	} {
		_, err := check(tc.status, []byte(tc.body))
		kind := ""
		if err != nil {
			kind = err.(*checkError).Kind
		}
		if kind != tc.kind {
			t.Errorf("%d %s: kind %q, want %q", tc.status, tc.body, kind, tc.kind)
		}
	}
}

func TestParseStatementMetrics(t *testing.T) {
	m, err := parseStatementMetrics("# HELP x\nshipmentapp_sql_statements_total{target=\"primary\"} 12\nshipmentapp_sql_statements_total{target=\"dolibarr\"} 3e+00\nshipmentapp_sql_statements_totalx 9\n")
	if err != nil || m["primary"] != 12 || m["dolibarr"] != 3 || len(m) != 2 {
		t.Errorf("%v %v", m, err)
	}
	if _, err := parseStatementMetrics("go_goroutines 3\n"); err == nil {
		t.Error("missing metric should be an error")
	}
}

func TestParseMixAndDocument(t *testing.T) {
	m, err := parseMix("a=45, b=45,c=10,d=0")
	if err != nil || len(m) != 3 || m[2].weight != 10 {
		t.Errorf("%v %v", m, err)
	}
	if _, err := parseMix("a"); err == nil {
		t.Error("a weight is required")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "q.graphql")
	_ = os.WriteFile(p, []byte("# query Foo is a comment\nquery NestedList($s: [String]) { x }\n"), 0o644)
	if _, name, err := readDocument(p); err != nil || name != "NestedList" {
		t.Errorf("%q %v", name, err)
	}
}

func TestParseDBPIDs(t *testing.T) {
	d, err := parseDBPIDs("postgres=12, mariadb = 34,mariadb-replica=56", "/proc")
	if err != nil || len(d) != 3 || d[1].name != "mariadb" || d[1].proc.pid != 34 || !d[2].proc.tree {
		t.Errorf("%+v %v", d, err)
	}
	for _, bad := range []string{"postgres", "postgres=x", "=12", "a=1,a=2", "a=0"} {
		if _, err := parseDBPIDs(bad, "/proc"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if d, err := parseDBPIDs("", "/proc"); err != nil || len(d) != 0 {
		t.Errorf("empty: %v %v", d, err)
	}
}

// Without pg_stat_statements, the app's counter gives the main database's
// statements: every target but dolibarr.
func TestRunMetricsSource(t *testing.T) {
	f := &fakeServer{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := testSettings(t, srv.URL, "a", "max")
	s.PGStatURL, s.PGStatUser, s.DBPIDs = "", "", ""
	res, err := Run(context.Background(), s, "sa_test")
	if err != nil {
		t.Fatal(err)
	}
	if res.SQL == nil || res.SQL.Source != "metrics" || res.SQL.PerRequest < 2.5 || res.SQL.PerRequest > 3.5 || res.SQL.MetricsPerRequest["dolibarr"] < 1.5 {
		t.Errorf("sql %+v", res.SQL)
	}
	if res.Database != nil || res.CPU != nil {
		t.Errorf("no -db-pids, yet database %+v cpu %+v", res.Database, res.CPU)
	}
}
