// Package live delivers committed changes to GraphQL subscribers: every
// tracking event in commit order, and shipments when they change, on every
// instance.
//
// The database is the truth and the bus only a doorbell. A write publishes a
// note after its transaction commits (pubsub: Redis across instances, or the
// in-process bus); each instance's Hub reads the new tracking events from the
// primary in seq order — seq is gapless and follows the commit order
// (ent/schema/sequence.go) — and hands each to the local subscribers whose
// filter and viewer match. A lost note only delays events until the next note
// or poll; it never loses one. A subscriber that resumes after a cursor reads
// what it missed from the database up to the Hub's position, then joins the
// live stream at that position under the Hub's lock: no gap, no duplicate.
//
// A subscription to the events is a small state machine (eventSub, in
// subscribe.go): new → replaying (resume by cursor) → live → draining (the
// Hub stopped with events still queued) → closed. Each arrow is a method —
// start, resume, join, offer, refill, leave, end — so each step can be
// tested on its own and against the others (subscription_test.go).
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// ErrSlowConsumer ends a subscription whose client does not read fast enough.
var ErrSlowConsumer = errors.New("the client does not read its subscription fast enough")

// ErrClosed is the error of a subscription made after the Hub stopped.
var ErrClosed = errors.New("live updates are shutting down")

// Options configure a Hub.
type Options struct {
	Client *ent.Client
	Bus    pubsub.Bus
	Logger *slog.Logger
	// Poll is how often the Hub reads new events without a note (default 5 s).
	Poll time.Duration
	// Buffer is each subscription's queue; beyond the few values in its channel, a backlog of this many absorbs a burst; one more ends it (default 256).
	Buffer int
	// Batch is the number of events read at a time (default 500).
	Batch int
	// Timeout bounds each database read (default 10 s).
	Timeout  time.Duration
	Registry prometheus.Registerer
}

// Hub is one instance's end of the live updates. Run it, then subscribe.
type Hub struct {
	opts    Options
	log     *slog.Logger
	wake    chan struct{}
	outbox  chan []byte // notes to publish
	ready   chan struct{}
	done    chan struct{} // closed by stop
	started atomic.Bool

	mu      sync.Mutex
	pos     int64 // every event with seq <= pos has been dispatched
	stopped bool
	events  map[*eventSub]struct{}
	// replaying are the subscriptions reading what they missed, not yet
	// in events: stop ends them too.
	replaying map[*eventSub]struct{}
	ships     map[int]map[*shipSub]struct{}
	refresh   map[int]struct{} // shipments to reload
	watchers  map[string]map[*func()]struct{}
	hole      time.Time     // when the read first stopped at a missing seq
	advanced  chan struct{} // closed when pos moves (Advanced)

	announced atomic.Int64
	metrics   metrics
	onRevoked func(cred string)
}

// OnRevoked makes the Hub call fn with every revoked credential, from any
// instance (call before Run).
func (h *Hub) OnRevoked(fn func(cred string)) { h.onRevoked = fn }

type metrics struct {
	subs      *prometheus.GaugeVec
	delivered prometheus.Counter
	slow      prometheus.Counter
	dropped   prometheus.Counter
	delay     prometheus.Histogram
}

// New returns a Hub; it delivers nothing until Run.
func New(opts Options) *Hub {
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		opts: opts, log: opts.Logger,
		wake: make(chan struct{}, 1), outbox: make(chan []byte, 4096), ready: make(chan struct{}), done: make(chan struct{}),
		events: map[*eventSub]struct{}{}, replaying: map[*eventSub]struct{}{}, ships: map[int]map[*shipSub]struct{}{},
		refresh: map[int]struct{}{}, watchers: map[string]map[*func()]struct{}{},
	}
	h.metrics = metrics{
		subs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shipmentapp_subscriptions_active", Help: "Subscriptions being served by this instance, by kind.",
		}, []string{"kind"}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shipmentapp_live_events_total", Help: "Tracking events this instance read and dispatched to its subscribers.",
		}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shipmentapp_subscriptions_slow_total", Help: "Subscriptions ended because their client did not keep up.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shipmentapp_live_notes_dropped_total",
			Help: "Notes not published (queue full or bus down): their events arrive at the next note or poll.",
		}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shipmentapp_live_dispatch_delay_seconds",
			Help:    "From a tracking event's commit (its created_at) to its dispatch on this instance.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	if opts.Registry != nil {
		opts.Registry.MustRegister(h.metrics.subs, h.metrics.delivered, h.metrics.slow, h.metrics.dropped, h.metrics.delay)
	}
	return h
}

