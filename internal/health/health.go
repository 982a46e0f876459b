// Package health checks the service's dependencies in the background and
// answers liveness and readiness probes from the last results, so a probe
// never waits on a dependency.
//
// Each check runs every Interval with a Timeout; a failure is retried (every
// Timeout) and the dependency is down after Retries failures in a row, up
// again at the first success. Readiness fails when a critical dependency is
// down (the primary database, the file store) and is "degraded", but still
// ready, when another one is (replica, Dolibarr, cache): the service answers
// without them, slower or with partial data.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Check is one dependency.
type Check struct {
	Name string
	// Critical dependencies make the service unready when down.
	Critical bool
	Interval time.Duration
	Timeout  time.Duration
	// Retries is how many failures in a row mark the dependency down.
	Retries int
	Probe   func(ctx context.Context) error
}

// Status of a dependency or of the whole service.
const (
	StatusUp          = "up"
	StatusDown        = "down"
	StatusOK          = "ok"
	StatusDegraded    = "degraded"
	StatusUnavailable = "unavailable"
	StatusStopping    = "shutting_down"
)

type state struct {
	Status    string    `json:"status"`
	Critical  bool      `json:"critical"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checkedAt"`
	LatencyMS float64   `json:"latencyMs"`
	failures  int
}

// Checker runs the checks.
type Checker struct {
	checks   []Check
	log      *slog.Logger
	mu       sync.RWMutex
	states   map[string]*state
	stopping atomic.Bool
	gauge    *prometheus.GaugeVec
}

// New returns a Checker over checks; nothing runs before Start.
func New(checks []Check, logger *slog.Logger, reg prometheus.Registerer) *Checker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Checker{checks: checks, log: logger, states: map[string]*state{}}
	c.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "shipmentapp_dependency_up",
		Help: "1 when the dependency's last checks succeeded, 0 when it is down.",
	}, []string{"dependency", "critical"})
	if reg != nil {
		reg.MustRegister(c.gauge)
	}
	return c
}

// Start checks every dependency once (in parallel, within their timeouts),
// then keeps checking in the background until ctx is done; the returned
// function waits for the background work to stop.
func (c *Checker) Start(ctx context.Context) (wait func()) {
	var first, all sync.WaitGroup
	for _, chk := range c.checks {
		first.Add(1)
		all.Add(1)
		go func() {
			defer all.Done()
			c.run(ctx, chk, first.Done)
		}()
	}
	first.Wait()
	return all.Wait
}

func (c *Checker) run(ctx context.Context, chk Check, checked func()) {
	once := sync.OnceFunc(checked)
	defer once()
	for {
		failed := c.checkOnce(ctx, chk)
		once()
		next := chk.Interval
		if failed {
			next = chk.Timeout // retry soon: down after Retries in a row
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

// checkOnce probes chk and records the result; it reports a failure.
func (c *Checker) checkOnce(ctx context.Context, chk Check) bool {
	pctx, cancel := context.WithTimeout(ctx, chk.Timeout)
	start := time.Now()
	err := chk.Probe(pctx)
	cancel()
	if ctx.Err() != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.states[chk.Name]
	if st == nil {
		st = &state{Status: StatusUp, Critical: chk.Critical}
		c.states[chk.Name] = st
	}
	st.CheckedAt = start.UTC()
	st.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	critical := "false"
	if chk.Critical {
		critical = "true"
	}
	if err == nil {
		if st.Status == StatusDown {
			c.log.Info("dependency is back", slog.String("dependency", chk.Name))
		}
		st.Status, st.Error, st.failures = StatusUp, "", 0
		c.gauge.WithLabelValues(chk.Name, critical).Set(1)
		return false
	}
	st.failures++
	st.Error = errorText(err)
	if st.failures >= max(chk.Retries, 1) {
		if st.Status != StatusDown {
			c.log.Warn("dependency is down", slog.String("dependency", chk.Name), slog.Bool("critical", chk.Critical), slog.String("error", err.Error()))
		}
		st.Status = StatusDown
		c.gauge.WithLabelValues(chk.Name, critical).Set(0)
	}
	return true
}

// addresses are what errorText hides: IPv4 and bracketed IPv6 addresses,
// host:port pairs, and URLs.
var addresses = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^\s"']+|\[[0-9A-Fa-f:.%]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|\b[A-Za-z0-9][A-Za-z0-9.-]*:\d{2,5}\b`)

// errorText keeps a probe's error short and free of addresses a caller
// could exploit (/readyz needs no credentials); the log has the rest.
func errorText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	s := addresses.ReplaceAllString(err.Error(), "<address>")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Report is the readiness answer.
type Report struct {
	Status string            `json:"status"`
	Checks map[string]*state `json:"checks"`
}

// Report returns the service's status and each dependency's.
func (c *Checker) Report() Report {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r := Report{Status: StatusOK, Checks: map[string]*state{}}
	names := make([]string, 0, len(c.states))
	for name := range c.states {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		st := *c.states[name]
		r.Checks[name] = &st
		if st.Status == StatusDown {
			if st.Critical {
				r.Status = StatusUnavailable
			} else if r.Status == StatusOK {
				r.Status = StatusDegraded
			}
		}
	}
	if len(c.states) < len(c.checks) {
		r.Status = StatusUnavailable // not every dependency checked yet
	}
	if c.stopping.Load() {
		r.Status = StatusStopping
	}
	return r
}

// ShuttingDown makes readiness fail from now on, so the load balancer stops
// sending requests before the server stops accepting them.
func (c *Checker) ShuttingDown() { c.stopping.Store(true) }

// Ready serves /readyz: 200 when ok or degraded, 503 otherwise, with the
// report as JSON.
func (c *Checker) Ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r := c.Report()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if r.Status != StatusOK && r.Status != StatusDegraded {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(r)
	})
}
