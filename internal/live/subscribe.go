package live

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

type abortKey struct{}

// WithAbort returns a context whose subscriptions call abort (once, on its
// own goroutine) when they end for a reason other than ctx: ErrSlowConsumer,
// ErrClosed, or a database error while replaying. The transport closes the
// connection with a reason the client can act on (resume with its cursor).
func WithAbort(ctx context.Context, abort func(error)) context.Context {
	return context.WithValue(ctx, abortKey{}, abort)
}

// sink is what both kinds of subscription share: a context of their own
// that ends them, and the abort hook of their connection.
type sink struct {
	ctx    context.Context
	cancel func(error)
}

func newSink(ctx context.Context) (sink, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	abort, _ := ctx.Value(abortKey{}).(func(error))
	return sink{ctx: ctx, cancel: func(err error) {
		if ctx.Err() != nil {
			return
		}
		cancel(err)
		if abort != nil {
			abort(err)
		}
	}}, cancel
}

type eventSink struct {
	sink
	viewer *viewer.Viewer
	filter Filter
	last   int64 // highest seq handed over (or already seen by the client)
	offer  func(*Event) bool
	// backlog holds the events that did not fit in the channel (a burst),
	// in order, up to Options.Buffer; allocated only while there is one.
	backlog []*Event
	gone    bool // the channel is closed
	closing bool // close the channel once the backlog is handed over
}

// handOver is how many values a subscription's channel holds: the
// transport takes them one by one, and a burst waits in the backlog, which
// costs memory only while it lasts.
const handOver = 8

func (s *eventSink) match(ev *Event) bool { return s.filter.match(s.viewer, ev) }

// Events subscribes ctx's viewer to the tracking events that match f, as
// values made by conv. With after set, the events committed after that seq
// come first, from the database, then the live ones, in seq order with no gap
// and no duplicate. The channel closes when ctx is done or the subscription
// ends (see WithAbort).
func Events[T any](h *Hub, ctx context.Context, f Filter, after *int64, conv func(*Event) T) (<-chan T, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, fmt.Errorf("subscribe: no viewer")
	}
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	ch := make(chan T, handOver)
	notify := notifier(ctx)
	sk, _ := newSink(ctx)
	s := &eventSink{sink: sk, viewer: v, filter: f}
	// offer queues ev (h.mu is held): false when the backlog is full too.
	s.offer = func(ev *Event) bool {
		if len(s.backlog) == 0 {
			select {
			case ch <- conv(ev):
				notify()
				return true
			default:
			}
		}
		if len(s.backlog) >= h.opts.Buffer {
			return false
		}
		s.backlog = append(s.backlog, ev)
		return true
	}
	// refill moves the backlog into the channel as the transport takes
	// values out of it.
	onConsumed(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for len(s.backlog) > 0 && !s.gone {
			select {
			case ch <- conv(s.backlog[0]):
				s.backlog[0] = nil
				s.backlog = s.backlog[1:]
				notify()
			default:
				return
			}
		}
		s.backlog = nil
		if s.closing && !s.gone { // the Hub stopped: all handed over, end
			s.gone = true
			close(ch)
			notify()
		}
	})
	kind := "shipmentEvents"
	if f.ShipmentID != 0 {
		kind = "trackingEventAdded"
	}
	// join adds the subscription to the live stream if it has seen
	// everything up to the position: false means replay up to it first.
	join := func(from int64) (joined bool, err error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		switch {
		case h.stopped:
			return false, ErrClosed
		case after == nil:
			s.last = h.pos
		case from < h.pos:
			return false, nil
		default: // the client may have seen more than this instance so far
			s.last = from
		}
		delete(h.replaying, s)
		h.events[s] = struct{}{}
		h.metrics.subs.WithLabelValues(kind).Inc()
		return true, nil
	}
	leave := func() {
		h.mu.Lock()
		delete(h.events, s)
		delete(h.replaying, s)
		if errors.Is(context.Cause(s.ctx), ErrClosed) && len(s.backlog) > 0 && !s.gone {
			// Shutting down: what was dispatched is still sent, then the
			// channel closes (refill).
			s.closing = true
			h.mu.Unlock()
			return
		}
		s.gone = true
		s.backlog = nil
		close(ch)
		h.mu.Unlock()
		notify()
	}
	if after == nil {
		if _, err := join(0); err != nil {
			return nil, err
		}
		context.AfterFunc(s.ctx, func() { h.metrics.subs.WithLabelValues(kind).Dec(); leave() })
		attach(ctx)
		return ch, nil
	}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	h.replaying[s] = struct{}{}
	h.mu.Unlock()
	unregister := func() {
		h.mu.Lock()
		delete(h.replaying, s)
		h.mu.Unlock()
	}
	go func() {
		from := *after
		for {
			joined, err := join(from)
			if err != nil {
				unregister()
				s.cancel(err)
				close(ch)
				notify()
				return
			}
			if joined {
				break
			}
			h.mu.Lock()
			upTo := h.pos
			h.mu.Unlock()
			next, err := h.replay(s, from, upTo, func(ev *Event) bool {
				select {
				case ch <- conv(ev):
					notify()
					return true
				case <-s.ctx.Done():
					return false
				}
			})
			if err != nil {
				s.cancel(err)
			}
			if s.ctx.Err() != nil {
				unregister()
				close(ch)
				notify()
				return
			}
			from = next
		}
		context.AfterFunc(s.ctx, func() { h.metrics.subs.WithLabelValues(kind).Dec(); leave() })
	}()
	attach(ctx)
	return ch, nil
}

