// Package redisx opens the shared Redis (standalone, Sentinel or Cluster)
// through go-redis's universal client, from the REDIS_* configuration.
package redisx

import (
	"net"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/shipmentapp/shipmentapp/internal/config"
)

// New returns a client for cfg, or nil when no Redis is configured (the
// embedded default: in-process caches and limits only). It does not connect:
// a Redis that is down at start is a degraded service, not a failed start.
func New(cfg config.Redis) redis.UniversalClient {
	addrs := cfg.Addresses()
	if len(addrs) == 0 {
		return nil
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        addrs,
		MasterName:   cfg.MasterName,
		Password:     cfg.Password,
		DB:           cfg.DB,
		DialTimeout:  cfg.Timeout * 4,
		ReadTimeout:  cfg.Timeout,
		WriteTimeout: cfg.Timeout,
		PoolTimeout:  cfg.Timeout * 2,
		// One quick attempt: callers fall back rather than wait.
		MaxRetries: 1,
	})
}

// Addr joins a host and port.
func Addr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
