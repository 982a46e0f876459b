// Package apq implements persisted queries: Automatic Persisted Queries as
// Apollo's protocol defines them, with the registered documents in Redis,
// memcached or an in-process LRU, and a trusted-documents allowlist.
package apq

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Store is a shared store of registered documents (Redis, memcached).
type Store interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	Name() string
}

// Cache is gqlgen's graphql.Cache[string] for APQ: an in-process LRU in front
// of an optional shared Store. Every shared call has its own short timeout; a
// failing store is skipped (a miss just makes the client resend the full
// document), the switch is logged once each way and counted.
type Cache struct {
	local   *localCache
	shared  Store
	prefix  string
	ttl     time.Duration
	timeout time.Duration
	logger  *slog.Logger

	degraded atomic.Bool
	lookups  *prometheus.CounterVec
	// hits and misses are lookups' two series, resolved once: a lookup by
	// label costs a hash of the label and a lock on every request.
	hits, misses prometheus.Counter
	fallback     prometheus.Counter
	errs         prometheus.Counter
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	Shared   Store // nil: in-process only
	Prefix   string
	TTL      time.Duration
	Size     int
	Timeout  time.Duration
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// NewCache returns a Cache.
func NewCache(o CacheOptions) *Cache {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{
		local:   newLocalCache(o.Size, o.TTL),
		shared:  o.Shared,
		prefix:  o.Prefix + "apq:",
		ttl:     o.TTL,
		timeout: o.Timeout,
		logger:  o.Logger,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_apq_lookups_total",
			Help: "Persisted query lookups by result (hit, miss).",
		}, []string{"result"}),
		fallback: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shipmentapp_apq_fallbacks_total",
			Help: "Times the persisted query cache fell back from its shared store to the in-process LRU.",
		}),
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shipmentapp_apq_store_errors_total",
			Help: "Calls to the shared persisted query store that failed or timed out.",
		}),
	}
	c.hits, c.misses = c.lookups.WithLabelValues("hit"), c.lookups.WithLabelValues("miss")
	if o.Registry != nil {
		o.Registry.MustRegister(c.lookups, c.fallback, c.errs)
	}
	return c
}

// Degraded reports whether the shared store is currently skipped.
func (c *Cache) Degraded() bool { return c.degraded.Load() }

// Get implements graphql.Cache.
func (c *Cache) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := c.local.Get(hash); ok {
		c.hits.Inc()
		return q, true
	}
	if c.shared != nil {
		sctx, cancel := context.WithTimeout(ctx, c.timeout)
		q, ok, err := c.shared.Get(sctx, c.prefix+hash)
		cancel()
		c.observe(err)
		if err == nil && ok {
			c.local.Add(hash, q)
			c.hits.Inc()
			return q, true
		}
	}
	c.misses.Inc()
	return "", false
}

// Add implements graphql.Cache.
func (c *Cache) Add(ctx context.Context, hash, query string) {
	c.local.Add(hash, query)
	if c.shared != nil {
		sctx, cancel := context.WithTimeout(ctx, c.timeout)
		err := c.shared.Set(sctx, c.prefix+hash, query, c.ttl)
		cancel()
		c.observe(err)
	}
}

func (c *Cache) observe(err error) {
	if err == nil {
		if c.degraded.CompareAndSwap(true, false) {
			c.logger.Info("persisted query cache back on its shared store", slog.String("store", c.shared.Name()))
		}
		return
	}
	c.errs.Inc()
	if c.degraded.CompareAndSwap(false, true) {
		c.fallback.Inc()
		c.logger.Warn("persisted query cache falls back to the in-process LRU", slog.String("store", c.shared.Name()), slog.String("error", err.Error()))
	}
}

// RedisStore keeps documents in Redis.
type RedisStore struct{ Client redis.UniversalClient }

// Name implements Store.
func (RedisStore) Name() string { return "redis" }

// Get implements Store.
func (s RedisStore) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := s.Client.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	return v, err == nil, err
}

// Set implements Store.
func (s RedisStore) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	return s.Client.Set(ctx, key, value, ttl).Err()
}

// MemcachedStore keeps documents in memcached.
type MemcachedStore struct{ Client *memcache.Client }

// Name implements Store.
func (MemcachedStore) Name() string { return "memcached" }

// Get implements Store. gomemcache has no per-call context: its client
// timeout bounds each call.
func (s MemcachedStore) Get(_ context.Context, key string) (string, bool, error) {
	it, err := s.Client.Get(memcacheKey(key))
	if errors.Is(err, memcache.ErrCacheMiss) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(it.Value), true, nil
}

// Set implements Store.
func (s MemcachedStore) Set(_ context.Context, key, value string, ttl time.Duration) error {
	return s.Client.Set(&memcache.Item{Key: memcacheKey(key), Value: []byte(value), Expiration: int32(ttl / time.Second)})
}

// memcacheKey keeps keys within memcached's 250 printable bytes (prefix and a
// 64-hex-digit hash are well within).
func memcacheKey(k string) string {
	if len(k) > 250 {
		return k[:250]
	}
	return k
}
