package live

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	_ "github.com/shipmentapp/shipmentapp/ent/runtime"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// bareHub is a Hub that delivers without Run (events are dispatched by hand).
func bareHub(buffer int) *Hub {
	h := New(Options{Bus: pubsub.NewMemory(), Buffer: buffer})
	close(h.ready)
	return h
}

func row(seq int64, customer int, status domain.Status) *ent.TrackingEvent {
	r := &ent.TrackingEvent{ID: int(seq), Seq: seq, ShipmentID: customer*100 + int(seq%3), Status: status, CreatedAt: time.Now()}
	r.Edges.Shipment = &ent.Shipment{ID: r.ShipmentID, CustomerID: customer}
	return r
}

func partner(customers ...int) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindAPIKey, ID: "p", Role: viewer.RolePartner, Customers: customers})
}

func TestBurstWaitsInTheBacklog(t *testing.T) {
	h := bareHub(100)
	n := NewNotify(func() {})
	ctx := WithNotify(partner(1), n)
	ch, err := Events(h, ctx, Filter{}, nil, func(ev *Event) int64 { return ev.Seq })
	if err != nil {
		t.Fatal(err)
	}
	var rows []*ent.TrackingEvent
	for seq := range int64(50) {
		rows = append(rows, row(seq+1, 1, domain.StatusInTransit))
	}
	h.dispatch(rows) // a burst, far more than the channel holds
	for want := int64(1); want <= 50; want++ {
		select {
		case got := <-ch:
			if got != want {
				t.Fatalf("got %d, want %d", got, want)
			}
			n.Consumed() // what the transport does after each value
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never came", want)
		}
	}
	if h.Subscribers() != 1 {
		t.Fatal("a burst within the buffer ended the subscription")
	}
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	h := bareHub(2)
	aborted := make(chan error, 1)
	ctx := WithAbort(partner(1), func(err error) { aborted <- err })
	ch, err := Events(h, ctx, Filter{}, nil, func(ev *Event) int64 { return ev.Seq })
	if err != nil {
		t.Fatal(err)
	}
	// The channel holds handOver events, the backlog 2 more: one more is too many.
	var rows []*ent.TrackingEvent
	for seq := range int64(handOver + 3) {
		rows = append(rows, row(seq+1, 1, domain.StatusInTransit))
	}
	h.dispatch(rows)
	select {
	case err := <-aborted:
		if !errors.Is(err, ErrSlowConsumer) {
			t.Fatalf("aborted with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a full queue did not end the subscription")
	}
	var got []int64
	for seq := range ch { // what was queued is still delivered, then the channel closes
		got = append(got, seq)
	}
	if len(got) != handOver || got[0] != 1 || got[handOver-1] != handOver || h.Subscribers() != 0 {
		t.Fatalf("got %v, %d subscribers", got, h.Subscribers())
	}
}

// scopeFixture is a database with 24 tracking events of 4 customers.
type scopeFixture struct {
	hub    *Hub
	events []*ent.TrackingEvent
}

var statuses = []domain.Status{domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusOutForDelivery, domain.StatusException}

func newScopeFixture(t testing.TB) *scopeFixture {
	b := testutil.All()[0] // SQLite
	d := testutil.NewDatabase(t, b)
	sqlDB := d.OpenMigrated(t)
	client := ent.NewClient(ent.Driver(db.Driver(sqlDB, b.Driver)))
	ctx := privacy.DecisionContext(context.Background(), privacy.Allow)
	f := &scopeFixture{}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var seq int64
	for c := 1; c <= 4; c++ {
		sh := client.Shipment.Create().SetReference("R" + string(rune('A'+c))).SetCustomerID(c).SetStatus(domain.StatusInTransit).
			SetCarrier("DHL").SetOrigin(domain.Address{}).SetDestination(domain.Address{}).SetParcels([]domain.Parcel{}).
			SetCreatedAt(now).SetUpdatedAt(now).SetCreatedBy("t").SetUpdatedBy("t").SaveX(ctx)
		for i := range 6 {
			seq++
			ev := client.TrackingEvent.Create().SetShipmentID(sh.ID).SetSeq(seq).SetStatus(statuses[(c+i)%4]).
				SetOccurredAt(now).SetCreatedAt(now).SetCreatedBy("t").SaveX(ctx)
			ev.Edges.Shipment = sh
			f.events = append(f.events, ev)
		}
	}
	f.hub = New(Options{Client: client, Bus: pubsub.NewMemory(), Batch: 5})
	runCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = f.hub.Run(runCtx) }()
	<-f.hub.Ready()
	for f.hub.Position() < seq {
		time.Sleep(5 * time.Millisecond)
	}
	return f
}

