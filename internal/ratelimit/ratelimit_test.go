package ratelimit_test

import (
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/ratelimit"
)

// TestTakeLocal: the in-process limiter spends one request at a time, says
// what is left and when the budget is whole again, and refuses past it with
// the time to the next request.
func TestTakeLocal(t *testing.T) {
	l := ratelimit.New(ratelimit.Options{})
	lim := ratelimit.Limit{PerMinute: 3}
	for i, want := range []struct {
		allowed   bool
		remaining int
	}{{true, 2}, {true, 1}, {true, 0}, {false, 0}} {
		res := l.Take(t.Context(), "ip", "203.0.113.7", lim)
		if res.Allowed != want.allowed || res.Remaining != want.remaining {
			t.Fatalf("request %d: %+v, want allowed %v with %d left", i, res, want.allowed, want.remaining)
		}
		// 3 a minute: a request comes back every 20 s.
		spent := float64(i + 1)
		if !res.Allowed {
			spent = 3
			if res.RetryAfter <= 0 || res.RetryAfter > 20*time.Second {
				t.Errorf("request %d: retry after %s, want (0, 20s]", i, res.RetryAfter)
			}
		} else if res.RetryAfter != 0 {
			t.Errorf("request %d: allowed with a retry after %s", i, res.RetryAfter)
		}
		wantReset := time.Duration(spent * float64(20*time.Second))
		if d := res.ResetAfter - wantReset; d > time.Second || d < -time.Second {
			t.Errorf("request %d: whole again after %s, want about %s", i, res.ResetAfter, wantReset)
		}
	}
	if res := l.Take(t.Context(), "ip", "198.51.100.1", lim); !res.Allowed || res.Remaining != 2 {
		t.Errorf("another client: %+v, want its own budget", res)
	}
	if res := l.Take(t.Context(), "ip", "203.0.113.7", ratelimit.Limit{}); !res.Allowed {
		t.Errorf("no limit: %+v", res)
	}
}
