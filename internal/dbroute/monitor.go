package dbroute

import (
	"context"
	"fmt"
	"time"
)

// Heartbeat writes and reads the replication heartbeat.
type Heartbeat interface {
	// Beat writes the time now on the primary.
	Beat(ctx context.Context, now time.Time) error
	// Read returns the last heartbeat time a replica has applied.
	Read(ctx context.Context, rep *Replica) (time.Time, error)
}

// Monitor measures each replica's lag every interval until ctx ends: it writes
// a heartbeat on the primary, reads the latest one each replica has applied,
// and takes out of the read path a replica that does not answer or lags more
// than MaxLag (putting it back when it recovers).
func (r *Router) Monitor(ctx context.Context, hb Heartbeat, interval time.Duration) {
	if len(r.replicas) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.Check(ctx, hb, interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check runs one round of Monitor; timeout bounds each statement.
func (r *Router) Check(ctx context.Context, hb Heartbeat, timeout time.Duration) {
	bctx, cancel := context.WithTimeout(UsePrimary(ctx), timeout)
	err := hb.Beat(bctx, time.Now())
	cancel()
	if err != nil {
		r.opts.Logger.Debug("replication heartbeat not written", "error", err)
	}
	for _, rep := range r.replicas {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		beat, err := hb.Read(rctx, rep)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.markDown(rep, fmt.Sprintf("heartbeat not readable: %v", err))
			continue
		}
		lag := time.Since(beat)
		if lag < 0 {
			lag = 0
		}
		rep.lag.Store(int64(lag))
		if r.lag != nil {
			r.lag.WithLabelValues(rep.Name).Set(lag.Seconds())
		}
		if lag > r.opts.MaxLag {
			r.markDown(rep, fmt.Sprintf("lags %s behind the primary (limit %s)", lag.Round(time.Millisecond), r.opts.MaxLag))
			continue
		}
		r.markUp(rep)
	}
}