func mask[T any](bits uint8, all []T) []T {
	var out []T
	for i, v := range all {
		if bits&(1<<i) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// listOf is mask(bits, all), and an empty non-nil list when bit 7 is set and
// the mask selects nothing.
func listOf[T any](bits uint8, all []T) []T {
	out := mask(bits, all)
	if out == nil && bits&0x80 != 0 {
		out = []T{}
	}
	return out
}

// FuzzEventScope: whatever filter a partner asks for and wherever it resumes,
// it receives exactly the events of its own customers that match, replayed
// from the database and live alike.
func FuzzEventScope(f *testing.F) {
	f.Add(uint8(1), uint8(0), uint8(0), uint8(0))
	f.Add(uint8(3), uint8(0xff), uint8(0xff), uint8(5))
	f.Add(uint8(2), uint8(5), uint8(2), uint8(23))
	f.Add(uint8(0), uint8(0), uint8(0), uint8(0))
	f.Add(uint8(23), uint8(31), uint8(7), uint8(2))   // a burst beyond the channel: found by the fuzzer
	f.Add(uint8(31), uint8(0x80), uint8(0), uint8(0)) // customerIds: [] matches nothing
	f.Add(uint8(31), uint8(0), uint8(0x80), uint8(3)) // statuses: [] matches nothing
	fx := newScopeFixture(f)
	customers := []int{1, 2, 3, 4, 99}
	f.Fuzz(func(t *testing.T, seen, custFilter, statusFilter, after uint8) {
		v := mask(seen, customers)
		// Bit 7 set asks for an empty, non-nil list where the mask is empty:
		// an empty list matches nothing, an absent one (nil) everything.
		filter := Filter{CustomerIDs: listOf(custFilter, customers), Statuses: listOf(statusFilter, statuses)}
		from := int64(after % 25)
		var want []int64
		for _, ev := range fx.events {
			c := ev.Edges.Shipment.CustomerID
			if ev.Seq > from && slices.Contains(v, c) &&
				(filter.CustomerIDs == nil || slices.Contains(filter.CustomerIDs, c)) &&
				(filter.Statuses == nil || slices.Contains(filter.Statuses, ev.Status)) {
				want = append(want, ev.Seq)
			}
		}
		check := func(path string, got []int64) {
			if !slices.Equal(got, want) {
				t.Fatalf("%s: viewer %v filter %+v after %d: got %v, want %v", path, v, filter, from, got, want)
			}
		}
		// Replayed from the database.
		ctx, cancel := context.WithCancel(partner(v...))
		defer cancel()
		for fx.hub.Subscribers() != 0 { // the previous input's subscription leaves
			time.Sleep(time.Millisecond)
		}
		ch, err := Events(fx.hub, ctx, filter, &from, func(ev *Event) int64 { return ev.Seq })
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for len(got) < len(want) {
			select {
			case seq := <-ch:
				got = append(got, seq)
			case <-time.After(5 * time.Second):
				check("replay (timed out)", got)
			}
		}
		for deadline := time.Now().Add(5 * time.Second); fx.hub.Subscribers() != 1; { // joined: the replay has sent everything
			if time.Now().After(deadline) { // the replay waits for a client that has all it wants: it sent too much
				for len(ch) > 0 {
					got = append(got, <-ch)
				}
				check("replay (not joined)", got)
				t.Fatal("the replay did not end")
			}
			time.Sleep(time.Millisecond)
		}
		for len(ch) > 0 {
			got = append(got, <-ch)
		}
		check("replay", got)
		// Live: the same events dispatched to a fresh hub.
		h := bareHub(64)
		n := NewNotify(func() {})
		lch, err := Events(h, WithNotify(partner(v...), n), filter, nil, func(ev *Event) int64 { return ev.Seq })
		if err != nil {
			t.Fatal(err)
		}
		var rows []*ent.TrackingEvent
		for _, ev := range fx.events {
			if ev.Seq > from {
				rows = append(rows, ev)
			}
		}
		h.mu.Lock()
		h.pos = from
		h.mu.Unlock()
		for s := range h.events {
			s.last = from
		}
		h.dispatch(rows)
		got = nil
		for len(lch) > 0 {
			got = append(got, <-lch)
			n.Consumed() // the backlog moves into the channel, as the transport makes it
		}
		check("live", got)
	})
}
