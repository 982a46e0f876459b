package dbroute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
)

// Replica is one read replica.
type Replica struct {
	// Name identifies the replica in logs and metrics (host:port).
	Name string
	// Driver sends statements to it (already counted as Replica).
	Driver dialect.Driver

	healthy atomic.Bool
	lag     atomic.Int64 // nanoseconds, as last measured
	reason  atomic.Value // string: why it is out of the read path
	// inPath is canceled when the replica leaves the read path, which
	// cancels the reads waiting on it (to be retried on the primary).
	inPath   atomic.Pointer[context.Context]
	switchMu sync.Mutex // serializes entering and leaving the read path
	leave    context.CancelFunc
}

// Healthy reports whether the replica is in the read path.
func (r *Replica) Healthy() bool { return r.healthy.Load() }

// Lag returns the replication lag last measured.
func (r *Replica) Lag() time.Duration { return time.Duration(r.lag.Load()) }

// Reason says why the replica is out of the read path ("" while it is in).
func (r *Replica) Reason() string {
	if r.Healthy() {
		return ""
	}
	s, _ := r.reason.Load().(string)
	return s
}

// Options configure a Router.
type Options struct {
	// MaxLag takes a replica out of the read path when it lags more.
	MaxLag time.Duration
	// ReadYourWrites is how long after a write its viewer reads from the primary.
	ReadYourWrites time.Duration
	Logger         *slog.Logger
	Metrics        *Metrics
}

// Router is an Ent driver that sends writes and transactions to the primary
// and reads outside transactions to a healthy replica, unless the request
// must read its own writes.
type Router struct {
	primary  dialect.Driver
	replicas []*Replica
	next     atomic.Uint64
	opts     Options
	writes   *recentWrites
	switches *prometheus.CounterVec
	lag      *prometheus.GaugeVec
}

// NewRouter returns a router over primary and replicas. With no replica, every
// statement goes to the primary; a failure to reach the primary is an
// apperr UNAVAILABLE error. Replicas start out of the read path until
// their first lag measurement (see Monitor).
func NewRouter(primary dialect.Driver, replicas []*Replica, opts Options) *Router {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{primary: unavailable{primary}, replicas: replicas, opts: opts, writes: newRecentWrites()}
	if opts.Metrics != nil {
		r.switches = opts.Metrics.switches
		r.lag = opts.Metrics.lag
	}
	left, leave := context.WithCancel(context.Background())
	leave()
	for _, rep := range replicas {
		rep.reason.Store("not checked yet")
		rep.inPath.Store(&left)
		rep.leave = leave
	}
	return r
}

// Replicas returns the router's replicas.
func (r *Router) Replicas() []*Replica { return r.replicas }

// Dialect implements dialect.Driver.
func (r *Router) Dialect() string { return r.primary.Dialect() }

// Exec implements dialect.Driver: writes go to the primary.
func (r *Router) Exec(ctx context.Context, query string, args, v any) error {
	return r.primary.Exec(ctx, query, args, v)
}

// Tx implements dialect.Driver: transactions run on the primary.
func (r *Router) Tx(ctx context.Context) (dialect.Tx, error) { return r.primary.Tx(ctx) }

// BeginTx lets ent.Client.BeginTx open transactions with options on the primary.
func (r *Router) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	if b, ok := r.primary.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}); ok {
		return b.BeginTx(ctx, opts)
	}
	return r.primary.Tx(ctx)
}

// Close implements dialect.Driver.
func (r *Router) Close() error {
	err := r.primary.Close()
	for _, rep := range r.replicas {
		err = errors.Join(err, rep.Driver.Close())
	}
	return err
}

// Query implements dialect.Driver: a read goes to a healthy replica unless ctx
// says the primary. If the replica fails to answer (not an SQL error: a
// broken or refused connection), it leaves the read path and the read is
// retried on the primary, so no request fails for a replica going away.
func (r *Router) Query(ctx context.Context, query string, args, v any) error {
	rep := r.pick(ctx)
	if rep == nil {
		return r.primary.Query(ctx, query, args, v)
	}
	err := r.queryReplica(ctx, rep, query, args, v)
	if errors.Is(err, errLeftReadPath) && ctx.Err() == nil {
		return r.primary.Query(ctx, query, args, v)
	}
	if err == nil || isServerError(err) || ctx.Err() != nil {
		return err
	}
	r.markDown(rep, fmt.Sprintf("query failed: %v", err))
	return r.primary.Query(ctx, query, args, v)
}

