package live

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// subFixture is one subscription of a Hub, driven by hand: the test plays
// the Hub's dispatch and the transport's reads.
type subFixture struct {
	t       *testing.T
	h       *Hub
	ch      <-chan int64
	cancel  context.CancelFunc
	notify  *Notify
	aborted chan error
	s       *eventSub // once it is known to the Hub
	got     []int64   // what the client read
}

// subscribe subscribes base's viewer to every event of h.
func subscribe(t *testing.T, h *Hub, base context.Context, after *int64) (*subFixture, error) {
	t.Helper()
	f := &subFixture{t: t, h: h, aborted: make(chan error, 1), notify: NewNotify(func() {})}
	ctx, cancel := context.WithCancel(base)
	t.Cleanup(cancel)
	f.cancel = cancel
	ctx = WithAbort(WithNotify(ctx, f.notify), func(err error) { f.aborted <- err })
	ch, err := Events(h, ctx, Filter{}, after, func(ev *Event) int64 { return ev.Seq })
	f.ch = ch
	return f, err
}

// sub returns the Hub's only subscription, joined or replaying.
func (f *subFixture) sub() *eventSub {
	f.t.Helper()
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	for s := range f.h.events {
		return s
	}
	for s := range f.h.replaying {
		return s
	}
	return nil
}

// waitState waits for the subscription s to reach want.
func (f *subFixture) waitState(s *eventSub, want subState) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.h.mu.Lock()
		got := s.state
		f.h.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("state %s, want %s", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// read takes every value queued, as a transport does (Consumed after
// each), into f.got; true when the channel is closed.
func (f *subFixture) read() (closed bool) {
	for {
		select {
		case v, ok := <-f.ch:
			if !ok {
				return true
			}
			f.got = append(f.got, v)
			f.notify.Consumed()
		default:
			return false
		}
	}
}

func rows(from, to int64) []*ent.TrackingEvent {
	var out []*ent.TrackingEvent
	for seq := from; seq <= to; seq++ {
		out = append(out, row(seq, 1, domain.StatusInTransit))
	}
	return out
}

func seqs(from, to int64) []int64 {
	var out []int64
	for seq := from; seq <= to; seq++ {
		out = append(out, seq)
	}
	return out
}

func ptr(v int64) *int64 { return &v }

// TestSubscriptionStates walks a subscription through each of its steps on a
// Hub driven by hand: where it starts, what each step moves it to, what the
// client receives and why it ended.
func TestSubscriptionStates(t *testing.T) {
	stopped := func(f *subFixture) { f.h.Stop() }
	tests := []struct {
		name    string
		buffer  int
		pos     int64  // the Hub's position when the client subscribes
		after   *int64 // the client's cursor
		start   subState
		act     func(f *subFixture)
		end     subState
		want    []int64 // what the client reads (then, closed or not)
		closed  bool
		cause   error // what the transport's abort hook hears (nil: not called)
		remains int   // subscribers left
	}{
		{
			name: "fresh: live at the position", buffer: 4, pos: 5, start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(4, 7)) }, // 4 and 5 are before its time
			end: stateLive, want: seqs(6, 7), remains: 1,
		},
		{
			name: "cursor at the position: joins without replaying", buffer: 4, pos: 5, after: ptr(5), start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(6, 6)) },
			end: stateLive, want: seqs(6, 6), remains: 1,
		},
		{
			name: "cursor ahead of this instance: joins at the cursor", buffer: 4, pos: 5, after: ptr(9), start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(6, 11)) },
			end: stateLive, want: seqs(10, 11), remains: 1,
		},
		{
			name: "burst within the buffer: backlog, refilled as read", buffer: 20, start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(1, handOver+20)) },
			end: stateLive, want: seqs(1, handOver+20), remains: 1,
		},
		{
			name: "client stops: closed, no abort", buffer: 4, start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(1, 2)); f.cancel() },
			end: stateClosed, want: seqs(1, 2), closed: true,
		},
		{
			name: "client stops with a backlog: closed, backlog dropped", buffer: 4, start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(1, handOver+2)); f.cancel() },
			end: stateClosed, want: seqs(1, handOver), closed: true,
		},
		{
			name: "overflow: closed as a slow consumer, the channel's values still read", buffer: 2, start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(1, handOver+3)) },
			end: stateClosed, want: seqs(1, handOver), closed: true, cause: ErrSlowConsumer,
		},
		{
			name: "Hub stops, nothing queued: closed", buffer: 4, start: stateLive,
			act: stopped, end: stateClosed, closed: true, cause: ErrClosed,
		},
		{
			name: "Hub stops with values in the channel only: closed after them", buffer: 4, start: stateLive,
			act: func(f *subFixture) { f.h.dispatch(rows(1, 3)); f.h.Stop() },
			end: stateClosed, want: seqs(1, 3), closed: true, cause: ErrClosed,
		},
		{
			name: "Hub stops with a backlog: draining, all handed over, then closed", buffer: 10, start: stateLive,
			act: func(f *subFixture) {
				f.h.dispatch(rows(1, handOver+5))
				f.h.Stop()
				f.waitState(f.s, stateDraining)
				f.read() // each value read moves the backlog up; the last closes
			},
			end: stateClosed, want: seqs(1, handOver+5), closed: true, cause: ErrClosed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bareHub(tt.buffer)
			h.pos = tt.pos
			f, err := subscribe(t, h, partner(1), tt.after)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for f.s = f.sub(); f.s == nil || h.Subscribers() == 0; f.s = f.sub() {
				if time.Now().After(deadline) {
					t.Fatal("never joined")
				}
				time.Sleep(time.Millisecond)
			}
			f.waitState(f.s, tt.start)
			tt.act(f)
			if f.s != nil {
				f.waitState(f.s, tt.end)
			}
			closed := f.read()
			if !slices.Equal(f.got, tt.want) || closed != tt.closed {
				t.Fatalf("read %v (closed %v), want %v (closed %v)", f.got, closed, tt.want, tt.closed)
			}
			select {
			case err := <-f.aborted:
				if tt.cause == nil || !errors.Is(err, tt.cause) {
					t.Fatalf("aborted with %v, want %v", err, tt.cause)
				}
			case <-time.After(200 * time.Millisecond):
				if tt.cause != nil {
					t.Fatalf("not aborted, want %v", tt.cause)
				}
			}
			if n := h.Subscribers(); n != tt.remains {
				t.Fatalf("%d subscribers left, want %d", n, tt.remains)
			}
		})
	}
}

