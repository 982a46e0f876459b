package live

import (
	"context"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
)

// TestDurableRead: a durable subscriber reads the log after its cursor, in
// seq order, in batches, never beyond the Hub's position (a seq past it may
// be a transaction still in flight), and Head is the newest seq.
func TestDurableRead(t *testing.T) {
	f := newScopeFixture(t) // 24 events, seq 1..24, Hub at 24
	ctx := context.Background()
	head, err := f.hub.Head(ctx)
	if err != nil || head != 24 {
		t.Fatalf("Head = %d, %v; want 24", head, err)
	}
	var got []int64
	for after := int64(0); ; {
		evs, err := f.hub.Read(ctx, after, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		if len(evs) > 5 {
			t.Fatalf("a batch of %d, limit 5", len(evs))
		}
		for _, ev := range evs {
			got = append(got, ev.Seq)
			if ev.CustomerID == 0 {
				t.Fatalf("event %d without its shipment's customer", ev.Seq)
			}
		}
		after = evs[len(evs)-1].Seq
	}
	if len(got) != 24 || got[0] != 1 || got[23] != 24 {
		t.Fatalf("read %v", got)
	}
	// A Hub (not running, so nothing moves it) that has only dispatched up
	// to 10: 11 may be a hole, so nothing past 10 is read.
	h := New(Options{Client: f.hub.opts.Client, Bus: pubsub.NewMemory()})
	h.pos = 10
	evs, err := h.Read(ctx, 8, 100)
	if err != nil || len(evs) != 2 || evs[1].Seq != 10 {
		t.Fatalf("read past the position: %d events, %v", len(evs), err)
	}
	if evs, _ := h.Read(ctx, 10, 100); len(evs) != 0 {
		t.Fatalf("read past the position: %d events", len(evs))
	}
}

// TestWithEvent: under WithEvent, an event subscription yields that one
// event if its filter and the viewer's scope match it, then ends; a
// shipment subscription is refused.
func TestWithEvent(t *testing.T) {
	h := bareHub(10)
	ev := newEvent(row(7, 2, domain.StatusDelivered))
	cases := []struct {
		name   string
		ctx    context.Context
		filter Filter
		want   bool
	}{
		{"its customer", partner(2), Filter{}, true},
		{"another customer's partner", partner(3), Filter{}, false},
		{"its status", partner(2), Filter{Statuses: []domain.Status{domain.StatusDelivered}}, true},
		{"another status", partner(2), Filter{Statuses: []domain.Status{domain.StatusInTransit}}, false},
		{"an empty list", partner(2), Filter{CustomerIDs: []int{}}, false},
		{"another shipment", partner(2), Filter{ShipmentID: 999}, false},
	}
	for _, c := range cases {
		ch, err := Events(h, WithEvent(c.ctx, ev), c.filter, nil, func(e *Event) int64 { return e.Seq })
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []int64
		for v := range ch { // it must end
			got = append(got, v)
		}
		if (len(got) == 1 && got[0] == 7) != c.want || len(got) > 1 {
			t.Errorf("%s: got %v, want the event: %v", c.name, got, c.want)
		}
	}
	if h.Subscribers() != 0 {
		t.Errorf("a one-shot subscription joined the Hub")
	}
	if _, err := Shipment(h, WithEvent(partner(2), ev), 1); err != ErrNotDurable {
		t.Errorf("shipment subscription under WithEvent: %v", err)
	}
}

// TestAdvanced: the channel closes when the position moves, not before.
func TestAdvanced(t *testing.T) {
	h := bareHub(10)
	ch := h.Advanced()
	select {
	case <-ch:
		t.Fatal("closed before anything moved")
	default:
	}
	h.dispatch(rows(1, 3))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed after a dispatch")
	}
	if next := h.Advanced(); next == ch {
		t.Fatal("the same channel after it closed")
	}
}
