// Package dbroute is the one place that decides which database a statement
// goes to (the primary, a read replica, or Dolibarr) and counts what it sends:
// per request, for tests and benchmarks, and in total, for /metrics.
package dbroute

import (
	"context"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
)

// Targets of statements.
const (
	TargetPrimary  = "primary"
	TargetReplica  = "replica"
	TargetDolibarr = "dolibarr"
)

// Metrics are the Prometheus collectors of this package.
type Metrics struct {
	statements *prometheus.CounterVec
	switches   *prometheus.CounterVec
	lag        *prometheus.GaugeVec
}

// NewMetrics registers the collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_sql_statements_total",
			Help: "SQL statements sent, by target database (primary, replica, dolibarr).",
		}, []string{"target"}),
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_replica_switches_total",
			Help: "Times a read replica was taken out of (to=primary) or put back into (to=replica) the read path.",
		}, []string{"replica", "to"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shipmentapp_replica_lag_seconds",
			Help: "Replication lag of each read replica, as last measured by the heartbeat (DB_REPLICA_MAX_LAG takes it out of the read path).",
		}, []string{"replica"}),
	}
	reg.MustRegister(m.statements, m.switches, m.lag)
	return m
}

// Counter counts the statements of one request by target.
type Counter struct {
	primary, replica, dolibarr atomic.Int64
}

type counterKey struct{}

// WithCounter returns a context whose statements are counted by the returned Counter.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	c := &Counter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// Get returns the count for target.
func (c *Counter) Get(target string) int {
	switch target {
	case TargetPrimary:
		return int(c.primary.Load())
	case TargetReplica:
		return int(c.replica.Load())
	case TargetDolibarr:
		return int(c.dolibarr.Load())
	}
	return 0
}

// Total returns the count over every target.
func (c *Counter) Total() int {
	return c.Get(TargetPrimary) + c.Get(TargetReplica) + c.Get(TargetDolibarr)
}

func (c *Counter) add(target string) {
	switch target {
	case TargetPrimary:
		c.primary.Add(1)
	case TargetReplica:
		c.replica.Add(1)
	case TargetDolibarr:
		c.dolibarr.Add(1)
	}
}

// counted wraps a driver so that every statement, in or out of a transaction,
// is counted for its target.
type counted struct {
	dialect.Driver
	target string
	total  prometheus.Counter
}

// Count wraps drv so its statements count for target (m may be nil).
func Count(drv dialect.Driver, target string, m *Metrics) dialect.Driver {
	c := &counted{Driver: drv, target: target}
	if m != nil {
		c.total = m.statements.WithLabelValues(target)
	}
	return c
}

func (c *counted) count(ctx context.Context) {
	if c.total != nil {
		c.total.Inc()
	}
	if rc, ok := ctx.Value(counterKey{}).(*Counter); ok {
		rc.add(c.target)
	}
}

func (c *counted) Exec(ctx context.Context, query string, args, v any) error {
	c.count(ctx)
	return c.Driver.Exec(ctx, query, args, v)
}

func (c *counted) Query(ctx context.Context, query string, args, v any) error {
	c.count(ctx)
	return c.Driver.Query(ctx, query, args, v)
}

func (c *counted) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countedTx{Tx: tx, c: c}, nil
}

type countedTx struct {
	dialect.Tx
	c *counted
}

func (t *countedTx) Exec(ctx context.Context, query string, args, v any) error {
	t.c.count(ctx)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countedTx) Query(ctx context.Context, query string, args, v any) error {
	t.c.count(ctx)
	return t.Tx.Query(ctx, query, args, v)
}