// TestSubscriptionResume walks the replay of a subscription that resumes
// behind the Hub's position (a database with 24 events; the channel holds
// handOver, so the replay waits for the client).
func TestSubscriptionResume(t *testing.T) {
	all := []int{1, 2, 3, 4}
	tests := []struct {
		name    string
		broken  bool // the database is gone: the replay fails
		act     func(f *subFixture)
		end     subState
		want    []int64
		cause   func(error) bool
		remains int
	}{
		{
			name: "read: replaying, then live at the position",
			act:  func(f *subFixture) { f.readN(24) },
			end:  stateLive, want: seqs(1, 24), remains: 1,
		},
		{
			name: "client stops while replaying: closed, no abort",
			act:  func(f *subFixture) { f.cancel() },
			end:  stateClosed, want: seqs(1, handOver),
		},
		{
			name: "Hub stops while replaying: closed, going away",
			act:  func(f *subFixture) { f.h.Stop() },
			end:  stateClosed, want: seqs(1, handOver),
			cause: func(err error) bool { return errors.Is(err, ErrClosed) },
		},
		{
			name: "replay fails: closed, the transport hears why", broken: true,
			act: func(*subFixture) {},
			end: stateClosed,
			cause: func(err error) bool {
				return err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrSlowConsumer)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *Hub
			if tt.broken {
				h = brokenHub(t)
			} else {
				h = newScopeFixture(t).hub
			}
			f, err := subscribe(t, h, partner(all...), ptr(0))
			if err != nil {
				t.Fatal(err)
			}
			f.s = f.sub()
			if f.s == nil && !tt.broken { // a failed replay may have left the Hub already: closed
				t.Fatal("not replaying")
			}
			if !tt.broken {
				f.waitState(f.s, stateReplaying)
				for len(f.ch) < handOver { // the replay waits for the client
					time.Sleep(time.Millisecond)
				}
				if n := h.Subscribers(); n != 0 {
					t.Fatalf("%d subscribers while replaying", n)
				}
			}
			tt.act(f)
			if f.s != nil {
				f.waitState(f.s, tt.end)
			}
			f.read()
			if !slices.Equal(f.got, tt.want) {
				t.Fatalf("read %v, want %v", f.got, tt.want)
			}
			select {
			case err := <-f.aborted:
				if tt.cause == nil || !tt.cause(err) {
					t.Fatalf("aborted with %v", err)
				}
			case <-time.After(200 * time.Millisecond):
				if tt.cause != nil {
					t.Fatal("not aborted")
				}
			}
			h.mu.Lock()
			replaying := len(h.replaying)
			h.mu.Unlock()
			if n := h.Subscribers(); n != tt.remains || replaying != 0 {
				t.Fatalf("%d subscribers and %d replaying left, want %d and 0", n, replaying, tt.remains)
			}
		})
	}
}

