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

// handOver is how many values a subscription's channel holds: the
// transport takes them one by one, and a burst waits in the backlog, which
// costs memory only while it lasts.
const handOver = 8

// subState is where an event subscription is in its life. The Hub's lock
// guards it; each step below moves it along one arrow:
//
//	stateNew ──start(nil)──────────────────────────────> stateLive
//	stateNew ──start(cursor)──> stateReplaying ──join──> stateLive
//	stateReplaying ──end (ctx done, replay error, Hub stopped)──> stateClosed
//	stateLive ──leave──> stateClosed
//	stateLive ──leave (Hub stopped, backlog not empty)──> stateDraining ──refill──> stateClosed
type subState uint8

const (
	// stateNew: made, not yet known to the Hub.
	stateNew subState = iota
	// stateReplaying: reading what it missed from the database (resume by
	// cursor); in h.replaying, so that stop ends it too.
	stateReplaying
	// stateLive: in h.events: the Hub offers it each event it dispatches.
	stateLive
	// stateDraining: the Hub stopped while its backlog held events: they
	// are handed over as the transport consumes, then the channel closes.
	stateDraining
	// stateClosed: its channel is closed; nothing happens any more.
	stateClosed
)

func (st subState) String() string {
	switch st {
	case stateNew:
		return "new"
	case stateReplaying:
		return "replaying"
	case stateLive:
		return "live"
	case stateDraining:
		return "draining"
	case stateClosed:
		return "closed"
	}
	return fmt.Sprintf("subState(%d)", uint8(st))
}

// outlet is a subscription's channel, whatever the type of its values.
// Every value handed over, and the close, rings the transport's Notify.
type outlet interface {
	// try hands ev over without waiting: false when the channel is full.
	try(ev *Event) bool
	// put hands ev over, waiting for room: false when ctx ends first.
	put(ctx context.Context, ev *Event) bool
	// close closes the channel.
	close()
}

type chanOutlet[T any] struct {
	ch     chan T
	conv   func(*Event) T
	notify func()
}

func (o *chanOutlet[T]) try(ev *Event) bool {
	select {
	case o.ch <- o.conv(ev):
		o.notify()
		return true
	default:
		return false
	}
}

func (o *chanOutlet[T]) put(ctx context.Context, ev *Event) bool {
	select {
	case o.ch <- o.conv(ev):
		o.notify()
		return true
	case <-ctx.Done():
		return false
	}
}

func (o *chanOutlet[T]) close() {
	close(o.ch)
	o.notify()
}

// eventSub is one subscription to the tracking events. Its steps are its
// methods: start, resume (replay, then join), join, offer (the Hub's
// dispatch), refill (the transport took a value), leave and end.
type eventSub struct {
	sink
	hub    *Hub
	out    outlet
	viewer *viewer.Viewer
	filter Filter
	kind   string // the metrics label

	// Guarded by hub.mu.
	state subState
	last  int64 // highest seq handed over (or already seen by the client)
	// backlog holds the events that did not fit in the channel (a burst),
	// in order, up to Options.Buffer; allocated only while there is one.
	backlog []*Event
}

func (s *eventSub) match(ev *Event) bool { return s.filter.match(s.viewer, ev) }

// Events subscribes ctx's viewer to the tracking events that match f, as
// values made by conv. With after set, the events committed after that seq
// come first, from the database, then the live ones, in seq order with no gap
// and no duplicate. The channel closes when ctx is done or the subscription
// ends (see WithAbort).
func Events[T any](h *Hub, ctx context.Context, f Filter, after *int64, conv func(*Event) T) (<-chan T, error) {
	if ev, ok := ctx.Value(eventKey{}).(*Event); ok {
		return oneShot(ctx, f, ev, conv)
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, fmt.Errorf("subscribe: no viewer")
	}
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	ch := make(chan T, handOver)
	s := newEventSub(h, ctx, v, f, &chanOutlet[T]{ch: ch, conv: conv, notify: notifier(ctx)})
	if err := s.start(after); err != nil {
		return nil, err
	}
	attach(ctx)
	return ch, nil
}

func newEventSub(h *Hub, ctx context.Context, v *viewer.Viewer, f Filter, out outlet) *eventSub {
	sk, _ := newSink(ctx)
	s := &eventSub{sink: sk, hub: h, out: out, viewer: v, filter: f, kind: "shipmentEvents"}
	if f.ShipmentID != 0 {
		s.kind = "trackingEventAdded"
	}
	// The transport tells when it took a value: the backlog moves up.
	onConsumed(ctx, s.refill)
	return s
}

// start makes the subscription known to the Hub: live at once without a
// cursor, else replaying what it missed on a goroutine of its own.
func (s *eventSub) start(after *int64) error {
	if after == nil {
		if _, err := s.join(0, true); err != nil {
			return err
		}
		context.AfterFunc(s.ctx, s.leave)
		return nil
	}
	h := s.hub
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return ErrClosed
	}
	h.replaying[s] = struct{}{}
	s.state = stateReplaying
	h.mu.Unlock()
	go s.resume(*after)
	return nil
}

// resume replays the events after from up to the Hub's position, then joins
// the live stream there. The position moves while it reads: it goes round
// until join finds nothing left to replay.
func (s *eventSub) resume(from int64) {
	h := s.hub
	for {
		joined, err := s.join(from, false)
		if err != nil {
			s.end(err)
			return
		}
		if joined {
			break
		}
		h.mu.Lock()
		upTo := h.pos
		h.mu.Unlock()
		next, err := h.replay(s, from, upTo, func(ev *Event) bool { return s.out.put(s.ctx, ev) })
		if err != nil {
			s.end(err)
			return
		}
		if s.ctx.Err() != nil {
			s.end(nil)
			return
		}
		from = next
	}
	context.AfterFunc(s.ctx, s.leave)
}

