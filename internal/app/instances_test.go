package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// cluster is several instances of the app over the same databases and Redis,
// each behind its own HTTP server, as behind a load balancer.
type cluster struct {
	apps    []*app.App
	servers []*httptest.Server
}

func newCluster(t *testing.T, b testutil.Backend, n int, extra ...string) *cluster {
	t.Helper()
	testutil.Require(t, b)
	testutil.RequireRedis(t)
	mainDB := testutil.NewDatabase(t, b)
	dolibarrDB := testutil.NewDolibarr(t, b)
	host, port, _ := strings.Cut(testutil.RedisAddr(), ":")
	extra = append([]string{
		"REDIS_HOST=" + host, "REDIS_PORT=" + port,
		fmt.Sprintf("REDIS_PREFIX=test%d:", time.Now().UnixNano()),
		"SUBSCRIPTION_POLL_INTERVAL=1h", // deliveries must come through Redis
	}, extra...)
	c := &cluster{}
	for range n {
		cfg := testutil.Config(t, mainDB, dolibarrDB, extra...)
		a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler)
		t.Cleanup(func() { srv.CloseClientConnections(); srv.Close(); a.Close() })
		select {
		case <-a.Live.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("live updates not ready")
		}
		c.apps = append(c.apps, a)
		c.servers = append(c.servers, srv)
	}
	return c
}

// nodeClient runs a real protocol client; its lines come on the channel.
type nodeLine struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	Error   json.RawMessage `json:"error"`
}

func runNodeClient(t *testing.T, script string, args ...string) (<-chan nodeLine, func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan nodeLine, 100)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l nodeLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				lines <- l
			}
		}
	}()
	t.Cleanup(cancel)
	return lines, func() error {
		wg.Wait()
		err := cmd.Wait()
		if err != nil {
			return fmt.Errorf("%v: %s", err, stderr.String())
		}
		return nil
	}
}

// TestSubscriptionAcrossInstances: a mutation on instance A reaches a
// subscriber on instance B through Redis, for each transport, driven by the
// real clients (graphql-ws, subscriptions-transport-ws, graphql-sse).
func TestSubscriptionAcrossInstances(t *testing.T) {
	script := testutil.RequireNodeClients(t, "../..")
	b := testutil.All()[1] // MariaDB: the production database
	c := newCluster(t, b, 2)
	a, bApp := c.apps[0], c.apps[1]
	admin := newKey(t, a, auth.RoleAdmin)
	partner := newKey(t, a, auth.RolePartner, activeCustomer)
	gqlA := testutil.NewClient(t, a.Handler).As(admin)
	e := &env{t: t, app: a, gql: gqlA}
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws", "sse"} {
		t.Run(proto, func(t *testing.T) {
			sh := e.create(createInput(activeCustomer, "DHL"))
			other := e.create(createInput(otherActiveCustomer, "DHL"))
			url := "ws" + strings.TrimPrefix(c.servers[1].URL, "http") + "/graphql"
			if proto == "sse" {
				url = c.servers[1].URL + "/graphql"
			}
			lines, wait := runNodeClient(t, script, "--protocol", proto, "--url", url, "--key", partner, "--max", "2",
				"--query", `subscription { shipmentEvents { cursor node { status shipment { reference } } } }`)
			waitSubscribers(t, bApp, 1)
			defer waitNoSubscribers(t, bApp)
			e.addEvent(other.ID, "LABEL_CREATED", at(1)) // another customer's: never sent
			e.addEvent(sh.ID, "LABEL_CREATED", at(2))
			e.addEvent(sh.ID, "IN_TRANSIT", at(3))
			var got []string
			for l := range lines {
				switch l.Type {
				case "next":
					var r struct {
						Data struct {
							ShipmentEvents eventEdge `json:"shipmentEvents"`
						} `json:"data"`
					}
					_ = json.Unmarshal(l.Payload, &r)
					ev := r.Data.ShipmentEvents
					if ev.Node.Shipment.Reference != sh.Reference {
						t.Errorf("received another shipment's event: %s", l.Payload)
					}
					got = append(got, ev.Node.Status)
				case "error":
					t.Errorf("client error: %s", l.Error)
				}
			}
			if err := wait(); err != nil {
				t.Fatalf("client: %v", err)
			}
			if strings.Join(got, ",") != "LABEL_CREATED,IN_TRANSIT" {
				t.Fatalf("want LABEL_CREATED,IN_TRANSIT on B, got %v", got)
			}
		})
	}
}

