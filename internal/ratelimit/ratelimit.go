// Package ratelimit limits requests per client address and per credential
// with GCRA in Redis (shared by every instance), and falls back to an
// in-process limiter, per instance, when Redis is slow or down: requests keep
// being served, the switch is logged once each way and counted.
package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a number of requests per minute, with a burst of the same size.
type Limit struct {
	PerMinute int
}

// Options configure a Limiter.
type Options struct {
	// Redis is the shared store; nil for the in-process limiter only.
	Redis redis.UniversalClient
	// Prefix namespaces the Redis keys.
	Prefix string
	// Timeout bounds each Redis call; past it the request is judged locally.
	Timeout  time.Duration
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// Limiter decides whether a request may go on.
type Limiter struct {
	opts     Options
	shared   *redis_rate.Limiter
	local    *local
	degraded atomic.Bool

	rejections *prometheus.CounterVec
	fallbacks  prometheus.Counter
	redisErrs  prometheus.Counter
}

// New returns a Limiter.
func New(opts Options) *Limiter {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 50 * time.Millisecond
	}
	l := &Limiter{opts: opts, local: newLocal()}
	if opts.Redis != nil {
		l.shared = redis_rate.NewLimiter(opts.Redis)
	}
	l.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmentapp_rate_limit_rejections_total",
		Help: "Requests refused with 429, by scope (ip, key).",
	}, []string{"scope"})
	l.fallbacks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shipmentapp_rate_limit_fallbacks_total",
		Help: "Times the rate limiter fell back from Redis to the in-process limiter.",
	})
	l.redisErrs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shipmentapp_rate_limit_redis_errors_total",
		Help: "Redis calls of the rate limiter that failed or timed out.",
	})
	if opts.Registry != nil {
		opts.Registry.MustRegister(l.rejections, l.fallbacks, l.redisErrs)
	}
	return l
}

// Degraded reports whether the limiter currently judges locally because Redis failed.
func (l *Limiter) Degraded() bool { return l.degraded.Load() }

// Result is what one request's check found: whether it may go on, and the
// state of its budget afterwards, for the RateLimit response header.
type Result struct {
	// Allowed is whether the request may go on.
	Allowed bool
	// Remaining is how many more requests the budget allows right now.
	Remaining int
	// RetryAfter, when the request was refused, is when the next one would pass.
	RetryAfter time.Duration
	// ResetAfter is when the budget is whole again (Remaining back to the limit).
	ResetAfter time.Duration
}

// Allow spends one request of key's budget under lim. When refused,
// retryAfter says when the next request would pass. scope labels the metric.
func (l *Limiter) Allow(ctx context.Context, scope, key string, lim Limit) (allowed bool, retryAfter time.Duration) {
	res := l.Take(ctx, scope, key, lim)
	return res.Allowed, res.RetryAfter
}

// Take spends one request of key's budget under lim and says what is left
// of it. A limit of zero or less allows everything (Remaining is then 0, and
// means nothing). scope labels the metric.
func (l *Limiter) Take(ctx context.Context, scope, key string, lim Limit) (res Result) {
	if lim.PerMinute <= 0 {
		return Result{Allowed: true}
	}
	defer func() {
		if !res.Allowed {
			l.rejections.WithLabelValues(scope).Inc()
		}
	}()
	if l.shared != nil {
		rctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
		r, err := l.shared.Allow(rctx, l.opts.Prefix+scope+":"+key, redis_rate.PerMinute(lim.PerMinute))
		cancel()
		if err == nil {
			if l.degraded.CompareAndSwap(true, false) {
				l.opts.Logger.Info("rate limiter back on Redis")
			}
			return Result{
				Allowed: r.Allowed > 0, Remaining: max(r.Remaining, 0),
				RetryAfter: max(r.RetryAfter, 0), ResetAfter: max(r.ResetAfter, 0),
			}
		}
		l.redisErrs.Inc()
		if l.degraded.CompareAndSwap(false, true) {
			l.fallbacks.Inc()
			l.opts.Logger.Warn("rate limiter falls back to in-process limits: Redis failed", slog.String("error", err.Error()))
		}
	}
	return l.local.take(scope+":"+key, lim)
}

// local is a per-instance GCRA-equivalent token bucket per key.
type local struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLocal() *local { return &local{buckets: map[string]*bucket{}} }

func (l *local) take(key string, lim Limit) Result {
	now := time.Now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(lim.PerMinute)/60), lim.PerMinute)}
		l.buckets[key] = b
	}
	b.seen = now
	// Forget buckets idle for two minutes (they would be full again anyway).
	if now.Sub(l.swept) > time.Minute {
		for k, v := range l.buckets {
			if now.Sub(v.seen) > 2*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	l.mu.Unlock()
	res := Result{Allowed: true}
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		res = Result{RetryAfter: d}
	}
	tokens := max(b.lim.TokensAt(now), 0)
	res.Remaining = int(tokens)
	res.ResetAfter = time.Duration((float64(lim.PerMinute) - tokens) / float64(b.lim.Limit()) * float64(time.Second))
	return res
}