// note is what travels on the bus.
type note struct {
	// Shipment changed to Version (0: not a shipment change).
	Shipment int `json:"s,omitempty"`
	Version  int `json:"v,omitempty"`
	// Seq is a tracking event that committed.
	Seq int64 `json:"e,omitempty"`
	// Revoked is a credential ("api_key:ID") that no longer authenticates.
	Revoked string `json:"r,omitempty"`
}

// Committed implements shipping.Notifier: it tells every instance, after the
// commit. A failed publish is logged: the events still arrive with the next
// note or poll.
func (h *Hub) Committed(ctx context.Context, c shipping.Change) {
	h.publish(ctx, note{Shipment: c.ShipmentID, Version: c.Version, Seq: c.EventSeq})
}

// Revoked tells every instance that credential cred ("api_key:ID") was
// revoked: connections authenticated with it close at once.
func (h *Hub) Revoked(ctx context.Context, cred string) {
	h.publish(ctx, note{Revoked: cred})
}

// publish queues a note for the publisher (Run): a mutation never waits
// for the bus, and a bus that is down costs it nothing. A full queue drops
// the note: the events still arrive at the next note or poll.
func (h *Hub) publish(_ context.Context, n note) {
	msg, _ := json.Marshal(n)
	select {
	case h.outbox <- msg:
	default:
		h.metrics.dropped.Inc()
	}
}

// publisher sends the queued notes until ctx is done.
func (h *Hub) publisher(ctx context.Context) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-h.outbox:
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := h.opts.Bus.Publish(pctx, msg)
			cancel()
			switch {
			case err != nil && !failing:
				failing = true
				h.log.WarnContext(ctx, "publish live updates; subscribers get them at the next poll", slog.String("error", err.Error()))
			case err != nil:
				h.metrics.dropped.Inc()
			case failing:
				failing = false
				h.log.InfoContext(ctx, "publishing live updates again")
			}
		}
	}
}

func (h *Hub) onNote(msg []byte) {
	var n note
	if err := json.Unmarshal(msg, &n); err != nil {
		return // not ours
	}
	if n.Revoked != "" {
		if h.onRevoked != nil {
			h.onRevoked(n.Revoked)
		}
		h.mu.Lock()
		fns := make([]func(), 0, len(h.watchers[n.Revoked]))
		for fn := range h.watchers[n.Revoked] {
			fns = append(fns, *fn)
		}
		h.mu.Unlock()
		for _, fn := range fns {
			go fn()
		}
		return
	}
	if n.Shipment > 0 {
		h.mu.Lock()
		if len(h.ships[n.Shipment]) > 0 {
			h.refresh[n.Shipment] = struct{}{}
		}
		h.mu.Unlock()
	}
	for {
		cur := h.announced.Load()
		if n.Seq <= cur || h.announced.CompareAndSwap(cur, n.Seq) {
			break
		}
	}
	h.kick()
}

func (h *Hub) kick() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Watch calls revoked (once or more, on its own goroutine) when credential
// cred is revoked on any instance, until the returned stop is called.
func (h *Hub) Watch(cred string, revoked func()) (stop func()) {
	fn := &revoked
	h.mu.Lock()
	if h.watchers[cred] == nil {
		h.watchers[cred] = map[*func()]struct{}{}
	}
	h.watchers[cred][fn] = struct{}{}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.watchers[cred], fn)
		if len(h.watchers[cred]) == 0 {
			delete(h.watchers, cred)
		}
		h.mu.Unlock()
	}
}

