package dbroute_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shipmentapp/shipmentapp/internal/dbroute"
)

// fake is a driver that records calls and fails with err.
type fake struct {
	dialect.Driver
	queries, execs, txs atomic.Int32
	err                 error
}

func (f *fake) Query(context.Context, string, any, any) error { f.queries.Add(1); return f.err }
func (f *fake) Exec(context.Context, string, any, any) error  { f.execs.Add(1); return f.err }
func (f *fake) Tx(context.Context) (dialect.Tx, error)        { f.txs.Add(1); return nil, f.err }
func (f *fake) Dialect() string                               { return dialect.MySQL }
func (f *fake) Close() error                                  { return nil }

type beat struct {
	lag map[*dbroute.Replica]time.Duration
	err error
}

func (b beat) Beat(context.Context, time.Time) error { return nil }
func (b beat) Read(_ context.Context, r *dbroute.Replica) (time.Time, error) {
	return time.Now().Add(-b.lag[r]), b.err
}

func TestRouting(t *testing.T) {
	primary, r1, r2 := &fake{}, &fake{}, &fake{}
	rep1 := &dbroute.Replica{Name: "r1", Driver: r1}
	rep2 := &dbroute.Replica{Name: "r2", Driver: r2}
	m := dbroute.NewMetrics(prometheus.NewRegistry())
	router := dbroute.NewRouter(primary, []*dbroute.Replica{rep1, rep2}, dbroute.Options{MaxLag: time.Second, ReadYourWrites: 50 * time.Millisecond, Metrics: m})
	ctx := context.Background()

	// Before the first check, no replica is trusted.
	_ = router.Query(ctx, "SELECT 1", nil, nil)
	if primary.queries.Load() != 1 {
		t.Fatal("read went to an unchecked replica")
	}
	router.Check(ctx, beat{lag: map[*dbroute.Replica]time.Duration{rep1: 0, rep2: 3 * time.Second}}, time.Second)
	if !rep1.Healthy() || rep2.Healthy() {
		t.Fatalf("after check: r1 %v, r2 %v", rep1.Healthy(), rep2.Healthy())
	}
	for range 4 {
		_ = router.Query(ctx, "SELECT 1", nil, nil)
	}
	if r1.queries.Load() != 4 || r2.queries.Load() != 0 {
		t.Errorf("reads: r1 %d, r2 %d (r2 lags)", r1.queries.Load(), r2.queries.Load())
	}
	router.Check(ctx, beat{lag: map[*dbroute.Replica]time.Duration{}}, time.Second)
	for range 4 {
		_ = router.Query(ctx, "SELECT 1", nil, nil)
	}
	if r1.queries.Load() != 6 || r2.queries.Load() != 2 {
		t.Errorf("round robin: r1 %d, r2 %d", r1.queries.Load(), r2.queries.Load())
	}

	// Writes, transactions and UsePrimary reads go to the primary.
	_ = router.Exec(ctx, "UPDATE x", nil, nil)
	_, _ = router.Tx(ctx)
	_ = router.Query(dbroute.UsePrimary(ctx), "SELECT 1", nil, nil)
	if primary.execs.Load() != 1 || primary.txs.Load() != 1 || primary.queries.Load() != 2 {
		t.Errorf("primary: %d execs, %d txs, %d queries", primary.execs.Load(), primary.txs.Load(), primary.queries.Load())
	}

	// An SQL error is returned as is; a broken connection falls back to the
	// primary and takes the replica out.
	r1.err = &mysql.MySQLError{Number: 1064, Message: "syntax"}
	r2.err = &mysql.MySQLError{Number: 1064, Message: "syntax"}
	var me *mysql.MySQLError
	if err := router.Query(ctx, "SELEC", nil, nil); !errors.As(err, &me) {
		t.Errorf("SQL error: %v", err)
	}
	r1.err, r2.err = errors.New("connection refused"), errors.New("connection refused")
	before := primary.queries.Load()
	if err := router.Query(ctx, "SELECT 1", nil, nil); err != nil {
		t.Errorf("read with a broken replica: %v", err)
	}
	if primary.queries.Load() != before+1 || (rep1.Healthy() && rep2.Healthy()) {
		t.Errorf("no fallback: primary %d→%d, healthy %v %v", before, primary.queries.Load(), rep1.Healthy(), rep2.Healthy())
	}
	// The monitor's failing reads take both out.
	router.Check(ctx, beat{err: errors.New("down")}, time.Second)
	if rep1.Healthy() || rep2.Healthy() {
		t.Error("replicas that fail the heartbeat read stay in")
	}

	// Read-your-writes window.
	router.NoteWrite("alice")
	if !router.WroteRecently("alice") || router.WroteRecently("bob") || router.WroteRecently("") {
		t.Error("window not per viewer")
	}
	time.Sleep(60 * time.Millisecond)
	if router.WroteRecently("alice") {
		t.Error("window did not end")
	}
}