// readN reads n values, waiting for them.
func (f *subFixture) readN(n int) {
	f.t.Helper()
	timeout := time.After(5 * time.Second)
	for len(f.got) < n {
		select {
		case v := <-f.ch:
			f.got = append(f.got, v)
			f.notify.Consumed()
		case <-timeout:
			f.t.Fatalf("read %v, want %d values", f.got, n)
		}
	}
}

// brokenHub is a Hub whose database is closed, at position 5.
func brokenHub(t *testing.T) *Hub {
	b := testutil.All()[0] // SQLite
	d := testutil.NewDatabase(t, b)
	sqlDB := d.OpenMigrated(t)
	client := ent.NewClient(ent.Driver(db.Driver(sqlDB, b.Driver)))
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
	h := New(Options{Client: client, Bus: pubsub.NewMemory()})
	close(h.ready)
	h.pos = 5
	return h
}

// TestSubscriptionRaces runs the steps against each other (go test -race):
// the Hub dispatching, transports reading, clients subscribing, stopping and
// the Hub stopping, all at once. Whatever the interleaving, each client
// reads consecutive seqs (none lost, none twice, in order), every channel
// closes once, and nothing is left in the Hub.
func TestSubscriptionRaces(t *testing.T) {
	const events = 400
	tests := []struct {
		name   string
		buffer int
		subs   int
		// late subscribe while the Hub dispatches; cancel stops some of
		// them midway; stopEarly stops the Hub before the last event.
		late, cancel, stopEarly bool
	}{
		{name: "dispatch and read", buffer: events, subs: 4},
		{name: "subscribe while dispatching", buffer: events, subs: 4, late: true},
		{name: "clients stop while dispatching", buffer: events, subs: 4, late: true, cancel: true},
		{name: "Hub stops while dispatching: the backlog drains", buffer: events, subs: 4, late: true, stopEarly: true},
		{name: "slow consumers overflow while dispatching", buffer: 3, subs: 4, late: true, cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 10 {
				raceRound(t, round, tt.buffer, tt.subs, events, tt.late, tt.cancel, tt.stopEarly)
			}
		})
	}
}

