package app

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/ratelimit"
)

// rateLimit spends one request of the client address's budget and, when the
// request carries credentials, of theirs; over either, 429 with Retry-After.
// Every answer says what is left (rateLimitHeaders), so that a client can
// slow down before it is refused.
func (a *App) rateLimit(next http.Handler) http.Handler {
	trusted, _ := a.Config.Limits.TrustedNets() // validated by config
	ipLimit := ratelimit.Limit{PerMinute: a.Config.Limits.IPPerMinute}
	keyLimit := ratelimit.Limit{PerMinute: a.Config.Limits.KeyPerMinute}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checks := []rateCheck{{"ip", clientIP(r, trusted), ipLimit}}
		if k := viewerKey(r); strings.HasPrefix(k, "cred:") {
			checks = append(checks, rateCheck{"key", k, keyLimit})
		}
		var head rateLimitHeaders
		for _, c := range checks {
			res := a.Limiter.Take(r.Context(), c.scope, c.key, c.lim)
			head.add(c.scope, c.lim, res)
			if !res.Allowed {
				secs := ceilSeconds(res.RetryAfter)
				head.set(w.Header())
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				apperr.WriteHTTP(w, http.StatusTooManyRequests, apperr.RateLimited,
					fmt.Sprintf("too many requests; retry in %d s", secs))
				return
			}
		}
		head.set(w.Header())
		next.ServeHTTP(w, r)
	})
}

// rateCheck is one budget a request spends from: a scope (the policy's
// name), the key of the client in it, and its limit.
type rateCheck struct {
	scope, key string
	lim        ratelimit.Limit
}

// rateLimitHeaders are the RateLimit-Policy and RateLimit fields of the IETF
// draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-
// headers-11, structured-field lists): one policy per budget the request
// spent from, named by its scope ("ip", "key"), with its quota q per window
// w of 60 s; and for each, the requests r left and the seconds t until the
// budget is whole again (on a refusal, until the next request passes: the
// Retry-After). Budgets without a limit are left out.
type rateLimitHeaders struct {
	policy, limit []string
}

func (h *rateLimitHeaders) add(scope string, lim ratelimit.Limit, res ratelimit.Result) {
	if lim.PerMinute <= 0 {
		return
	}
	t := ceilSeconds(res.ResetAfter)
	if !res.Allowed {
		t = ceilSeconds(res.RetryAfter)
	} else if res.ResetAfter <= 0 {
		t = 0
	}
	h.policy = append(h.policy, fmt.Sprintf("%q;q=%d;w=60", scope, lim.PerMinute))
	h.limit = append(h.limit, fmt.Sprintf("%q;r=%d;t=%d", scope, res.Remaining, t))
}

func (h *rateLimitHeaders) set(hd http.Header) {
	if len(h.policy) == 0 {
		return
	}
	hd.Set("RateLimit-Policy", strings.Join(h.policy, ", "))
	hd.Set("RateLimit", strings.Join(h.limit, ", "))
}

// ceilSeconds is d in whole seconds, rounded up, at least 1.
func ceilSeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
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
