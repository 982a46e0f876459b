//go:build linux

package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestReadinessWithRealServices runs private instances of the real services
// (three mariadbd: primary, replica, Dolibarr; redis-server; versitygw), so
// the shared ones are never touched, and stops each one for real (the
// process terminated) and starts it again: /readyz reports that dependency
// down, 503 "unavailable" for the primary and the file store, 200 "degraded"
// for the others, with every other dependency up, then "ok" again once the
// service is back; shipmentapp_dependency_up on /metrics follows.
func TestReadinessWithRealServices(t *testing.T) {
	began := time.Now()
	dbs := testutil.NewMariaDBServers(t, 3)
	primary, replica, dolibarrSrv := dbs[0], dbs[1], dbs[2]
	cache := testutil.NewRedisServer(t)
	store, storageEnv := testutil.NewS3Server(t)
	mainDB := testutil.NewDatabase(t, primary.Backend())
	// Not a replicating replica: the same schema under the same name (the
	// heartbeat table among them). Nothing replicates the heartbeat, so the
	// router keeps it out of the read path; /readyz only pings it.
	testutil.CreateDatabase(t, replica.Backend(), mainDB.Name)
	dolibarrDB := testutil.NewDolibarr(t, dolibarrSrv.Backend())
	t.Logf("private services started in %s", time.Since(began).Round(time.Millisecond))

	extra := append([]string{
		"DB_READ_HOST=" + replica.Addr(),
		"CACHE_DRIVER=redis", "REDIS_HOST=" + cache.Host(), "REDIS_PORT=" + strconv.Itoa(cache.Port()),
		"HEALTH_DB_INTERVAL=100ms", "HEALTH_DB_TIMEOUT=500ms", "HEALTH_DB_RETRIES=2",
		"HEALTH_CACHE_INTERVAL=100ms", "HEALTH_CACHE_TIMEOUT=500ms", "HEALTH_CACHE_RETRIES=2",
		"HEALTH_STORAGE_INTERVAL=100ms", "HEALTH_STORAGE_TIMEOUT=1s", "HEALTH_STORAGE_RETRIES=2",
	}, storageEnv...)
	cfg := testutil.Config(t, mainDB, dolibarrDB, extra...)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)

	get := func(t testing.TB, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	deps := []string{"primary", "replica", "dolibarr", "cache", "storage"}
	// state checks /readyz and /metrics against down (empty: everything up).
	state := func(t testing.TB, down, want string, code int) (ok bool, body string) {
		t.Helper()
		got, body := get(t, "/readyz")
		var r readiness
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/readyz %d: %v: %s", got, err, body)
		}
		if got != code || r.Status != want || len(r.Checks) != len(deps) {
			return false, body
		}
		_, metrics := get(t, "/metrics")
		for _, d := range deps {
			status, up := "up", "1"
			if d == down {
				status, up = "down", "0"
			}
			if r.Checks[d].Status != status || dependencyUp(metrics, d) != up {
				return false, body
			}
		}
		return true, body
	}
	// waitFor polls until state holds, reporting to t (the subtest's).
	waitFor := func(t testing.TB, what, down, want string, code int) string {
		t.Helper()
		start := time.Now()
		for {
			ok, body := state(t, down, want, code)
			if ok {
				t.Logf("%s after %s: %d %s", what, time.Since(start).Round(time.Millisecond), code, strings.TrimSpace(body))
				return body
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s: not %d %q with %q down within 30s; last /readyz: %s", what, code, want, down, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(t, "all up", "", "ok", http.StatusOK)

	services := map[string]*testutil.Service{
		"primary": primary.Service, "replica": replica.Service, "dolibarr": dolibarrSrv.Service,
		"cache": cache, "storage": store,
	}
	for _, c := range []struct {
		dep    string
		status string
		code   int
	}{
		{"primary", "unavailable", http.StatusServiceUnavailable},
		{"replica", "degraded", http.StatusOK},
		{"dolibarr", "degraded", http.StatusOK},
		{"cache", "degraded", http.StatusOK},
		{"storage", "unavailable", http.StatusServiceUnavailable},
	} {
		t.Run(c.dep, func(t *testing.T) {
			services[c.dep].Stop(t)
			// Started again even when this case fails, for the next ones
			// (Start does nothing when the service runs).
			t.Cleanup(func() { services[c.dep].Start(t) })
			body := waitFor(t, c.dep+" stopped", c.dep, c.status, c.code)
			var r readiness
			_ = json.Unmarshal([]byte(body), &r)
			if r.Checks[c.dep].Error == "" {
				t.Errorf("%s down without a reason: %s", c.dep, body)
			}
			if code, _ := get(t, "/livez"); code != http.StatusOK {
				t.Errorf("/livez %d with %s down", code, c.dep)
			}
			services[c.dep].Start(t)
			waitFor(t, c.dep+" restarted", "", "ok", http.StatusOK)
		})
	}
	t.Logf("took %s in all", time.Since(began).Round(time.Millisecond))
}

// dependencyUp is the value of shipmentapp_dependency_up for dep in a
// /metrics exposition ("" when absent).
func dependencyUp(metrics, dep string) string {
	for line := range strings.Lines(metrics) {
		if strings.HasPrefix(line, "shipmentapp_dependency_up{") && strings.Contains(line, fmt.Sprintf("dependency=%q", dep)) {
			f := strings.Fields(line)
			return f[len(f)-1]
		}
	}
	return ""
}
