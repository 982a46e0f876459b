package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// Durable subscribers (webhook endpoints, internal/webhook) keep their own
// cursor in the database and take the log a batch at a time. They see the
// log as the Hub does: up to its position, past which a seq may still be a
// transaction that has not committed yet (a hole).

// Read returns up to limit events after seq after, in seq order, none beyond
// the Hub's position: an event it returns will never be preceded by one it
// has not returned yet.
func (h *Hub) Read(ctx context.Context, after int64, limit int) ([]*Event, error) {
	h.mu.Lock()
	upTo := h.pos
	h.mu.Unlock()
	if after >= upTo || limit <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(system(ctx), h.opts.Timeout)
	defer cancel()
	rows, err := h.opts.Client.TrackingEvent.Query().
		Where(trackingevent.SeqGT(after), trackingevent.SeqLTE(upTo)).
		Order(ent.Asc(trackingevent.FieldSeq)).
		Limit(limit).
		WithShipment().
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read tracking events after seq %d: %w", after, err)
	}
	evs := make([]*Event, len(rows))
	for i, row := range rows {
		evs[i] = newEvent(row)
	}
	return evs, nil
}

// Head is the seq of the newest committed event in the database (0: none):
// a new durable subscriber starts there, receiving what follows.
func (h *Hub) Head(ctx context.Context) (int64, error) { return h.lastSeq(ctx) }

// Advanced returns a channel closed the next time the Hub's position moves
// (a durable subscriber waits on it for new events).
func (h *Hub) Advanced() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.advanced == nil {
		h.advanced = make(chan struct{})
	}
	return h.advanced
}

// advancedLocked wakes whoever waits on Advanced. h.mu is held.
func (h *Hub) advancedLocked() {
	if h.advanced != nil {
		close(h.advanced)
		h.advanced = nil
	}
}

type eventKey struct{}

// ErrNotDurable is the answer of a subscription that follows a state (a
// shipment) rather than the event log, under WithEvent: only the log has
// events to deliver one by one.
var ErrNotDurable = errors.New("this subscription follows a shipment's state, not the event log: webhooks deliver shipmentEvents and trackingEventAdded only")

// WithEvent returns a context in which the event subscriptions (Events)
// yield ev, if it matches their filter and the viewer may see it, and then
// end: a durable subscriber runs a subscription document for one event of
// the log through the same resolvers and executor as a live subscriber.
func WithEvent(ctx context.Context, ev *Event) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

// oneShot is Events under WithEvent: ev if it matches, then the end.
func oneShot[T any](ctx context.Context, f Filter, ev *Event, conv func(*Event) T) (<-chan T, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, fmt.Errorf("subscribe: no viewer")
	}
	ch := make(chan T, 1)
	if f.match(v, ev) {
		ch <- conv(ev)
	}
	close(ch)
	return ch, nil
}

// Visible reports whether v may see ev at all (the scope every filter
// applies before its own conditions).
func Visible(v *viewer.Viewer, ev *Event) bool { return v.Sees(ev.CustomerID) }
