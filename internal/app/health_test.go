package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

type readiness struct {
	Status string `json:"status"`
	Checks map[string]struct {
		Status   string `json:"status"`
		Critical bool   `json:"critical"`
		Error    string `json:"error"`
	} `json:"checks"`
}

// through points a database's configuration at a proxy.
func through(d testutil.Database, p *testutil.Proxy) testutil.Database {
	d.Backend.Host, d.Backend.Port = p.Host(), p.Port()
	return d
}

// TestReadiness takes each dependency away (a proxy in front of the real
// service is cut) and back: /readyz fails for the primary and the file
// store, reports degraded (and stays ready) for the replica, Dolibarr and the
// cache, and recovers; /livez answers throughout.
func TestReadiness(t *testing.T) {
	b := testutil.All()[1] // MariaDB, with its replica
	testutil.Require(t, b)
	testutil.RequireRedis(t)
	testutil.Require(t, testutil.Replica())
	mainDB := testutil.NewReplicatedDatabase(t)
	dolibarrDB := testutil.NewDolibarr(t, b)
	proxies := map[string]*testutil.Proxy{
		"primary":  testutil.NewProxy(t, fmt.Sprintf("%s:%d", b.Host, b.Port)),
		"replica":  testutil.NewProxy(t, fmt.Sprintf("%s:%d", testutil.Replica().Host, testutil.Replica().Port)),
		"dolibarr": testutil.NewProxy(t, fmt.Sprintf("%s:%d", b.Host, b.Port)),
		"cache":    testutil.NewProxy(t, testutil.RedisAddr()),
	}
	endpoint, _, _ := testutil.S3()
	proxies["storage"] = testutil.NewProxy(t, strings.TrimPrefix(endpoint, "http://"))
	extra := []string{
		"DB_READ_HOST=" + proxies["replica"].Addr(),
		"REDIS_HOST=" + proxies["cache"].Host(), fmt.Sprintf("REDIS_PORT=%d", proxies["cache"].Port()),
		"CACHE_DRIVER=redis", fmt.Sprintf("REDIS_PREFIX=ready%d:", time.Now().UnixNano()),
		"HEALTH_DB_INTERVAL=100ms", "HEALTH_DB_TIMEOUT=500ms", "HEALTH_DB_RETRIES=2",
		"HEALTH_CACHE_INTERVAL=100ms", "HEALTH_CACHE_TIMEOUT=500ms", "HEALTH_CACHE_RETRIES=2",
		"HEALTH_STORAGE_INTERVAL=100ms", "HEALTH_STORAGE_TIMEOUT=1s", "HEALTH_STORAGE_RETRIES=2",
	}
	for _, kv := range testutil.NewBucket(t) {
		if strings.HasPrefix(kv, "AWS_ENDPOINT=") {
			kv = "AWS_ENDPOINT=http://" + proxies["storage"].Addr()
		}
		extra = append(extra, kv)
	}
	cfg := testutil.Config(t, through(mainDB, proxies["primary"]), through(dolibarrDB, proxies["dolibarr"]), extra...)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)

	get := func(path string) (int, readiness) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r readiness
		if path == "/readyz" {
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, r
	}
	waitFor := func(what string, ok func(int, readiness) bool) readiness {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, r := get("/readyz")
			if ok(code, r) {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: last /readyz %d %+v", what, code, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	allUp := func(code int, r readiness) bool { return code == 200 && r.Status == "ok" && len(r.Checks) == 5 }
	r := waitFor("everything up", allUp)
	for _, name := range []string{"primary", "replica", "dolibarr", "cache", "storage"} {
		if r.Checks[name].Status != "up" {
			t.Fatalf("%s not up: %+v", name, r.Checks)
		}
	}
	for _, c := range []struct {
		dep    string
		status string
		code   int
	}{
		{"replica", "degraded", 200},
		{"dolibarr", "degraded", 200},
		{"cache", "degraded", 200},
		{"storage", "unavailable", 503},
		{"primary", "unavailable", 503},
	} {
		t.Run(c.dep, func(t *testing.T) {
			proxies[c.dep].Cut()
			r := waitFor(c.dep+" down", func(code int, r readiness) bool {
				return code == c.code && r.Status == c.status && r.Checks[c.dep].Status == "down"
			})
			if r.Checks[c.dep].Error == "" {
				t.Errorf("%s down without a reason", c.dep)
			}
			if code, _ := get("/livez"); code != 200 {
				t.Errorf("/livez %d with %s down", code, c.dep)
			}
			proxies[c.dep].Restore()
			waitFor(c.dep+" back", allUp)
		})
	}
	// Shutting down: readiness fails first.
	a.Health.ShuttingDown()
	if code, r := get("/readyz"); code != 503 || r.Status != "shutting_down" {
		t.Fatalf("shutting down: %d %s", code, r.Status)
	}
}
