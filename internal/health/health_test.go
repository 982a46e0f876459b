package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// flaky is a dependency the test takes down and up.
type flaky struct{ down atomic.Bool }

func (f *flaky) probe(context.Context) error {
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

func waitStatus(t *testing.T, c *Checker, want string, code int) Report {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec := httptest.NewRecorder()
		c.Ready().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		r := c.Report()
		if r.Status == want && rec.Code == code {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %s (%d), have %s (%d)", want, code, r.Status, rec.Code)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReadiness(t *testing.T) {
	primary, cache := &flaky{}, &flaky{}
	var cacheProbes atomic.Int32
	checks := []Check{
		{Name: "primary", Critical: true, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, Retries: 3, Probe: primary.probe},
		{Name: "cache", Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, Retries: 3, Probe: func(ctx context.Context) error {
			cacheProbes.Add(1)
			return cache.probe(ctx)
		}},
		{Name: "slow", Interval: time.Hour, Timeout: 10 * time.Millisecond, Retries: 1, Probe: func(ctx context.Context) error {
			<-ctx.Done() // a dependency that hangs: the timeout ends the check
			return ctx.Err()
		}},
	}
	c := New(checks, nil, nil)
	if r := c.Report(); r.Status != StatusUnavailable {
		t.Fatalf("before the first checks: %s", r.Status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := c.Start(ctx)
	defer func() { cancel(); wait() }()
	r := waitStatus(t, c, StatusDegraded, http.StatusOK)
	if r.Checks["slow"].Error != "timed out" {
		t.Fatalf("a hung check: %+v", r.Checks["slow"])
	}

	// One failure is not enough to mark the cache down: three in a row are.
	cache.down.Store(true)
	before := cacheProbes.Load()
	for c.Report().Checks["cache"].Status != StatusDown {
		time.Sleep(time.Millisecond)
	}
	if n := cacheProbes.Load() - before; n < 3 {
		t.Fatalf("down after %d probes, want at least 3", n)
	}
	cache.down.Store(false)
	primary.down.Store(true)
	r = waitStatus(t, c, StatusUnavailable, http.StatusServiceUnavailable)
	if r.Checks["primary"].Status != StatusDown || r.Checks["cache"].Status != StatusUp {
		t.Fatalf("%+v", r.Checks)
	}
	primary.down.Store(false)
	waitStatus(t, c, StatusDegraded, http.StatusOK) // "slow" stays down
	c.ShuttingDown()
	waitStatus(t, c, StatusStopping, http.StatusServiceUnavailable)
}

// TestErrorText: /readyz says what is wrong, not where the dependencies are.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"dial tcp 10.0.3.7:3306: connect: connection refused", "dial tcp <address>: connect: connection refused"},
		{"dial tcp [fd00::3]:6379: i/o timeout", "dial tcp <address>: i/o timeout"},
		{"dial tcp: lookup mysql-primary.internal: no such host", "dial tcp: lookup mysql-primary.internal: no such host"},
		{"dial tcp mysql-primary.internal:3306: connect: connection refused", "dial tcp <address>: connect: connection refused"},
		{`s3 bucket files: Get "https://s3.eu-west-3.amazonaws.com/files?x=1": EOF`, `s3 bucket files: Get "<address>": EOF`},
		{"Error 1045 (28000): Access denied for user 'app'@'172.28.0.5'", "Error 1045 (28000): Access denied for user 'app'@'<address>'"},
		{"redis: connection pool timeout", "redis: connection pool timeout"},
	} {
		if got := errorText(errors.New(tc.err)); got != tc.want {
			t.Errorf("errorText(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := errorText(context.DeadlineExceeded); got != "timed out" {
		t.Errorf("deadline: %q", got)
	}
}
