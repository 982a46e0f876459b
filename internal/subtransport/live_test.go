package subtransport_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	_ "github.com/shipmentapp/shipmentapp/ent/runtime"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/subtransport"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// liveExec serves `subscription { events }` from a real live.Hub (on
// SQLite), the way the resolvers do, and the rest as fakeExec; each value
// takes delay to resolve (a slow resolver, so the Hub's queue fills).
type liveExec struct {
	*fakeExec
	hub   *live.Hub
	delay time.Duration
}

func (e *liveExec) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if !strings.Contains(rc.RawQuery, "events") {
		return e.fakeExec.DispatchOperation(ctx, rc)
	}
	ctx = viewer.NewContext(ctx, &viewer.Viewer{Kind: "api_key", ID: "p", Role: viewer.RolePartner, Customers: []int{1}})
	ch, err := live.Events(e.hub, ctx, live.Filter{}, nil, func(ev *live.Event) int64 { return ev.Seq })
	return func(context.Context) *graphql.Response {
		if err != nil {
			return &graphql.Response{Data: []byte("null"), Errors: gqlerror.List{{Message: err.Error()}}}
		}
		seq, ok := <-ch
		if !ok {
			return nil
		}
		time.Sleep(e.delay)
		b, _ := json.Marshal(map[string]int64{"events": seq})
		return &graphql.Response{Data: b}
	}, ctx
}

// liveFixture is a Hub over a database with one shipment of customer 1;
// add commits tracking events.
type liveFixture struct {
	hub    *live.Hub
	client *ent.Client
	ship   *ent.Shipment
	seq    int64
}

