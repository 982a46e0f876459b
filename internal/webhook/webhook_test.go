package webhook_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	_ "github.com/shipmentapp/shipmentapp/ent/runtime"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/netguard"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/secretbox"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
	"github.com/shipmentapp/shipmentapp/internal/webhook"
)

// flipResolver answers every name with the address it is set to: a DNS
// name that changes between an endpoint's creation and its deliveries.
type flipResolver struct {
	mu   sync.Mutex
	addr netip.Addr
}

func (r *flipResolver) set(a string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addr = netip.MustParseAddr(a)
}

func (r *flipResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return []netip.Addr{r.addr}, nil
}

// staticRenderer accepts any document and renders every event as one
// small object.
type staticRenderer struct{}

func (staticRenderer) Check(context.Context, *viewer.Viewer, string, map[string]any) error {
	return nil
}

func (staticRenderer) Render(context.Context, *viewer.Viewer, string, map[string]any, *live.Event) (*webhook.Result, error) {
	return &webhook.Result{Data: json.RawMessage(`{"ok":true}`)}, nil
}

func sys() context.Context { return privacy.DecisionContext(context.Background(), privacy.Allow) }

// TestDeliveryRechecksAddresses: a receiver's name that resolved to a
// public address when the endpoint was created and resolves to loopback
// when a delivery is made is refused then: the attempt says refused and
// no connection reaches the receiver (the queue's worker and a test send
// alike). The same name, with loopback allowlisted, is delivered: the
// refusal is the address check's, not the test's plumbing.
func TestDeliveryRechecksAddresses(t *testing.T) {
	for _, c := range []struct {
		name    string
		allowed []netip.Prefix
		refused bool
	}{
		{"rebound to loopback", nil, true},
		{"loopback allowlisted", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := testutil.All()[0] // SQLite
			d := testutil.NewDatabase(t, b)
			client := ent.NewClient(ent.Driver(db.Driver(d.OpenMigrated(t), b.Driver)))
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)

			hub := live.New(live.Options{Client: client, Bus: pubsub.NewMemory(), Poll: 50 * time.Millisecond})
			go func() { _ = hub.Run(ctx) }()
			<-hub.Ready()
			keys := auth.NewKeys(client)
			row, _, err := keys.Create(sys(), auth.CreateInput{Name: "admin", Role: auth.RoleAdmin, CreatedBy: "test"})
			if err != nil {
				t.Fatal(err)
			}
			admin, _, err := keys.ViewerOf(ctx, row.ID)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := secretbox.ParseKeys(strings.Repeat("ab", 32))
			if err != nil {
				t.Fatal(err)
			}
			box, err := secretbox.New(parsed)
			if err != nil {
				t.Fatal(err)
			}

			var conns atomic.Int64
			rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
			rcv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			rcv.Start()
			t.Cleanup(rcv.Close)
			u, err := url.Parse(rcv.URL)
			if err != nil {
				t.Fatal(err)
			}
			port := u.Port()

			res := &flipResolver{}
			res.set("93.184.216.34") // public at creation
			svc, err := webhook.New(webhook.Options{
				Client: client, Hub: hub, Renderer: staticRenderer{}, Keys: keys, Box: box,
				Policy:   netguard.Policy{AllowHTTP: true, Allowed: c.allowed, Resolver: res},
				Timeout:  time.Second,
				Schedule: []time.Duration{0, time.Hour},
				Lease:    10 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			actx := viewer.NewContext(ctx, admin)
			ep, _, err := svc.Create(actx, webhook.CreateInput{URL: "http://hooks.partner.example:" + port + "/in"})
			if err != nil {
				t.Fatalf("create with a public address: %v", err)
			}
			res.set("127.0.0.1") // loopback at delivery
			go svc.Run(ctx)

			now := time.Now().UTC().Truncate(time.Microsecond)
			sh := client.Shipment.Create().SetReference("R1").SetCustomerID(1).SetStatus(domain.StatusInTransit).
				SetCarrier("DHL").SetOrigin(domain.Address{}).SetDestination(domain.Address{}).SetParcels([]domain.Parcel{}).
				SetCreatedAt(now).SetUpdatedAt(now).SetCreatedBy("t").SetUpdatedBy("t").SaveX(sys())
			client.TrackingEvent.Create().SetShipmentID(sh.ID).SetSeq(1).SetStatus(domain.StatusInTransit).
				SetOccurredAt(now).SetCreatedAt(now).SetCreatedBy("t").SaveX(sys())

			var page webhook.DeliveryPage
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				page, err = svc.Deliveries(actx, ep.ID, nil, 10, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Deliveries) == 1 && len(page.Deliveries[0].Attempts) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no attempt within 10 s: %+v", page)
				}
			}
			test, err := svc.SendTest(actx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []*ent.WebhookAttempt{page.Deliveries[0].Attempts[0], test.Attempts[0]} {
				switch {
				case c.refused && (a.Error == nil || !strings.Contains(*a.Error, "refused") || !strings.Contains(*a.Error, "127.0.0.1") || a.StatusCode != nil):
					t.Errorf("attempt: error %v, status %v; want refused for 127.0.0.1", a.Error, a.StatusCode)
				case !c.refused && (a.StatusCode == nil || *a.StatusCode != http.StatusOK):
					t.Errorf("attempt: error %v, status %v; want 200", a.Error, a.StatusCode)
				}
			}
			if n := conns.Load(); c.refused && n != 0 || !c.refused && n == 0 {
				t.Errorf("%d connections reached the receiver", n)
			}
		})
	}
}