// queryReplica reads from rep. A replica that leaves the read path while a
// read waits on it (it hangs, half-open, and the monitor gave up on it; or
// it lags) cancels the read with errLeftReadPath, to be retried on the
// primary: the read does not wait for the request's deadline. Only the
// statement is watched: once it has returned, its rows are read unwatched,
// and the read's context is released when they are closed.
func (r *Router) queryReplica(ctx context.Context, rep *Replica, query string, args, v any) error {
	rows, ok := v.(*entsql.Rows)
	if !ok {
		return rep.Driver.Query(ctx, query, args, v)
	}
	qctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(*rep.inPath.Load(), func() { cancel(errLeftReadPath) })
	err := rep.Driver.Query(qctx, query, args, v)
	switch {
	case !stop():
		// It left, maybe as the statement returned: its rows may be closed.
		if err == nil && rows.ColumnScanner != nil {
			_ = rows.Close()
		}
		cancel(nil)
		return errLeftReadPath
	case err != nil || rows.ColumnScanner == nil:
		cancel(nil)
	default:
		rows.ColumnScanner = releasing{ColumnScanner: rows.ColumnScanner, release: func() { cancel(nil) }}
	}
	return err
}

// releasing calls release once its rows are closed.
type releasing struct {
	entsql.ColumnScanner
	release func()
}

func (r releasing) Close() error {
	err := r.ColumnScanner.Close()
	r.release()
	return err
}

// errLeftReadPath cancels the reads on a replica that left the read path.
var errLeftReadPath = errors.New("the replica left the read path")

func (r *Router) pick(ctx context.Context) *Replica {
	if len(r.replicas) == 0 || mustUsePrimary(ctx) {
		return nil
	}
	n := len(r.replicas)
	start := int(r.next.Add(1) % uint64(n))
	for i := range n {
		if rep := r.replicas[(start+i)%n]; rep.healthy.Load() {
			return rep
		}
	}
	return nil
}

// markUp and markDown switch a replica in or out of the read path, logging and
// counting each switch once.
func (r *Router) markUp(rep *Replica) {
	rep.switchMu.Lock()
	defer rep.switchMu.Unlock()
	if !rep.healthy.Load() {
		ctx, leave := context.WithCancel(context.Background())
		rep.inPath.Store(&ctx)
		rep.leave = leave
		rep.healthy.Store(true)
		r.opts.Logger.Info("replica back in the read path", slog.String("replica", rep.Name), slog.Duration("lag", rep.Lag()))
		r.count(rep, TargetReplica)
	}
}

func (r *Router) markDown(rep *Replica, reason string) {
	rep.reason.Store(reason)
	rep.switchMu.Lock()
	defer rep.switchMu.Unlock()
	if rep.healthy.CompareAndSwap(true, false) {
		rep.leave()
		r.opts.Logger.Warn("replica out of the read path; reading from the primary", slog.String("replica", rep.Name), slog.String("reason", reason))
		r.count(rep, TargetPrimary)
	}
}

func (r *Router) count(rep *Replica, to string) {
	if r.switches != nil {
		r.switches.WithLabelValues(rep.Name, to).Inc()
	}
}

// isServerError reports whether err is the database answering (a syntax
// error, a constraint): the connection is fine and retrying elsewhere would
// not help.
func isServerError(err error) bool {
	var me *mysql.MySQLError
	var pe *pgconn.PgError
	return errors.As(err, &me) || errors.As(err, &pe)
}

type primaryKey struct{}

// UsePrimary returns a context whose reads go to the primary.
func UsePrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

func mustUsePrimary(ctx context.Context) bool {
	v, _ := ctx.Value(primaryKey{}).(bool)
	return v
}

// NoteWrite records that viewer wrote now: its reads go to the primary for
// the read-your-writes window.
func (r *Router) NoteWrite(viewer string) {
	if r.opts.ReadYourWrites > 0 && viewer != "" {
		r.writes.note(viewer, time.Now().Add(r.opts.ReadYourWrites))
	}
}

// WroteRecently reports whether viewer wrote within the read-your-writes window.
func (r *Router) WroteRecently(viewer string) bool {
	return viewer != "" && r.writes.recent(viewer, time.Now())
}

// ReadYourWritesWindow returns the configured window.
func (r *Router) ReadYourWritesWindow() time.Duration { return r.opts.ReadYourWrites }

// recentWrites remembers until when each viewer must read from the primary.
type recentWrites struct {
	mu    sync.Mutex
	until map[string]time.Time
	swept time.Time
}

func newRecentWrites() *recentWrites { return &recentWrites{until: map[string]time.Time{}} }

func (w *recentWrites) note(viewer string, until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.until[viewer] = until
	// Forget expired entries now and then, so the map stays small.
	if now := time.Now(); now.Sub(w.swept) > time.Minute {
		for k, t := range w.until {
			if now.After(t) {
				delete(w.until, k)
			}
		}
		w.swept = now
	}
}

func (w *recentWrites) recent(viewer string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.until[viewer]
	return ok && now.Before(t)
}
