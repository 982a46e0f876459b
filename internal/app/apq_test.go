package app_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

const apqQuery = `query Count { shipments { totalCount } }`

func pq(hash string, version any) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": version, "sha256Hash": hash}}
}

// post sends a GraphQL request with extensions, and the query if not empty.
func post(c *testutil.Client, query string, ext map[string]any) *testutil.Response {
	body := map[string]any{"extensions": ext}
	if query != "" {
		body["query"] = query
	}
	b, _ := json.Marshal(body)
	return c.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, b)
}

func get(c *testutil.Client, params url.Values) *testutil.Response {
	return c.RawH(http.MethodGet, "/graphql?"+params.Encode(), map[string]string{"GraphQL-Require-Preflight": "1"}, nil)
}

func wantCode(t *testing.T, r *testutil.Response, code string) {
	t.Helper()
	if len(r.Errors) != 1 || r.Errors[0].Code() != code {
		t.Fatalf("want %s: HTTP %d %s", code, r.Status, r.Raw)
	}
}

func wantData(t *testing.T, r *testutil.Response) {
	t.Helper()
	if r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
		t.Fatalf("want data: HTTP %d %s", r.Status, r.Raw)
	}
}

func sharedEnvs(t *testing.T, driver, addr string, extra ...string) (*env, *env, *testutil.Proxy) {
	t.Helper()
	proxy := testutil.NewProxy(t, addr)
	prefix := fmt.Sprintf("sa-apq-%08x:", rand.Uint32())
	cfg := []string{"CACHE_DRIVER=" + driver, "REDIS_PREFIX=" + prefix, "REDIS_TIMEOUT=200ms"}
	if driver == "redis" {
		cfg = append(cfg, "REDIS_HOST="+proxy.Host(), "REDIS_PORT="+strconv.Itoa(proxy.Port()))
	} else {
		cfg = append(cfg, "MEMCACHED_ADDRS="+proxy.Addr())
	}
	cfg = append(cfg, extra...)
	return newEnv(t, testutil.SQLite, cfg...), newEnv(t, testutil.SQLite, cfg...), proxy
}

func TestAPQSharedInRedis(t *testing.T) {
	testutil.RequireRedis(t)
	a, b, proxy := sharedEnvs(t, "redis", testutil.RedisAddr())
	testAPQShared(t, a, b, proxy)
}

func TestAPQSharedInMemcached(t *testing.T) {
	testutil.RequireTCP(t, "memcached", testutil.MemcachedAddr())
	a, b, proxy := sharedEnvs(t, "memcached", testutil.MemcachedAddr())
	testAPQShared(t, a, b, proxy)
}

func testAPQShared(t *testing.T, a, b *env, proxy *testutil.Proxy) {
	hash := apq.Hash(apqQuery)
	// Miss, with a response no cache may keep.
	r := post(a.gql, "", pq(hash, 1))
	wantCode(t, r, "PERSISTED_QUERY_NOT_FOUND")
	if r.Status != 200 || r.Errors[0].Message != "PersistedQueryNotFound" || r.Header.Get("Cache-Control") != "private, no-cache, must-revalidate" {
		t.Errorf("miss: HTTP %d, Cache-Control %q, %s", r.Status, r.Header.Get("Cache-Control"), r.Raw)
	}
	// Register on A; hit on B, by POST and by GET.
	wantData(t, post(a.gql, apqQuery, pq(hash, 1)))
	wantData(t, post(b.gql, "", pq(hash, 1)))
	ext, _ := json.Marshal(pq(hash, 1))
	wantData(t, get(b.gql, url.Values{"extensions": {string(ext)}}))
	// A registration whose query does not hash to the hash; an unsupported version.
	wantCode(t, post(a.gql, apqQuery+" ", pq(hash, 1)), "PERSISTED_QUERY_HASH_MISMATCH")
	wantCode(t, post(a.gql, "", pq(hash, 2)), "PERSISTED_QUERY_BAD_REQUEST")
	wantCode(t, post(a.gql, "", map[string]any{"persistedQuery": "x"}), "PERSISTED_QUERY_BAD_REQUEST")
	wantCode(t, post(a.gql, "", pq(strings.Repeat("ab", 5000), 1)), "PERSISTED_QUERY_BAD_REQUEST") // never a 10 kB cache key
	wantCode(t, post(a.gql, "", pq("not-a-hash", 1)), "PERSISTED_QUERY_BAD_REQUEST")
	wantData(t, post(b.gql, "", pq(strings.ToUpper(hash), 1))) // hex digits in either case

	// The shared store goes away: no request fails, registrations stay local.
	proxy.Cut()
	other := `query Other { customers { totalCount } }`
	oh := apq.Hash(other)
	wantCode(t, post(a.gql, "", pq(oh, 1)), "PERSISTED_QUERY_NOT_FOUND")
	r = post(a.gql, other, pq(oh, 1))
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("register with the store down: %s", r.Raw)
	}
	if !a.app.APQ.Degraded() {
		t.Error("cache not degraded with its store down")
	}
	if r := post(a.gql, "", pq(oh, 1)); len(r.Errors) > 0 {
		t.Errorf("local hit with the store down: %s", r.Raw)
	}
	wantCode(t, post(b.gql, "", pq(oh, 1)), "PERSISTED_QUERY_NOT_FOUND") // not shared, not failed
	m := string(a.gql.Raw(http.MethodGet, "/metrics", "", nil).Raw)
	if !strings.Contains(m, "shipmentapp_apq_fallbacks_total 1") {
		t.Error("fallback not counted")
	}
	// Back: shared again.
	proxy.Restore()
	third := `query Third { shipments(first: 1) { totalCount } }`
	th := apq.Hash(third)
	wantData(t, post(a.gql, third, pq(th, 1)))
	wantData(t, post(b.gql, "", pq(th, 1)))
	if a.app.APQ.Degraded() {
		t.Error("still degraded after the store returned")
	}
}