// wait returns once the Hub delivers, or why it never will.
func (h *Hub) wait(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	case <-h.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// replay sends the matching events in (from, upTo] from the database, a batch
// at a time, and returns how far it got.
func (h *Hub) replay(s *eventSink, from, upTo int64, send func(*Event) bool) (int64, error) {
	for from < upTo {
		ctx, cancel := context.WithTimeout(dbroute.UsePrimary(s.ctx), h.opts.Timeout)
		q := h.opts.Client.TrackingEvent.Query().
			Where(trackingevent.SeqGT(from), trackingevent.SeqLTE(upTo)).
			Order(ent.Asc(trackingevent.FieldSeq)).
			Limit(h.opts.Batch).
			WithShipment()
		s.filter.where(q)
		// The viewer's privacy rule scopes the query; match checks again.
		rows, err := q.All(ctx)
		cancel()
		if err != nil {
			if s.ctx.Err() != nil {
				return from, nil
			}
			return from, fmt.Errorf("replay tracking events after seq %d: %w", from, err)
		}
		for _, row := range rows {
			ev := newEvent(row)
			if s.match(ev) && !send(ev) {
				return from, nil
			}
			from = ev.Seq
		}
		if len(rows) < h.opts.Batch {
			return upTo, nil
		}
	}
	return from, nil
}

type shipSink struct {
	sink
	viewer  *viewer.Viewer
	version int
	offer   func(*ent.Shipment) bool
}

// Shipment subscribes ctx's viewer to shipment id: its current state first,
// then every change, newer versions only. It fails with a not-found error
// when the viewer may not see the shipment.
func Shipment(h *Hub, ctx context.Context, id int) (<-chan *ent.Shipment, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, fmt.Errorf("subscribe: no viewer")
	}
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	// The viewer's privacy rule applies: not found unless visible.
	if _, err := h.opts.Client.Shipment.Query().Where(shipment.ID(id)).OnlyID(ctx); err != nil {
		return nil, err
	}
	// Shipments change one version at a time and are read again on each
	// note: a client that lets handOver versions pile up is a slow one.
	ch := make(chan *ent.Shipment, handOver)
	notify := notifier(ctx)
	sk, _ := newSink(ctx)
	s := &shipSink{sink: sk, viewer: v}
	s.offer = func(sh *ent.Shipment) bool {
		select {
		case ch <- sh:
			notify()
			return true
		default:
			return false
		}
	}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	if h.ships[id] == nil {
		h.ships[id] = map[*shipSink]struct{}{}
	}
	h.ships[id][s] = struct{}{}
	h.refresh[id] = struct{}{} // the current state, read after joining: no change missed
	h.mu.Unlock()
	h.metrics.subs.WithLabelValues("shipmentUpdated").Inc()
	h.kick()
	context.AfterFunc(s.ctx, func() {
		h.metrics.subs.WithLabelValues("shipmentUpdated").Dec()
		h.mu.Lock()
		delete(h.ships[id], s)
		if len(h.ships[id]) == 0 {
			delete(h.ships, id)
		}
		h.mu.Unlock()
		close(ch)
		notify()
	})
	attach(ctx)
	return ch, nil
}

