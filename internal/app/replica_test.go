package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// countingHandler gives each request a statement counter and keeps the last one.
type countingHandler struct {
	h    http.Handler
	mu   sync.Mutex
	last *dbroute.Counter
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, counter := dbroute.WithCounter(r.Context())
	c.h.ServeHTTP(w, r.WithContext(ctx))
	c.mu.Lock()
	c.last = counter
	c.mu.Unlock()
}

func (c *countingHandler) Last() *dbroute.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// TestReplicaRouting runs against the real MariaDB binlog replica of
// scripts/services.sh, reached through a proxy the test can cut.
func TestReplicaRouting(t *testing.T) {
	mainDB := testutil.NewReplicatedDatabase(t)
	replica := testutil.Replica()
	proxy := testutil.NewProxy(t, replica.Host+":"+itoa(replica.Port))
	dolibarrDB := testutil.NewDolibarr(t, testutil.SQLite)
	cfg := testutil.Config(t, mainDB, dolibarrDB,
		"DB_READ_HOST="+proxy.Addr(),
		"DB_REPLICA_MAX_LAG=1500ms",
		"DB_REPLICA_CHECK_INTERVAL=100ms",
		"DB_READ_YOUR_WRITES=2s",
	)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Cleanup(func() { testutil.ReplicaSQL(t, "START SLAVE") })
	counting := &countingHandler{h: a.Handler}
	srv := testutil.NewClient(t, counting).As(newKey(t, a, auth.RoleAdmin))
	keys := map[string]string{"reader": newKey(t, a, auth.RoleStaff), "writer": newKey(t, a, auth.RoleStaff)}
	rep := a.Router.Replicas()[0]
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s (replica healthy=%v lag=%s)", what, rep.Healthy(), rep.Lag())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the replica is in the read path", rep.Healthy)

	// Two viewers, told apart by their credentials.
	as := func(key, query string, vars map[string]any) (*testutil.Response, *dbroute.Counter) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", keys[key])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		out := &testutil.Response{Status: resp.StatusCode, Header: resp.Header}
		out.Raw, _ = io.ReadAll(resp.Body)
		if err := json.Unmarshal(out.Raw, out); err != nil {
			t.Fatalf("decode %s: %v", out.Raw, err)
		}
		if len(out.Errors) > 0 || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", key, resp.StatusCode, out.Raw)
		}
		return out, counting.Last()
	}
	count := `{ shipments { totalCount } }`
	for k := range keys {
		as(k, `{ viewer { role } }`, nil) // verified once, then cached: not counted below
	}
	total := func(r *testutil.Response) int {
		var d struct {
			Shipments struct{ TotalCount int } `json:"shipments"`
		}
		_ = json.Unmarshal(r.Data, &d)
		return d.Shipments.TotalCount
	}

	// Reads go to the replica.
	r, c := as("reader", count, nil)
	if total(r) != 0 || c.Get(dbroute.TargetReplica) == 0 || c.Get(dbroute.TargetPrimary) != 0 {
		t.Fatalf("read: total %d, primary %d, replica %d", total(r), c.Get(dbroute.TargetPrimary), c.Get(dbroute.TargetReplica))
	}

	// Replication stops; a write and its reader see the write, others read the
	// (stale) replica until its measured lag passes the limit.
	testutil.ReplicaSQL(t, "STOP SLAVE")
	r, c = as("writer", createMutation, map[string]any{"input": createInput(activeCustomer, "UPS")})
	if c.Get(dbroute.TargetReplica) != 0 || c.Get(dbroute.TargetPrimary) == 0 {
		t.Errorf("mutation used the replica: primary %d, replica %d", c.Get(dbroute.TargetPrimary), c.Get(dbroute.TargetReplica))
	}
	if !strings.Contains(r.Header.Get("Set-Cookie"), "shipmentapp_rw=") {
		t.Errorf("no read-your-writes cookie: %q", r.Header.Get("Set-Cookie"))
	}
	r, c = as("writer", count, nil)
	if total(r) != 1 || c.Get(dbroute.TargetReplica) != 0 {
		t.Errorf("writer's next read: total %d, replica %d", total(r), c.Get(dbroute.TargetReplica))
	}
	r, c = as("reader", count, nil)
	if total(r) != 0 || c.Get(dbroute.TargetReplica) == 0 {
		t.Errorf("other viewer should read the stale replica: total %d, replica %d", total(r), c.Get(dbroute.TargetReplica))
	}
	waitFor("the lagging replica leaves the read path", func() bool { return !rep.Healthy() })
	r, c = as("reader", count, nil)
	if total(r) != 1 || c.Get(dbroute.TargetReplica) != 0 {
		t.Errorf("reads while the replica lags: total %d, replica %d", total(r), c.Get(dbroute.TargetReplica))
	}

	// Replication resumes: the replica catches up and comes back.
	testutil.ReplicaSQL(t, "START SLAVE")
	waitFor("the replica catches up", rep.Healthy)
	r, c = as("reader", count, nil)
	if total(r) != 1 || c.Get(dbroute.TargetReplica) == 0 {
		t.Errorf("after catching up: total %d, replica %d", total(r), c.Get(dbroute.TargetReplica))
	}

	// The writer's window has passed: its reads go to the replica again.
	time.Sleep(2 * time.Second)
	if _, c = as("writer", count, nil); c.Get(dbroute.TargetReplica) == 0 {
		t.Errorf("read-your-writes window did not end")
	}

	// The replica goes away entirely: no request fails, reads move to the primary.
	proxy.Cut()
	for i := range 20 {
		r, c = as("reader", count, nil) // fails the test on any error
		if total(r) != 1 {
			t.Fatalf("read %d with the replica gone: total %d", i, total(r))
		}
	}
	if rep.Healthy() || c.Get(dbroute.TargetReplica) != 0 {
		t.Errorf("replica still in use after it went away: healthy %v, replica statements %d", rep.Healthy(), c.Get(dbroute.TargetReplica))
	}
	proxy.Restore()
	waitFor("the replica returns", rep.Healthy)

	// Each switch was counted at /metrics.
	m := string(srv.Raw(http.MethodGet, "/metrics", "", nil).Raw)
	for _, want := range []string{`shipmentapp_sql_statements_total{target="replica"}`, `shipmentapp_sql_statements_total{target="primary"}`, `shipmentapp_replica_switches_total{replica="` + proxy.Addr() + `",to="primary"} 2`, `shipmentapp_replica_lag_seconds{replica="` + proxy.Addr() + `"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRoutingOnEveryServerDialect routes reads to a "replica" that is the
// primary itself seen through a proxy: it proves the heartbeat, the routing and
// the fallback on PostgreSQL and MariaDB alike (lag is the real test's job).
func TestRoutingOnEveryServerDialect(t *testing.T) {
	for _, b := range testutil.All()[1:] {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			mainDB := testutil.NewDatabase(t, b)
			proxy := testutil.NewProxy(t, b.Host+":"+itoa(b.Port))
			cfg := testutil.Config(t, mainDB, testutil.NewDolibarr(t, testutil.SQLite),
				"DB_READ_HOST="+proxy.Addr(), "DB_REPLICA_CHECK_INTERVAL=50ms")
			a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			// The first check may time out on a busy machine (its statements
			// get one interval, 50ms); the next ones follow every 50ms.
			for deadline := time.Now().Add(5 * time.Second); !a.Router.Replicas()[0].Healthy(); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("replica not healthy within 5s: %s", a.Router.Replicas()[0].Reason())
				}
			}
			counting := &countingHandler{h: a.Handler}
			gql := testutil.NewClient(t, counting).As(newKey(t, a, auth.RoleAdmin))
			gql.MustData(createMutation, map[string]any{"input": createInput(activeCustomer, "UPS")}, nil)
			if c := counting.Last(); c.Get(dbroute.TargetReplica) != 0 || c.Get(dbroute.TargetPrimary) == 0 {
				t.Errorf("mutation: primary %d replica %d", c.Get(dbroute.TargetPrimary), c.Get(dbroute.TargetReplica))
			}
			time.Sleep(2100 * time.Millisecond) // the read-your-writes window
			var out struct {
				Shipments struct{ TotalCount int } `json:"shipments"`
			}
			gql.MustData(`{ shipments { totalCount edges { node { reference } } } }`, nil, &out)
			if c := counting.Last(); out.Shipments.TotalCount != 1 || c.Get(dbroute.TargetReplica) == 0 || c.Get(dbroute.TargetPrimary) != 0 {
				t.Errorf("read: total %d, primary %d replica %d", out.Shipments.TotalCount, c.Get(dbroute.TargetPrimary), c.Get(dbroute.TargetReplica))
			}
			proxy.Cut()
			gql.MustData(`{ shipments { totalCount } }`, nil, &out)
			if c := counting.Last(); out.Shipments.TotalCount != 1 || c.Get(dbroute.TargetPrimary) == 0 {
				t.Errorf("after losing the replica: total %d, primary %d", out.Shipments.TotalCount, c.Get(dbroute.TargetPrimary))
			}
		})
	}
}
