package app_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// sfItems parses a RateLimit or RateLimit-Policy field (a structured-field
// list of strings with integer parameters) into name → parameter → value.
func sfItems(t *testing.T, field string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	if field == "" {
		return out
	}
	for item := range strings.SplitSeq(field, ",") {
		parts := strings.Split(strings.TrimSpace(item), ";")
		name, err := strconv.Unquote(parts[0])
		if err != nil {
			t.Fatalf("item %q of %q: the name is not a string: %v", item, field, err)
		}
		params := map[string]int{}
		for _, p := range parts[1:] {
			k, v, ok := strings.Cut(p, "=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 0 {
				t.Fatalf("item %q of %q: parameter %q is not a non-negative integer", item, field, p)
			}
			params[k] = n
		}
		out[name] = params
	}
	return out
}

// TestRateLimitHeaders: every rate-limited route says its policies
// (RateLimit-Policy) and what is left of them (RateLimit, decreasing request
// by request), with the local limiter and with the shared one in Redis; the
// refusal has nothing left, and a window equal to its Retry-After.
func TestRateLimitHeaders(t *testing.T) {
	limiters := []struct {
		name  string
		extra func(t *testing.T) []string
	}{
		{"local", func(*testing.T) []string { return nil }},
		{"redis", func(t *testing.T) []string {
			testutil.RequireRedis(t)
			host, port, _ := strings.Cut(testutil.RedisAddr(), ":")
			return []string{"REDIS_HOST=" + host, "REDIS_PORT=" + port, fmt.Sprintf("REDIS_PREFIX=sa-test-%08x:", rand.Uint32())}
		}},
	}
	routes := []struct {
		name   string
		method string
		path   string
		body   string
		key    bool // send an API key: the "key" budget counts too
	}{
		{"graphql anonymous", http.MethodPost, "/graphql", `{"query":"{ __typename }"}`, false},
		{"graphql with a key", http.MethodPost, "/graphql", `{"query":"{ shipments { totalCount } }"}`, true},
		{"graphql GET", http.MethodGet, "/graphql?query=%7B__typename%7D", "", false},
		{"file download", http.MethodGet, "/files/1/missing.pdf", "", false},
	}
	const ipQuota, keyQuota = 4, 3
	for _, lim := range limiters {
		for _, route := range routes {
			t.Run(lim.name+"/"+route.name, func(t *testing.T) {
				extra := append(lim.extra(t), "RATE_LIMIT_IP_PER_MINUTE="+strconv.Itoa(ipQuota),
					"RATE_LIMIT_KEY_PER_MINUTE="+strconv.Itoa(keyQuota))
				e := newEnv(t, testutil.SQLite, extra...)
				headers := map[string]string{"Content-Type": "application/json"}
				wantPolicies := map[string]int{"ip": ipQuota}
				budget := ipQuota
				if route.key {
					headers["X-API-Key"] = e.key(auth.RoleStaff)
					wantPolicies["key"] = keyQuota
					budget = keyQuota
				}
				client := e.gql.Anonymous()
				last := map[string]int{}
				for i := range budget + 1 {
					r := client.RawH(route.method, route.path, headers, []byte(route.body))
					policy := sfItems(t, r.Header.Get("RateLimit-Policy"))
					limits := sfItems(t, r.Header.Get("RateLimit"))
					if len(policy) != len(wantPolicies) {
						t.Fatalf("request %d (HTTP %d): RateLimit-Policy %q, want policies %v", i, r.Status, r.Header.Get("RateLimit-Policy"), wantPolicies)
					}
					for name, q := range wantPolicies {
						if p := policy[name]; p["q"] != q || p["w"] != 60 {
							t.Errorf("request %d: policy %q is %v, want q=%d;w=60", i, name, p, q)
						}
					}
					refused := i == budget
					if got := r.Status == http.StatusTooManyRequests; got != refused {
						t.Fatalf("request %d: HTTP %d %s", i, r.Status, r.Raw)
					}
					for name, l := range limits {
						if _, ok := wantPolicies[name]; !ok {
							t.Errorf("request %d: RateLimit names %q, no policy of the answer", i, name)
						}
						if _, ok := l["r"]; !ok {
							t.Errorf("request %d: RateLimit %q lacks r", i, name)
						}
						if prev, ok := last[name]; ok && l["r"] >= prev && prev > 0 {
							t.Errorf("request %d: %q has %d left, %d before: not decreasing", i, name, l["r"], prev)
						}
						if l["t"] < 1 || l["t"] > 60 {
							t.Errorf("request %d: %q window t=%d, want 1..60", i, name, l["t"])
						}
						last[name] = l["r"]
					}
					scope := "ip"
					if route.key {
						scope = "key"
					}
					if !refused {
						if got, want := limits[scope]["r"], budget-1-i; got != want {
							t.Errorf("request %d: %q has %d left, want %d", i, scope, got, want)
						}
						continue
					}
					ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
					if err != nil || ra < 1 {
						t.Fatalf("refusal: Retry-After %q", r.Header.Get("Retry-After"))
					}
					if l := limits[scope]; l["r"] != 0 || l["t"] != ra {
						t.Errorf("refusal: RateLimit %q, want %q with r=0 and t=%d (the Retry-After)", r.Header.Get("RateLimit"), scope, ra)
					}
				}
			})
		}
	}
}
