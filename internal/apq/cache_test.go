package apq_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shipmentapp/shipmentapp/internal/apq"
)

// TestCacheLeavesNoGoroutine: a Cache and a DBAllowlist start no goroutine,
// so an App that is closed leaves none behind (the soak test found two per
// App, each keeping its cache reachable, with golang-lru's expirable LRU).
func TestCacheLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		c := apq.NewCache(apq.CacheOptions{TTL: time.Hour, Size: 10})
		c.Add(context.Background(), "h", "{ a }")
		apq.NewDBAllowlist(nil)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before, %d after making 20 caches and allowlists", before, n)
	}
}

// TestCacheTTL: an entry of the in-process cache is served until its TTL,
// then no more; TTL 0 keeps it.
func TestCacheTTL(t *testing.T) {
	ctx := context.Background()
	short := apq.NewCache(apq.CacheOptions{TTL: 100 * time.Millisecond, Size: 10})
	forever := apq.NewCache(apq.CacheOptions{Size: 10})
	for _, c := range []*apq.Cache{short, forever} {
		c.Add(ctx, "h", "{ a }")
		if q, ok := c.Get(ctx, "h"); !ok || q != "{ a }" {
			t.Fatalf("fresh entry: %q %v", q, ok)
		}
	}
	time.Sleep(150 * time.Millisecond)
	if q, ok := short.Get(ctx, "h"); ok {
		t.Errorf("entry served after its TTL: %q", q)
	}
	if _, ok := forever.Get(ctx, "h"); !ok {
		t.Error("entry without a TTL expired")
	}
	// Added again: served again.
	short.Add(ctx, "h", "{ b }")
	if q, ok := short.Get(ctx, "h"); !ok || q != "{ b }" {
		t.Errorf("re-added entry: %q %v", q, ok)
	}
}

// TestCacheCountsLookups: every Get counts one hit or one miss.
func TestCacheCountsLookups(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	c := apq.NewCache(apq.CacheOptions{Size: 10, Registry: reg})
	c.Add(ctx, "h", "{ a }")
	for range 3 {
		c.Get(ctx, "h")
	}
	c.Get(ctx, "other")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "shipmentapp_apq_lookups_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if got["hit"] != 3 || got["miss"] != 1 || len(got) != 2 {
		t.Errorf("lookups %v, want 3 hits and 1 miss", got)
	}
}
