package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestRateLimitSharedInRedis(t *testing.T) {
	testutil.RequireRedis(t)
	proxy := testutil.NewProxy(t, testutil.RedisAddr())
	prefix := fmt.Sprintf("sa-test-%08x:", rand.Uint32())
	extra := []string{"REDIS_HOST=" + proxy.Host(), "REDIS_PORT=" + strconv.Itoa(proxy.Port()), "REDIS_PREFIX=" + prefix,
		"RATE_LIMIT_IP_PER_MINUTE=3", "RATE_LIMIT_KEY_PER_MINUTE=0"}
	// Two instances sharing the Redis: the budget is one.
	a, b := newEnv(t, testutil.SQLite, extra...), newEnv(t, testutil.SQLite, extra...)
	q := `{ shipments { totalCount } }`
	for i, e := range []*env{a, b, a} {
		if r := e.gql.Do(q, nil); r.Status != http.StatusOK {
			t.Fatalf("request %d: HTTP %d %s", i, r.Status, r.Raw)
		}
	}
	r := b.gql.Do(q, nil)
	if r.Status != http.StatusTooManyRequests || len(r.Errors) != 1 || r.Errors[0].Code() != "RATE_LIMITED" {
		t.Fatalf("4th request across instances: HTTP %d %s", r.Status, r.Raw)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	rdb := redis.NewClient(&redis.Options{Addr: testutil.RedisAddr()})
	defer func() { _ = rdb.Close() }()
	keys, err := rdb.Keys(context.Background(), "*"+prefix+"*").Result() // redis_rate adds its own "rate:"
	if err != nil || len(keys) == 0 {
		t.Errorf("no limiter keys under %s in Redis: %v %v", prefix, keys, err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), keys...) })

	// Redis goes away: requests are still served, judged per instance.
	proxy.Cut()
	c := newEnv(t, testutil.SQLite, extra...)
	for i := range 3 {
		if r := c.gql.Do(q, nil); r.Status != http.StatusOK {
			t.Fatalf("request %d with Redis down: HTTP %d %s", i, r.Status, r.Raw)
		}
	}
	if !c.app.Limiter.Degraded() {
		t.Error("limiter not degraded with Redis down")
	}
	if r := c.gql.Do(q, nil); r.Status != http.StatusTooManyRequests {
		t.Errorf("in-process limit with Redis down: HTTP %d", r.Status)
	}
	m := string(c.gql.Raw(http.MethodGet, "/metrics", "", nil).Raw)
	for _, want := range []string{"shipmentapp_rate_limit_fallbacks_total 1", `shipmentapp_rate_limit_rejections_total{scope="ip"} 1`} {
		if !contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Back on Redis when it returns.
	proxy.Restore()
	c.gql.Do(q, nil)
	if c.app.Limiter.Degraded() {
		t.Error("limiter still degraded after Redis returned")
	}
}

func TestRateLimitPerKey(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "RATE_LIMIT_IP_PER_MINUTE=100", "RATE_LIMIT_KEY_PER_MINUTE=2")
	keys := map[string]string{"k1": e.key(auth.RoleStaff), "k2": e.key(auth.RoleStaff)}
	send := func(key string) int {
		key = keys[key]
		return e.gql.Anonymous().RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "X-API-Key": key},
			[]byte(`{"query":"{ shipments { totalCount } }"}`)).Status
	}
	var got []int
	for range 3 {
		got = append(got, send("k1"))
	}
	if got[0] != 200 || got[1] != 200 || got[2] != http.StatusTooManyRequests {
		t.Errorf("per-key limit of 2: %v", got)
	}
	if send("k2") != 200 {
		t.Error("another key has its own budget")
	}
}

func TestClientIP(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "HTTP_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1", "RATE_LIMIT_IP_PER_MINUTE=1")
	cases := []struct {
		remote, xff string
		sameAs      int // index of the case sharing its budget, or -1
	}{
		{"203.0.113.7:1234", "", -1},
		{"203.0.113.7:999", "198.51.100.1", 0},          // untrusted peer: its XFF is ignored
		{"10.1.2.3:80", "198.51.100.2", -1},             // trusted LB: the client is the XFF hop
		{"192.168.1.1:80", "198.51.100.2, 10.9.9.9", 2}, // two trusted hops
		{"10.1.2.3:80", "garbage", -1},                  // unparsable hop: the proxy itself
	}
	for i, c := range cases {
		req := httptest.NewRequest(http.MethodPost, "/graphql", stringsReader(`{"query":"{ shipments { totalCount } }"}`))
		req.RemoteAddr = c.remote
		req.Header.Set("Content-Type", "application/json")
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		rec := httptest.NewRecorder()
		e.app.Handler.ServeHTTP(rec, req)
		limited := rec.Code == http.StatusTooManyRequests
		if limited != (c.sameAs >= 0) {
			t.Errorf("case %d (%s via %s): HTTP %d", i, c.xff, c.remote, rec.Code)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