// Run delivers until ctx is done. It reads the current position, listens on
// the bus and then reads new events whenever a note, a (re)subscription or
// the poll says there may be some.
func (h *Hub) Run(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("live: Run called twice")
	}
	defer h.stop()
	for {
		pos, err := h.lastSeq(ctx)
		if err == nil {
			h.mu.Lock()
			h.pos = pos
			h.advancedLocked()
			h.mu.Unlock()
			break
		}
		h.log.WarnContext(ctx, "live updates: read the last tracking event; retrying", slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	// Deliver from now on, bus or not: without it, the poll still finds
	// every event (a Redis that is down at start must not stall subscribers).
	close(h.ready)
	go h.publisher(ctx)
	go func() {
		err := h.opts.Bus.Listen(ctx, h.kick, h.onNote) // (re)subscribed: read what we missed
		if err != nil && ctx.Err() == nil {
			h.log.ErrorContext(ctx, "live updates: bus listener stopped", slog.String("error", err.Error()))
		}
	}()
	poll := time.NewTicker(h.opts.Poll)
	defer poll.Stop()
	for {
		if err := h.catchUp(ctx); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "live updates: read new tracking events", slog.String("error", err.Error()))
		}
		h.reloadShipments(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.wake:
		case <-poll.C:
		}
	}
}

// Stop ends every subscription: their channels close once drained, and no
// new one starts. Run stops too when its context ends.
func (h *Hub) Stop() { h.stop() }

// stop ends every subscription: their channels close.
func (h *Hub) stop() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	close(h.done)
	sinks := make([]*eventSub, 0, len(h.events)+len(h.replaying))
	for s := range h.events {
		sinks = append(sinks, s)
	}
	for s := range h.replaying {
		sinks = append(sinks, s)
	}
	var ships []*shipSub
	for _, m := range h.ships {
		for s := range m {
			ships = append(ships, s)
		}
	}
	h.mu.Unlock()
	for _, s := range sinks {
		s.cancel(ErrClosed)
	}
	for _, s := range ships {
		s.cancel(ErrClosed)
	}
}

// system reads as the service, from the primary: a replica may not have
// the newest events yet.
func system(ctx context.Context) context.Context {
	return dbroute.UsePrimary(privacy.DecisionContext(ctx, privacy.Allow))
}

func (h *Hub) lastSeq(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(system(ctx), h.opts.Timeout)
	defer cancel()
	last, err := h.opts.Client.TrackingEvent.Query().Order(ent.Desc(trackingevent.FieldSeq)).First(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the last tracking event: %w", err)
	}
	return last.Seq, nil
}

// holeTimeout is how long the Hub waits for a missing seq before it skips
// it. seq has no gaps (ent/schema/sequence.go), so a hole is a transaction
// that committed but is not visible yet; one that lasts this long is a
// sequence moved by hand, which must not stop every subscription.
const holeTimeout = 10 * time.Second

// catchUp reads and dispatches the events after the position, a batch at a
// time, stopping at a hole.
func (h *Hub) catchUp(ctx context.Context) error {
	for {
		h.mu.Lock()
		from := h.pos
		h.mu.Unlock()
		rows, err := h.read(ctx, from)
		if err != nil {
			return err
		}
		n := 0
		for n < len(rows) && rows[n].Seq == from+int64(n)+1 {
			n++
		}
		if n < len(rows) {
			h.mu.Lock()
			if h.hole.IsZero() {
				h.hole = time.Now()
			}
			waited := time.Since(h.hole)
			h.mu.Unlock()
			if n == 0 && waited > holeTimeout {
				h.log.WarnContext(ctx, "live updates: skipping missing tracking event seqs",
					slog.Int64("after", from), slog.Int64("next", rows[0].Seq))
				n = 1 // dispatch rows[0], moving past the hole
			} else if n == 0 {
				time.AfterFunc(50*time.Millisecond, h.kick)
				return nil
			}
		}
		h.dispatch(rows[:n])
		if n < len(rows) || len(rows) < h.opts.Batch {
			if n < len(rows) {
				time.AfterFunc(50*time.Millisecond, h.kick)
			}
			return nil
		}
	}
}