func newLiveFixture(t *testing.T, buffer int) *liveFixture {
	t.Helper()
	b := testutil.All()[0] // SQLite
	d := testutil.NewDatabase(t, b)
	sqlDB := d.OpenMigrated(t)
	client := ent.NewClient(ent.Driver(db.Driver(sqlDB, b.Driver)))
	now := time.Now().UTC().Truncate(time.Microsecond)
	ship, err := client.Shipment.Create().SetReference("R1").SetCustomerID(1).SetStatus(domain.StatusInTransit).
		SetCarrier("DHL").SetOrigin(domain.Address{}).SetDestination(domain.Address{}).SetParcels([]domain.Parcel{}).
		SetCreatedAt(now).SetUpdatedAt(now).SetCreatedBy("t").SetUpdatedBy("t").Save(allow())
	if err != nil {
		t.Fatal(err)
	}
	f := &liveFixture{client: client, ship: ship}
	f.hub = live.New(live.Options{Client: client, Bus: pubsub.NewMemory(), Buffer: buffer, Poll: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = f.hub.Run(ctx)
	}()
	// Registered after the database's, so run before it: the Hub stops
	// reading the database before its directory is removed.
	t.Cleanup(func() {
		cancel()
		<-ran
	})
	<-f.hub.Ready()
	return f
}

func allow() context.Context { return privacy.DecisionContext(context.Background(), privacy.Allow) }

// add commits n tracking events at once.
func (f *liveFixture) add(t *testing.T, n int) {
	t.Helper()
	now := time.Now().UTC()
	bulk := make([]*ent.TrackingEventCreate, n)
	for i := range bulk {
		f.seq++
		bulk[i] = f.client.TrackingEvent.Create().SetShipmentID(f.ship.ID).SetSeq(f.seq).SetStatus(domain.StatusInTransit).
			SetOccurredAt(now).SetCreatedAt(now).SetCreatedBy("t")
	}
	if _, err := f.client.TrackingEvent.CreateBulk(bulk...).Save(allow()); err != nil {
		t.Fatal(err)
	}
}

// TestLiveEnds: the ends a subscription of the Hub brings to its
// connection. A client the Hub finds too slow is closed with 1013 (resume
// with the cursor), over SSE told SLOW_CONSUMER; on shutdown the Hub's
// queued events go out, then 1001, and never "complete".
func TestLiveEnds(t *testing.T) {
	tests := []struct {
		name   string
		proto  string // "" for SSE
		slow   bool   // a slow resolver and a burst beyond the queue
		want   string // what ends it: a close code or an SSE event
		reason string
	}{
		{name: "graphql-transport-ws: slow consumer, 1013", proto: subtransport.ProtocolTransportWS, slow: true, want: "1013", reason: "slow consumer"},
		{name: "graphql-ws: slow consumer, 1013", proto: subtransport.ProtocolLegacy, slow: true, want: "1013", reason: "slow consumer"},
		{name: "SSE: slow consumer, SLOW_CONSUMER", slow: true, want: "SLOW_CONSUMER"},
		{name: "graphql-transport-ws: shutdown, 1001 after the queued events", proto: subtransport.ProtocolTransportWS, want: "1001", reason: "going away"},
		{name: "graphql-ws: shutdown, 1001 after the queued events", proto: subtransport.ProtocolLegacy, want: "1001", reason: "going away"},
		{name: "SSE: shutdown, the stream ends after the queued events", want: "end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lf := newLiveFixture(t, 2)
			exec := &liveExec{hub: lf.hub}
			if tt.slow {
				exec.delay = 50 * time.Millisecond
			}
			e := newEnv(t, func(o *subtransport.Options) { o.Drain = lf.hub.Stop })
			exec.fakeExec = e.exec
			e.setExec(exec)
			burst := 3
			if tt.slow {
				burst = 40 // the channel holds 8, the backlog 2
			}
			if tt.proto == "" {
				s := e.post(t, tokenGood, `{"query":"subscription { events }"}`)
				waitFor(t, "the subscriber", func() bool { return lf.hub.Subscribers() == 1 })
				lf.add(t, burst)
				if !tt.slow {
					for range burst {
						if ev, ok := s.next(5 * time.Second); !ok || ev.event != "next" {
							t.Fatalf("got %s", ev)
						}
					}
					go func() { _ = e.srv.Shutdown(context.Background()) }()
				}
				for {
					ev, ok := s.next(10 * time.Second)
					switch {
					case !ok && tt.want == "end":
						return
					case !ok:
						t.Fatalf("the stream ended without %s", tt.want)
					case ev.event == "complete":
						t.Fatal("complete after the server ended the stream")
					case tt.want != "end" && strings.Contains(ev.data, tt.want):
						if ev, ok := s.next(5 * time.Second); ok {
							t.Fatalf("got %s after %s", ev, tt.want)
						}
						return
					}
				}
			}
			c := e.dial(t, tt.proto, nil)
			c.init(tokenGood)
			typ, data := "subscribe", "next"
			if tt.proto == subtransport.ProtocolLegacy {
				typ, data = "start", "data"
			}
			c.send(`{"id":"e","type":"%s","payload":{"query":"subscription { events }"}}`, typ)
			waitFor(t, "the subscriber", func() bool { return lf.hub.Subscribers() == 1 })
			lf.add(t, burst)
			if !tt.slow {
				for range burst {
					for {
						m := c.next()
						if m.Type == data {
							break
						}
						if m.Type != "ka" {
							t.Fatalf("got %s", m)
						}
					}
				}
				go func() { _ = e.srv.Shutdown(context.Background()) }()
			}
			for {
				m, code, reason, err := c.read(10 * time.Second)
				switch {
				case err != nil && code == 0:
					t.Fatalf("not closed: %v", err)
				case code != 0:
					if want := tt.want; want != strconv.Itoa(int(code)) || !strings.Contains(reason, tt.reason) {
						t.Fatalf("closed with %d %q, want %s %q", code, reason, tt.want, tt.reason)
					}
					return
				case m.Type == "complete":
					t.Fatal("complete before the close")
				}
			}
		})
	}
}