// reloadShipments reads the shipments that changed and offers them to their
// subscribers.
func (h *Hub) reloadShipments(ctx context.Context) {
	h.mu.Lock()
	ids := make([]int, 0, len(h.refresh))
	for id := range h.refresh {
		ids = append(ids, id)
	}
	clear(h.refresh)
	h.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(system(ctx), h.opts.Timeout)
	defer cancel()
	start := time.Now()
	rows, err := h.opts.Client.Shipment.Query().Where(shipment.IDIn(ids...)).All(rctx)
	if err != nil {
		h.log.WarnContext(ctx, "live updates: reload shipments; retrying", "error", err.Error(), "took", time.Since(start))
		h.mu.Lock()
		for _, id := range ids {
			h.refresh[id] = struct{}{}
		}
		h.mu.Unlock()
		time.AfterFunc(time.Second, h.kick)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sh := range rows {
		for s := range h.ships[sh.ID] {
			if sh.Version <= s.version || !s.viewer.Sees(sh.CustomerID) {
				continue
			}
			s.version = sh.Version
			cp := *sh
			if !s.offer(&cp) {
				delete(h.ships[sh.ID], s)
				h.metrics.slow.Inc()
				go s.cancel(ErrSlowConsumer)
			}
		}
	}
}

// Ready is closed once the Hub delivers (tests).
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Degraded reports whether this instance has lost its notifications from
// the others (Redis pub/sub down): subscriptions keep receiving every event,
// from the poll, up to the poll interval late.
func (h *Hub) Degraded() bool {
	b, ok := h.opts.Bus.(pubsub.Health)
	return ok && b.Down()
}

// PollInterval is how often the Hub reads new events without a note.
func (h *Hub) PollInterval() time.Duration { return h.opts.Poll }

// Position is the seq of the last event dispatched (tests).
func (h *Hub) Position() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pos
}

// Subscribers is the number of subscriptions receiving live events or
// shipment changes (tests wait for theirs to join).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.events)
	for _, m := range h.ships {
		n += len(m)
	}
	return n
}

type notifyKey struct{}

// Notify lets a transport wait for a subscription's values without a
// goroutine blocked on its channel: the Hub calls it after each value it
// queues and after closing the channel. Attached reports whether a
// subscription of this package took it (else the operation is not one of
// ours, or was refused: read its response at once).
type Notify struct {
	fn       func()
	attached atomic.Bool
	consumed atomic.Pointer[func()]
}

// Consumed tells the subscription that the transport took a value: it
// moves what waits in its backlog into the channel.
func (n *Notify) Consumed() {
	if f := n.consumed.Load(); f != nil {
		(*f)()
	}
}

func onConsumed(ctx context.Context, fn func()) {
	if n, _ := ctx.Value(notifyKey{}).(*Notify); n != nil {
		n.consumed.Store(&fn)
	}
}

// NewNotify returns a Notify calling fn.
func NewNotify(fn func()) *Notify { return &Notify{fn: fn} }

// Attached reports whether a subscription uses n.
func (n *Notify) Attached() bool { return n.attached.Load() }

// WithNotify returns a context whose subscription calls n.
func WithNotify(ctx context.Context, n *Notify) context.Context {
	return context.WithValue(ctx, notifyKey{}, n)
}

// notifier returns the function to call after queueing a value or closing.
func notifier(ctx context.Context) func() {
	n, _ := ctx.Value(notifyKey{}).(*Notify)
	if n == nil {
		return func() {}
	}
	return n.fn
}

// attach marks ctx's Notify as used: call it right before returning the
// channel, never on an error path.
func attach(ctx context.Context) {
	if n, _ := ctx.Value(notifyKey{}).(*Notify); n != nil {
		n.attached.Store(true)
	}
}
