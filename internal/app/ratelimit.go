package app

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/ratelimit"
)

// rateLimit spends one request of the client address's budget and, when the
// request carries credentials, of theirs; over either, 429 with Retry-After.
func (a *App) rateLimit(next http.Handler) http.Handler {
	trusted, _ := a.Config.Limits.TrustedNets() // validated by config
	ipLimit := ratelimit.Limit{PerMinute: a.Config.Limits.IPPerMinute}
	keyLimit := ratelimit.Limit{PerMinute: a.Config.Limits.KeyPerMinute}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checks := []struct {
			scope, key string
			lim        ratelimit.Limit
		}{{"ip", clientIP(r, trusted), ipLimit}}
		if k := viewerKey(r); strings.HasPrefix(k, "cred:") {
			checks = append(checks, struct {
				scope, key string
				lim        ratelimit.Limit
			}{"key", k, keyLimit})
		}
		for _, c := range checks {
			if ok, retry := a.Limiter.Allow(r.Context(), c.scope, c.key, c.lim); !ok {
				secs := int(math.Ceil(retry.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				apperr.WriteHTTP(w, http.StatusTooManyRequests, apperr.RateLimited,
					fmt.Sprintf("too many requests; retry in %d s", max(secs, 1)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP is the address of the client: the peer, or, when the peer is a
// trusted proxy, the last address in X-Forwarded-For that is not one.
func clientIP(r *http.Request, trusted []*net.IPNet) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(s string) bool {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return false
		}
		for _, n := range trusted {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	if !isTrusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if !isTrusted(hop) {
			if net.ParseIP(hop) == nil {
				return host // a forged, unparsable hop: judge the proxy itself
			}
			return hop
		}
	}
	return host
}