func waitNoSubscribers(t testing.TB, a *app.App) {
	deadline := time.Now().Add(10 * time.Second)
	for a.Live.Subscribers() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSubscriptionResumeAfterKill: a subscriber on B is cut off mid-stream
// (B's connections killed) while a writer keeps adding events on A; it
// reconnects to A with the cursor of the last event it received. The union
// of what it received is every committed event, in order, once.
func TestSubscriptionResumeAfterKill(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			c := newCluster(t, b, 2)
			a := c.apps[0]
			admin := newKey(t, a, auth.RoleAdmin)
			e := &env{t: t, app: a, gql: testutil.NewClient(t, a.Handler).As(admin)}
			var ships []string
			for range 4 {
				ships = append(ships, e.create(createInput(activeCustomer, "DHL")).ID)
			}
			statuses := []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "EXCEPTION", "OUT_FOR_DELIVERY", "DELIVERED"}
			// The subscriber, on instance B, from now on.
			ws := testutil.MustDialWS(t, c.servers[1].URL, "graphql-transport-ws")
			ws.Init(bearer(admin))
			subscribe(ws, false, "1", eventsSubscription, map[string]any{"after": nil})
			waitSubscribers(t, c.apps[1], 1)
			// Writers: one per shipment, concurrently, through instance A.
			var writers sync.WaitGroup
			for i, id := range ships {
				writers.Add(1)
				go func() {
					defer writers.Done()
					w := testutil.NewClient(t, a.Handler).As(admin)
					for j, st := range statuses {
						r := w.Do(`mutation($id: ID!, $in: TrackingEventInput!) { addTrackingEvent(shipmentId: $id, input: $in) { id } }`,
							map[string]any{"id": id, "in": map[string]any{"status": st, "occurredAt": at(i*10 + j)}})
						if len(r.Errors) > 0 {
							t.Errorf("add event: %v", r.Errors)
						}
						time.Sleep(15 * time.Millisecond)
					}
				}()
			}
			total := len(ships) * len(statuses)
			var got []eventEdge
			for len(got) < total/3 {
				got = append(got, nextEdge(t, ws, "1"))
			}
			// Kill instance B's connections mid-stream.
			c.servers[1].CloseClientConnections()
			for {
				if _, err := ws.Read(5 * time.Second); err != nil {
					break
				}
			}
			ws2 := testutil.MustDialWS(t, c.servers[0].URL, "graphql-transport-ws")
			ws2.Init(bearer(admin))
			subscribe(ws2, false, "2", eventsSubscription, map[string]any{"after": got[len(got)-1].Cursor})
			for len(got) < total {
				m, err := ws2.Read(10 * time.Second)
				if err != nil {
					t.Fatalf("after %d of %d events: %v (hub A at %d, B at %d)", len(got), total, err, a.Live.Position(), c.apps[1].Live.Position())
				}
				var r struct {
					Data struct {
						ShipmentEvents eventEdge `json:"shipmentEvents"`
					} `json:"data"`
				}
				if m.Type != "next" || json.Unmarshal(m.Payload, &r) != nil {
					t.Fatalf("unexpected %s %s", m.Type, m.Payload)
				}
				got = append(got, r.Data.ShipmentEvents)
			}
			writers.Wait()
			committed, err := a.Client.TrackingEvent.Query().Order(trackingevent.BySeq()).All(privacy.DecisionContext(context.Background(), privacy.Allow))
			if err != nil {
				t.Fatal(err)
			}
			if len(committed) != total {
				t.Fatalf("committed %d events, want %d", len(committed), total)
			}
			seen := map[string]bool{}
			for i, edge := range got {
				if seen[edge.Cursor] {
					t.Fatalf("event %d received twice", i)
				}
				seen[edge.Cursor] = true
				if edge.Node.Status != string(committed[i].Status) || !reflect.DeepEqual(edge.Node.Description, committed[i].Description) {
					t.Fatalf("event %d: got %s, committed %s (order or gap)", i, edge.Node.Status, committed[i].Status)
				}
			}
			if m, err := ws2.Read(300 * time.Millisecond); err == nil {
				t.Fatalf("extra message after every committed event: %s %s", m.Type, m.Payload)
			}
		})
	}
}