// join adds the subscription to the live stream if it has seen everything
// up to the Hub's position: false means replay up to it first. A fresh
// subscription (no cursor) starts at the position.
func (s *eventSub) join(from int64, fresh bool) (joined bool, err error) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.stopped:
		return false, ErrClosed
	case fresh:
		s.last = h.pos
	case from < h.pos:
		return false, nil
	default: // the client may have seen more than this instance so far
		s.last = from
	}
	delete(h.replaying, s)
	h.events[s] = struct{}{}
	s.state = stateLive
	h.metrics.subs.WithLabelValues(s.kind).Inc()
	return true, nil
}

// offer queues ev (h.mu is held): into the channel when nothing waits
// before it, else into the backlog; false when the backlog is full too.
func (s *eventSub) offer(ev *Event) bool {
	if len(s.backlog) == 0 && s.out.try(ev) {
		return true
	}
	if len(s.backlog) >= s.hub.opts.Buffer {
		return false
	}
	s.backlog = append(s.backlog, ev)
	return true
}

// refill moves the backlog into the channel as the transport takes values
// out of it; a draining subscription closes once all is handed over.
func (s *eventSub) refill() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(s.backlog) > 0 && s.state != stateClosed {
		if !s.out.try(s.backlog[0]) {
			return
		}
		s.backlog[0] = nil
		s.backlog = s.backlog[1:]
	}
	s.backlog = nil
	if s.state == stateDraining { // the Hub stopped: all handed over, end
		s.closeLocked()
	}
}

// leave runs when a joined subscription's context ends (the client
// stopped, the connection closed, overflow, the Hub stopped). When the Hub
// stopped, what was dispatched is still sent: the backlog drains first.
func (s *eventSub) leave() {
	h := s.hub
	h.metrics.subs.WithLabelValues(s.kind).Dec()
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.events, s)
	delete(h.replaying, s)
	if errors.Is(context.Cause(s.ctx), ErrClosed) && len(s.backlog) > 0 && s.state == stateLive {
		s.state = stateDraining
		return
	}
	s.closeLocked()
}

// end closes a subscription that never joined: its replay failed (err), or
// its context ended while it replayed (nil).
func (s *eventSub) end(err error) {
	if err != nil {
		s.cancel(err)
	}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.replaying, s)
	s.closeLocked()
}

// overflowLocked ends a subscription whose queue is full. h.mu is held.
func (s *eventSub) overflowLocked() {
	delete(s.hub.events, s)
	s.hub.metrics.slow.Inc()
	go s.cancel(ErrSlowConsumer)
}

// closeLocked closes the channel, once. h.mu is held.
func (s *eventSub) closeLocked() {
	if s.state == stateClosed {
		return
	}
	s.state = stateClosed
	s.backlog = nil
	s.out.close()
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
func (h *Hub) replay(s *eventSub, from, upTo int64, send func(*Event) bool) (int64, error) {
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

// shipSub is one subscription to a shipment's changes: join, offer (the
// Hub's reload), leave. It has no backlog: a shipment is read again on each
// note, so a client that lets handOver versions pile up is a slow one.
type shipSub struct {
	sink
	hub    *Hub
	id     int
	viewer *viewer.Viewer
	ch     chan *ent.Shipment
	notify func()
	// version is the newest version handed over (guarded by hub.mu).
	version int
}

// Shipment subscribes ctx's viewer to shipment id: its current state first,
// then every change, newer versions only. It fails with a not-found error
// when the viewer may not see the shipment.
func Shipment(h *Hub, ctx context.Context, id int) (<-chan *ent.Shipment, error) {
	if _, ok := ctx.Value(eventKey{}).(*Event); ok {
		return nil, ErrNotDurable
	}
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
	sk, _ := newSink(ctx)
	s := &shipSub{sink: sk, hub: h, id: id, viewer: v, ch: make(chan *ent.Shipment, handOver), notify: notifier(ctx)}
	if err := s.join(); err != nil {
		return nil, err
	}
	context.AfterFunc(s.ctx, s.leave)
	attach(ctx)
	return s.ch, nil
}

// join adds the subscription to its shipment's and asks the Hub for the
// current state, read after joining: no change missed.
func (s *shipSub) join() error {
	h := s.hub
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return ErrClosed
	}
	if h.ships[s.id] == nil {
		h.ships[s.id] = map[*shipSub]struct{}{}
	}
	h.ships[s.id][s] = struct{}{}
	h.refresh[s.id] = struct{}{}
	h.mu.Unlock()
	h.metrics.subs.WithLabelValues("shipmentUpdated").Inc()
	h.kick()
	return nil
}

// offer hands sh over without waiting (h.mu is held): false when the
// channel is full.
func (s *shipSub) offer(sh *ent.Shipment) bool {
	select {
	case s.ch <- sh:
		s.notify()
		return true
	default:
		return false
	}
}

// leave runs when the subscription's context ends: out of the Hub, the
// channel closed.
func (s *shipSub) leave() {
	h := s.hub
	h.metrics.subs.WithLabelValues("shipmentUpdated").Dec()
	h.mu.Lock()
	delete(h.ships[s.id], s)
	if len(h.ships[s.id]) == 0 {
		delete(h.ships, s.id)
	}
	h.mu.Unlock()
	close(s.ch)
	s.notify()
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