func TestNoReplicas(t *testing.T) {
	primary := &fake{}
	router := dbroute.NewRouter(primary, nil, dbroute.Options{})
	_ = router.Query(context.Background(), "SELECT 1", nil, nil)
	if primary.queries.Load() != 1 {
		t.Error("without replicas reads must go to the primary")
	}
	router.Monitor(context.Background(), beat{}, time.Millisecond) // returns at once
}

func TestCounter(t *testing.T) {
	f := &fake{}
	reg := prometheus.NewRegistry()
	drv := dbroute.Count(f, dbroute.TargetReplica, dbroute.NewMetrics(reg))
	ctx, c := dbroute.WithCounter(context.Background())
	_ = drv.Query(ctx, "SELECT 1", nil, nil)
	_ = drv.Exec(ctx, "SELECT 1", nil, nil)
	_ = drv.Query(context.Background(), "SELECT 1", nil, nil)
	if c.Get(dbroute.TargetReplica) != 2 || c.Total() != 2 || c.Get(dbroute.TargetPrimary) != 0 {
		t.Errorf("counter: %d", c.Total())
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "shipmentapp_sql_statements_total" && mf.GetMetric()[0].GetCounter().GetValue() != 3 {
			t.Errorf("total counter: %v", mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
}

// hanging is a replica that never answers (half-open): its reads wait for
// their context.
type hanging struct {
	fake
	started chan struct{}
}

func (h *hanging) Query(ctx context.Context, _ string, _, _ any) error {
	h.queries.Add(1)
	h.started <- struct{}{}
	<-ctx.Done()
	return context.Cause(ctx)
}

// TestReadMovesWhenReplicaLeaves: a read waiting on a replica that leaves the
// read path (the monitor found it hung or lagging) is retried on the primary
// at once, instead of waiting for the request's deadline.
func TestReadMovesWhenReplicaLeaves(t *testing.T) {
	primary := &fake{}
	stuck := &hanging{started: make(chan struct{}, 1)}
	rep := &dbroute.Replica{Name: "r", Driver: stuck}
	router := dbroute.NewRouter(primary, []*dbroute.Replica{rep}, dbroute.Options{MaxLag: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	router.Check(ctx, beat{lag: map[*dbroute.Replica]time.Duration{rep: 0}}, time.Second)
	if !rep.Healthy() {
		t.Fatal("replica not in the read path")
	}
	done := make(chan error, 1)
	go func() { done <- router.Query(ctx, "SELECT 1", nil, &entsql.Rows{}) }()
	<-stuck.started
	start := time.Now()
	router.Check(ctx, beat{lag: map[*dbroute.Replica]time.Duration{rep: 5 * time.Second}}, time.Second) // lags: out
	select {
	case err := <-done:
		if err != nil || primary.queries.Load() != 1 {
			t.Fatalf("read: %v, primary reads %d", err, primary.queries.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read still waits on the replica that left the read path")
	}
	t.Logf("moved to the primary in %s", time.Since(start))

	// Back in the read path, reads go to it again and are not canceled;
	// a read's context lives until its rows are closed, not longer.
	router.Check(ctx, beat{lag: map[*dbroute.Replica]time.Duration{rep: 0}}, time.Second)
	answering := &rowsFake{}
	rep.Driver = answering
	var rows entsql.Rows
	if err := router.Query(ctx, "SELECT 1", nil, &rows); err != nil || answering.queries.Load() != 1 {
		t.Fatalf("after coming back: %v, replica reads %d", err, answering.queries.Load())
	}
	if answering.ctx.Err() != nil {
		t.Fatal("the read's context ended before its rows were read")
	}
	_ = rows.Close()
	if answering.ctx.Err() == nil {
		t.Fatal("the read's context outlives its rows")
	}
}

// rowsFake answers reads with empty rows, keeping the context of the last.
type rowsFake struct {
	fake
	ctx context.Context
}

func (f *rowsFake) Query(ctx context.Context, _ string, _, v any) error {
	f.queries.Add(1)
	f.ctx = ctx
	*v.(*entsql.Rows) = entsql.Rows{ColumnScanner: noRows{}}
	return nil
}

type noRows struct{ entsql.ColumnScanner }

func (noRows) Close() error { return nil }