// TestSubscriptionRedisDown: with Redis gone, mutations do not wait for it
// and subscribers on the other instance still get every event, from the poll.
func TestSubscriptionRedisDown(t *testing.T) {
	testutil.RequireRedis(t)
	proxy := testutil.NewProxy(t, testutil.RedisAddr())
	c := newCluster(t, testutil.All()[0], 2,
		"REDIS_HOST="+proxy.Host(), fmt.Sprintf("REDIS_PORT=%d", proxy.Port()),
		"SUBSCRIPTION_POLL_INTERVAL=300ms", "CACHE_DRIVER=memory")
	a := c.apps[0]
	admin := newKey(t, a, auth.RoleAdmin)
	e := &env{t: t, app: a, gql: testutil.NewClient(t, a.Handler).As(admin)}
	sh := e.create(createInput(activeCustomer, "DHL"))
	ws := testutil.MustDialWS(t, c.servers[1].URL, "graphql-transport-ws")
	ws.Init(bearer(admin))
	subscribe(ws, false, "1", eventsSubscription, nil)
	waitSubscribers(t, c.apps[1], 1)
	proxy.Cut()
	defer proxy.Restore()
	for deadline := time.Now().Add(10 * time.Second); !c.apps[1].Live.Degraded(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the instance did not notice Redis going away")
		}
	}
	for i, st := range []string{"LABEL_CREATED", "IN_TRANSIT"} {
		start := time.Now()
		if r := e.addEvent(sh.ID, st, at(i)); len(r.Errors) > 0 {
			t.Fatalf("add event with Redis down: %v", r.Errors)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the mutation waited %s for Redis", d)
		}
	}
	// The subscriber is told, on each result, that events come from the
	// poll while Redis is away; once it is back, results are plain again.
	for _, want := range []string{"LABEL_CREATED", "IN_TRANSIT"} {
		if edge, live := nextEdgeLive(t, ws, "1"); edge.Node.Status != want || !live.Degraded || live.PollInterval != "300ms" {
			t.Fatalf("want %s from the poll, told degraded (poll 300ms); got %+v, %+v", want, edge, live)
		}
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for c.apps[1].Live.Degraded() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if r := e.addEvent(sh.ID, "OUT_FOR_DELIVERY", at(3)); len(r.Errors) > 0 {
		t.Fatalf("add event with Redis back: %v", r.Errors)
	}
	if edge, live := nextEdgeLive(t, ws, "1"); edge.Node.Status != "OUT_FOR_DELIVERY" || live.Degraded {
		t.Fatalf("with Redis back: %+v, %+v", edge, live)
	}
}

// liveExtension is a subscription result's extensions.live.
type liveExtension struct {
	Degraded     bool   `json:"degraded"`
	PollInterval string `json:"pollInterval"`
}

// nextEdgeLive is nextEdge with the result's extensions.live.
func nextEdgeLive(t testing.TB, ws *testutil.WS, id string) (eventEdge, liveExtension) {
	t.Helper()
	m := ws.Next(10 * time.Second)
	if m.Type != "next" || m.ID != id {
		t.Fatalf("want next for %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var out struct {
		Data struct {
			ShipmentEvents eventEdge `json:"shipmentEvents"`
		} `json:"data"`
		Errors     []any `json:"errors"`
		Extensions struct {
			Live liveExtension `json:"live"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(m.Payload, &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("bad result %s (%v)", m.Payload, err)
	}
	return out.Data.ShipmentEvents, out.Extensions.Live
}