func (h *Hub) read(ctx context.Context, after int64) ([]*ent.TrackingEvent, error) {
	ctx, cancel := context.WithTimeout(system(ctx), h.opts.Timeout)
	defer cancel()
	rows, err := h.opts.Client.TrackingEvent.Query().
		Where(trackingevent.SeqGT(after)).
		Order(ent.Asc(trackingevent.FieldSeq)).
		Limit(h.opts.Batch).
		WithShipment().
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read tracking events after seq %d: %w", after, err)
	}
	return rows, nil
}

// dispatch hands rows to the matching subscribers and moves the position.
func (h *Hub) dispatch(rows []*ent.TrackingEvent) {
	if len(rows) == 0 {
		return
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hole = time.Time{}
	for _, row := range rows {
		ev := newEvent(row)
		for s := range h.events {
			if ev.Seq > s.last && s.match(ev) {
				s.last = ev.Seq
				if !s.offer(ev) {
					h.overflow(s)
				}
			}
		}
		h.pos = ev.Seq
		h.metrics.delay.Observe(now.Sub(row.CreatedAt).Seconds())
	}
	h.advancedLocked()
	h.metrics.delivered.Add(float64(len(rows)))
}

// overflow ends a subscription whose queue is full. h.mu is held.
func (h *Hub) overflow(s *eventSub) { s.overflowLocked() }

// Event is a committed tracking event with its shipment.
type Event struct {
	Seq        int64
	CustomerID int
	ShipmentID int
	Status     domain.Status
	row        *ent.TrackingEvent
}

func newEvent(row *ent.TrackingEvent) *Event {
	ev := &Event{Seq: row.Seq, ShipmentID: row.ShipmentID, Status: row.Status, row: row}
	if sh := row.Edges.Shipment; sh != nil {
		ev.CustomerID = sh.CustomerID
	}
	return ev
}

// TrackingEvent returns the subscriber's own copy of the event (resolvers may
// cache edges on it), with its shipment.
func (e *Event) TrackingEvent() *ent.TrackingEvent {
	cp := *e.row
	if sh := e.row.Edges.Shipment; sh != nil {
		shCopy := *sh
		cp.Edges = ent.TrackingEventEdges{}
		cp.Edges.Shipment = &shCopy
	}
	return &cp
}

// Filter selects the tracking events of a subscription. A nil list matches
// everything, an empty one nothing (as the where inputs' …In filters); the
// viewer's scope applies in any case.
type Filter struct {
	ShipmentID  int
	CustomerIDs []int
	Statuses    []domain.Status
}

func (f Filter) match(v *viewer.Viewer, ev *Event) bool {
	return Visible(v, ev) &&
		(f.ShipmentID == 0 || f.ShipmentID == ev.ShipmentID) &&
		(f.CustomerIDs == nil || slices.Contains(f.CustomerIDs, ev.CustomerID)) &&
		(f.Statuses == nil || slices.Contains(f.Statuses, ev.Status))
}

func (f Filter) where(q *ent.TrackingEventQuery) {
	if f.ShipmentID != 0 {
		q.Where(trackingevent.ShipmentID(f.ShipmentID))
	}
	if f.CustomerIDs != nil {
		q.Where(trackingevent.HasShipmentWith(shipment.CustomerIDIn(f.CustomerIDs...)))
	}
	if f.Statuses != nil {
		q.Where(trackingevent.StatusIn(f.Statuses...))
	}
}
