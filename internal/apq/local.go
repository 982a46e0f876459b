package apq

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// localCache is a size-bounded LRU of strings whose entries expire after a
// TTL (none when it is 0 or less), checked when they are read. Unlike
// golang-lru's expirable LRU, which starts a goroutine per cache that never
// ends (v2.0.7: "done channel is never closed"), it holds nothing once its
// owner is gone: the soak test found two such goroutines, and the caches
// they kept reachable, left behind by every closed App.
type localCache struct {
	lru *lru.Cache[string, localEntry]
	ttl time.Duration
}

type localEntry struct {
	value   string
	expires time.Time // zero: never
}

func newLocalCache(size int, ttl time.Duration) *localCache {
	c, _ := lru.New[string, localEntry](max(size, 1)) // errs only when size <= 0
	return &localCache{lru: c, ttl: ttl}
}

// Get returns key's value unless it is missing or expired.
func (c *localCache) Get(key string) (string, bool) {
	e, ok := c.lru.Get(key)
	if !ok {
		return "", false
	}
	if !e.expires.IsZero() && !time.Now().Before(e.expires) {
		c.lru.Remove(key)
		return "", false
	}
	return e.value, true
}

// Add stores value under key for the TTL (from now, also when key was there).
func (c *localCache) Add(key, value string) {
	e := localEntry{value: value}
	if c.ttl > 0 {
		e.expires = time.Now().Add(c.ttl)
	}
	c.lru.Add(key, e)
}