func raceRound(t *testing.T, round, buffer, subs, events int, late, cancel, stopEarly bool) {
	h := bareHub(buffer)
	type client struct {
		f       *subFixture
		start   int64 // the position it joined at, at the earliest
		joined  int64 // and at the latest
		stopped bool
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		clients []*client
	)
	join := func(i int) {
		start := h.Position()
		f, err := subscribe(t, h, partner(1), nil)
		if errors.Is(err, ErrClosed) {
			return // the Hub stopped first
		}
		if err != nil {
			t.Error(err)
			return
		}
		c := &client{f: f, start: start, joined: h.Position()}
		mu.Lock()
		clients = append(clients, c)
		mu.Unlock()
		wg.Add(1)
		go func() { // the transport
			defer wg.Done()
			for v := range f.ch {
				f.got = append(f.got, v)
				if cancel && i%2 == 1 && len(f.got) == 10+i {
					c.stopped = true
					f.cancel()
				}
				if buffer < handOver && i%2 == 0 && len(f.got) < 3 {
					time.Sleep(time.Millisecond) // a slow reader
				}
				f.notify.Consumed()
			}
		}()
	}
	for i := range subs {
		join(i)
	}
	var stopPos int64 = -1
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		for seq := int64(1); seq <= int64(events); seq += 5 {
			if stopEarly && seq > int64(events)/2 && stopPos < 0 {
				stopPos = h.Position()
				h.Stop()
			}
			h.dispatch(rows(seq, seq+4))
		}
	}()
	if late {
		for i := range subs {
			join(subs + i)
			time.Sleep(time.Duration(round) * 50 * time.Microsecond)
		}
	}
	<-dispatched
	final := h.Position()
	h.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("round %d: a channel never closed", round)
	}
	for i, c := range clients {
		got := c.f.got
		for j := 1; j < len(got); j++ {
			if got[j] != got[j-1]+1 {
				t.Fatalf("round %d client %d: %d after %d: %v", round, i, got[j], got[j-1], got)
			}
		}
		if len(got) > 0 && got[0] <= c.start {
			t.Fatalf("round %d client %d: started at %d, joined after %d", round, i, got[0], c.start)
		}
		var slow bool
		select {
		case err := <-c.f.aborted:
			slow = errors.Is(err, ErrSlowConsumer)
		default:
		}
		// Not stopped, not too slow: it has every event since it joined.
		want := final
		if stopEarly {
			want = stopPos
		}
		if !c.stopped && !slow && buffer >= events && c.joined < want && (len(got) == 0 || got[len(got)-1] < want) {
			t.Fatalf("round %d client %d: lost events: read up to %v, want up to %d", round, i, got, want)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) != 0 || len(h.replaying) != 0 {
		t.Fatalf("round %d: %d live and %d replaying left", round, len(h.events), len(h.replaying))
	}
}

// TestShipmentSubscription walks a shipment subscription through its steps:
// join (the current state first), leave, and the refusals.
func TestShipmentSubscription(t *testing.T) {
	fx := newScopeFixture(t)
	own := fx.events[0].Edges.Shipment // customer 1's
	tests := []struct {
		name    string
		stop    bool // the Hub stopped before
		viewer  []int
		id      int
		wantErr func(error) bool
	}{
		{name: "visible: the current state, then closed when the client stops", viewer: []int{1}, id: own.ID},
		{name: "another customer's: not found", viewer: []int{2}, id: own.ID, wantErr: ent.IsNotFound},
		{name: "no such shipment: not found", viewer: []int{1}, id: 1 << 40, wantErr: ent.IsNotFound},
		{name: "the Hub stopped: closed", stop: true, viewer: []int{1}, id: own.ID, wantErr: func(err error) bool { return errors.Is(err, ErrClosed) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fx.hub
			if tt.stop {
				h = newScopeFixture(t).hub
				h.Stop()
			}
			ctx, cancel := context.WithCancel(partner(tt.viewer...))
			defer cancel()
			ch, err := Shipment(h, ctx, tt.id)
			if tt.wantErr != nil {
				if err == nil || !tt.wantErr(err) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			select {
			case sh := <-ch:
				if sh.ID != own.ID || sh.Version != own.Version {
					t.Fatalf("got shipment %d version %d", sh.ID, sh.Version)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no current state")
			}
			if n := h.Subscribers(); n != 1 {
				t.Fatalf("%d subscribers", n)
			}
			cancel()
			select {
			case _, ok := <-ch:
				if ok {
					t.Fatal("a value after leaving")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the channel did not close")
			}
			waitSubscribers(t, h, 0)
		})
	}
}

func waitSubscribers(t *testing.T, h *Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", h.Subscribers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