func TestAPQExpiry(t *testing.T) {
	for _, driver := range []string{"memory", "redis"} {
		t.Run(driver, func(t *testing.T) {
			extra := []string{"APQ_TTL=400ms", "CACHE_DRIVER=" + driver}
			if driver == "redis" {
				testutil.RequireRedis(t)
				host, port, _ := strings.Cut(testutil.RedisAddr(), ":")
				extra = append(extra, "REDIS_HOST="+host, "REDIS_PORT="+port, fmt.Sprintf("REDIS_PREFIX=sa-ttl-%08x:", rand.Uint32()))
			}
			e := newEnv(t, testutil.SQLite, extra...)
			hash := apq.Hash(apqQuery)
			wantData(t, post(e.gql, apqQuery, pq(hash, 1)))
			wantData(t, post(e.gql, "", pq(hash, 1)))
			time.Sleep(700 * time.Millisecond)
			wantCode(t, post(e.gql, "", pq(hash, 1)), "PERSISTED_QUERY_NOT_FOUND")
		})
	}
}

func TestAPQOff(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "PERSISTED_QUERIES=off")
	r := post(e.gql, "", pq(apq.Hash(apqQuery), 1))
	wantCode(t, r, "PERSISTED_QUERY_NOT_SUPPORTED")
	if r.Errors[0].Message != "PersistedQueryNotSupported" || r.Header.Get("Cache-Control") != "private, no-cache, must-revalidate" {
		t.Errorf("not supported: %q %s", r.Header.Get("Cache-Control"), r.Raw)
	}
	wantData(t, post(e.gql, apqQuery, nil))
}

func TestAllowlist(t *testing.T) {
	for _, bypass := range []bool{false, true} {
		t.Run(fmt.Sprintf("admin bypass %v", bypass), func(t *testing.T) {
			e := newEnv(t, testutil.SQLite, "PERSISTED_QUERIES=allowlist", fmt.Sprintf("PERSISTED_QUERIES_ADMIN_BYPASS=%v", bypass))
			listed := `query Listed { shipments { totalCount } }`
			relayDoc := `query RelayListed { shipments(first: 2) { totalCount } }`
			apollo, _ := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
				"operations": []any{map[string]any{"id": apq.Hash(listed), "name": "Listed", "type": "query", "body": listed}}})
			relay, _ := json.Marshal(map[string]string{"5f2b1c0d9e8a7b6c": relayDoc})
			for _, m := range [][]byte{apollo, relay} {
				e.importManifest(t, m)
			}
			staff := e.gql.Anonymous().As(e.key(auth.RoleStaff))
			for _, c := range []*testutil.Client{staff, e.gql} {
				wantData(t, post(c, "", pq(apq.Hash(listed), 1)))
				wantData(t, post(c, listed, nil))
				b, _ := json.Marshal(map[string]any{"documentId": "5f2b1c0d9e8a7b6c"})
				wantData(t, c.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, b))
				b, _ = json.Marshal(map[string]any{"id": apq.Hash(listed)})
				wantData(t, c.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, b))
				wantData(t, get(c, url.Values{"documentId": {"5f2b1c0d9e8a7b6c"}}))
			}
			unlisted := `query Unlisted { shipments { totalCount } customers { totalCount } }`
			r := post(staff, unlisted, nil)
			wantCode(t, r, "PERSISTED_QUERY_NOT_ALLOWED")
			if r.Header.Get("Cache-Control") == "" {
				t.Error("refusal without Cache-Control")
			}
			wantCode(t, post(staff, "", pq(apq.Hash(unlisted), 1)), "PERSISTED_QUERY_NOT_ALLOWED")
			wantCode(t, post(staff, unlisted, pq(apq.Hash(listed), 1)), "PERSISTED_QUERY_HASH_MISMATCH")
			r = post(e.gql, unlisted, nil) // admin
			if bypass {
				wantData(t, r)
			} else {
				wantCode(t, r, "PERSISTED_QUERY_NOT_ALLOWED")
			}
		})
	}
}

// importManifest adds a persisted-query manifest's documents to e's
// allowlist, as shipmentapp persisted import does (parsed, validated
// against the schema, stored).
func (e *env) importManifest(t *testing.T, manifest []byte) {
	t.Helper()
	docs, err := apq.ParseManifest(manifest)
	if err == nil {
		err = apq.Validate(generated.NewExecutableSchema(generated.Config{}).Schema(), docs)
	}
	if err == nil {
		err = apq.Import(system(), e.app.Client, docs)
	}
	if err != nil {
		t.Fatal(err)
	}
}
