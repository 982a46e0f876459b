package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shipmentapp/shipmentapp/ent/apikey"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

const eventsSubscription = `subscription($after: Cursor, $where: ShipmentEventsWhere) {
	shipmentEvents(after: $after, where: $where) { cursor node { status description shipment { id reference } } }
}`

type eventEdge struct {
	Cursor string `json:"cursor"`
	Node   struct {
		Status      string  `json:"status"`
		Description *string `json:"description"`
		Shipment    struct {
			ID        string `json:"id"`
			Reference string `json:"reference"`
		} `json:"shipment"`
	} `json:"node"`
}

// waitSubscribers waits until the app's hub has n subscriptions.
func waitSubscribers(t testing.TB, a *app.App, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.Live.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("want %d subscribers, have %d", n, a.Live.Subscribers())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subscribe sends a subscribe (or legacy start) message.
func subscribe(ws *testutil.WS, legacy bool, id, query string, vars map[string]any) {
	typ := "subscribe"
	if legacy {
		typ = "start"
	}
	ws.Send(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}})
}

// nextEdge reads the next result of the shipmentEvents subscription id.
func nextEdge(t testing.TB, ws *testutil.WS, id string) eventEdge {
	t.Helper()
	m := ws.Next(10 * time.Second)
	if (m.Type != "next" && m.Type != "data") || m.ID != id {
		t.Fatalf("want next for %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var out struct {
		Data struct {
			ShipmentEvents eventEdge `json:"shipmentEvents"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("bad result %s (%v)", m.Payload, err)
	}
	return out.Data.ShipmentEvents
}

func bearer(key string) map[string]any { return map[string]any{"authorization": "Bearer " + key} }

func at(minutes int) string {
	return time.Now().UTC().Add(time.Duration(minutes-120) * time.Minute).Format(time.RFC3339)
}

// TestSubscriptionShipmentEvents follows tracking events over a websocket on
// every database: scoped to the partner's customers, then resumed after a
// cursor with nothing missed or repeated.
func TestSubscriptionShipmentEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		mine := e.create(createInput(activeCustomer, "DHL"))
		theirs := e.create(createInput(otherActiveCustomer, "DHL"))
		partner := e.key(auth.RolePartner, activeCustomer)

		ws := testutil.MustDialWS(t, e.gql.URL(), "graphql-transport-ws")
		ws.Init(bearer(partner))
		subscribe(ws, false, "1", eventsSubscription, nil)
		waitSubscribers(t, e.app, 1)

		for _, step := range []struct{ id, status string }{
			{mine.ID, "LABEL_CREATED"}, {theirs.ID, "LABEL_CREATED"}, {mine.ID, "IN_TRANSIT"}, {theirs.ID, "IN_TRANSIT"}, {mine.ID, "OUT_FOR_DELIVERY"},
		} {
			if r := e.addEvent(step.id, step.status, at(len(step.status))); len(r.Errors) > 0 {
				t.Fatalf("add event: %v", r.Errors)
			}
		}
		var got []eventEdge
		for _, want := range []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY"} {
			edge := nextEdge(t, ws, "1")
			if edge.Node.Status != want || edge.Node.Shipment.ID != mine.ID {
				t.Fatalf("want %s of %s, got %+v", want, mine.Reference, edge)
			}
			got = append(got, edge)
		}
		// theirs' events were interleaved with mine: one leaking through
		// would have broken the sequence above.

		// Resume after the first event on a new connection: the two others
		// come from the database, then the live ones.
		ws2 := testutil.MustDialWS(t, e.gql.URL(), "graphql-transport-ws")
		ws2.Init(bearer(partner))
		subscribe(ws2, false, "a", eventsSubscription, map[string]any{"after": got[0].Cursor})
		for _, want := range got[1:] {
			if edge := nextEdge(t, ws2, "a"); edge.Cursor != want.Cursor || edge.Node.Status != want.Node.Status {
				t.Fatalf("replay: want %+v, got %+v", want, edge)
			}
		}
		waitSubscribers(t, e.app, 2)
		e.addEvent(mine.ID, "DELIVERED", at(60))
		for _, c := range []*testutil.WS{ws, ws2} {
			id := map[*testutil.WS]string{ws: "1", ws2: "a"}[c]
			if edge := nextEdge(t, c, id); edge.Node.Status != "DELIVERED" {
				t.Fatalf("live after replay: got %+v", edge)
			}
		}
	})
}

// TestSubscriptionProtocol checks the websocket protocols' rules and our caps.
func TestSubscriptionProtocol(t *testing.T) {
	b := testutil.All()[0]
	testutil.Require(t, b)
	e := newEnv(t, b,
		"SUBSCRIPTION_INIT_TIMEOUT=300ms",
		"SUBSCRIPTION_MAX_PER_CONNECTION=2",
		"SUBSCRIPTION_MAX_CONNECTIONS_PER_KEY=2",
		"APP_URL=https://app.example.com",
	)
	sh := e.create(createInput(activeCustomer, "UPS"))
	url := e.gql.URL()
	updated := `subscription($id: ID!) { shipmentUpdated(id: $id) { id status version } }`
	closes := func(t *testing.T, ws *testutil.WS, code websocket.StatusCode) {
		t.Helper()
		got, reason := ws.CloseStatus(5 * time.Second)
		if got != code {
			t.Fatalf("want close %d, got %d %q", code, got, reason)
		}
	}
	t.Run("init timeout closes with 4408", func(t *testing.T) {
		closes(t, testutil.MustDialWS(t, url, "graphql-transport-ws"), 4408)
	})
	t.Run("subscribe before init closes with 4401", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		subscribe(ws, false, "1", updated, map[string]any{"id": sh.ID})
		closes(t, ws, 4401)
	})
	t.Run("bad credentials close with 4403", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Send(map[string]any{"type": "connection_init", "payload": bearer("sk_live_nope")})
		closes(t, ws, 4403)
	})
	t.Run("no credentials close with 4403", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Send(map[string]any{"type": "connection_init"})
		closes(t, ws, 4403)
	})
	t.Run("credentials in the upgrade request's headers", func(t *testing.T) {
		ws, _, err := testutil.DialWS(t, url, "graphql-transport-ws", http.Header{"X-Api-Key": {e.adminKey}})
		if err != nil {
			t.Fatal(err)
		}
		ws.Init(nil)
	})
	t.Run("second init closes with 4429", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(e.adminKey))
		ws.Send(map[string]any{"type": "connection_init", "payload": bearer(e.adminKey)})
		closes(t, ws, 4429)
	})
	t.Run("duplicate id closes with 4409", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(e.adminKey))
		subscribe(ws, false, "x", updated, map[string]any{"id": sh.ID})
		subscribe(ws, false, "x", updated, map[string]any{"id": sh.ID})
		for {
			m, err := ws.Read(5 * time.Second)
			if err != nil {
				var ce websocket.CloseError
				if !asClose(err, &ce) || ce.Code != 4409 {
					t.Fatalf("want 4409, got %v", err)
				}
				return
			}
			if m.Type != "next" {
				t.Fatalf("unexpected %s %s", m.Type, m.Payload)
			}
		}
	})
	t.Run("unknown subprotocol closes with 4406", func(t *testing.T) {
		closes(t, testutil.MustDialWS(t, url, ""), 4406)
	})
	t.Run("invalid message closes with 4400", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Send(map[string]any{"type": "nonsense"})
		closes(t, ws, 4400)
	})
	t.Run("cross-site origin is refused", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "null", "https://app.example.com.evil.example"} {
			_, resp, err := testutil.DialWS(t, url, "graphql-transport-ws", http.Header{"Origin": {origin}})
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("origin %s: want 403, got %v %v", origin, resp, err)
			}
		}
		if _, _, err := testutil.DialWS(t, url, "graphql-transport-ws", http.Header{"Origin": {"https://app.example.com"}}); err != nil {
			t.Fatalf("APP_URL's origin refused: %v", err)
		}
	})
	t.Run("ping gets pong", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(e.adminKey))
		ws.Send(map[string]any{"type": "ping"})
		if m := ws.Next(5 * time.Second); m.Type != "pong" {
			t.Fatalf("want pong, got %s", m.Type)
		}
	})
	t.Run("shipmentUpdated sends the shipment, then its changes", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(e.key(auth.RolePartner, activeCustomer)))
		subscribe(ws, false, "u", updated, map[string]any{"id": sh.ID})
		if m := ws.Next(5 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), `"version":1`) {
			t.Fatalf("want the current shipment, got %s %s", m.Type, m.Payload)
		}
		e.addEvent(sh.ID, "LABEL_CREATED", at(1))
		if m := ws.Next(5 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), `"status":"LABEL_CREATED","version":2`) {
			t.Fatalf("want the change, got %s %s", m.Type, m.Payload)
		}
	})
	t.Run("errors before the stream: not found, bad cursor", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(e.key(auth.RolePartner, otherActiveCustomer)))
		for _, c := range []struct{ id, query, code string }{
			{"n", updated, "NOT_FOUND"},
			{"c", eventsSubscription, "BAD_USER_INPUT"},
			{"q", `subscription { nope }`, "GRAPHQL_VALIDATION_FAILED"},
		} {
			subscribe(ws, false, c.id, c.query, map[string]any{"id": sh.ID, "after": "bm90LWEtY3Vyc29y"})
			m := ws.Next(5 * time.Second)
			if m.Type != "error" || m.ID != c.id || !strings.Contains(string(m.Payload), c.code) {
				t.Fatalf("want error %s for %s, got %s %s %s", c.code, c.id, m.Type, m.ID, m.Payload)
			}
		}
	})
	t.Run("operations per connection are capped", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(e.adminKey))
		for _, id := range []string{"1", "2", "3"} {
			subscribe(ws, false, id, eventsSubscription, nil)
		}
		m := ws.Next(5 * time.Second)
		if m.Type != "error" || m.ID != "3" || !strings.Contains(string(m.Payload), "TOO_MANY_SUBSCRIPTIONS") {
			t.Fatalf("want TOO_MANY_SUBSCRIPTIONS for 3, got %s %s %s", m.Type, m.ID, m.Payload)
		}
	})
	t.Run("connections per key are capped", func(t *testing.T) {
		key := e.key(auth.RolePartner, activeCustomer)
		for range 2 {
			testutil.MustDialWS(t, url, "graphql-transport-ws").Init(bearer(key))
		}
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Send(map[string]any{"type": "connection_init", "payload": bearer(key)})
		closes(t, ws, 4403)
	})
	t.Run("a reused id is still unique", func(t *testing.T) {
		for range 10 {
			// A key each: the server releases a closed connection's slot
			// after the client has seen it close, and the cap per key (2,
			// tested above) must not refuse the next one.
			key := e.key(auth.RoleAdmin)
			ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
			ws.Init(bearer(key))
			subscribe(ws, false, "1", eventsSubscription, nil)
			ws.Send(map[string]any{"id": "1", "type": "complete"})
			subscribe(ws, false, "1", eventsSubscription, nil)
			subscribe(ws, false, "1", eventsSubscription, nil)
			closes(t, ws, 4409)
		}
	})
	t.Run("connections that leave during init release their slot", func(t *testing.T) {
		key := e.key(auth.RolePartner, activeCustomer)
		for range 20 {
			ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
			ws.Send(map[string]any{"type": "connection_init", "payload": bearer(key)})
			_ = ws.Conn.CloseNow()
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
			ws.Send(map[string]any{"type": "connection_init", "payload": bearer(key)})
			m, err := ws.Read(5 * time.Second)
			if err == nil && m.Type == "connection_ack" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the key is locked out: %v %s", err, m.Type)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("revoking the key closes its connections", func(t *testing.T) {
		key := e.key(auth.RolePartner, activeCustomer)
		ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
		ws.Init(bearer(key))
		revoke(t, e, key)
		closes(t, ws, 4403)
	})
	t.Run("legacy graphql-ws protocol", func(t *testing.T) {
		ws := testutil.MustDialWS(t, url, "graphql-ws")
		ws.Init(bearer(e.adminKey))
		subscribe(ws, true, "L", updated, map[string]any{"id": sh.ID})
		if m := ws.Next(5 * time.Second); m.Type != "data" || m.ID != "L" {
			t.Fatalf("want data, got %s %s", m.Type, m.Payload)
		}
		subscribe(ws, true, "L", updated, map[string]any{"id": sh.ID})
		if m := ws.Next(5 * time.Second); m.Type != "error" || m.ID != "L" {
			t.Fatalf("legacy duplicate id: want error, got %s %s", m.Type, m.Payload)
		}
		ws.Send(map[string]any{"id": "L", "type": "stop"})
		ws.Send(map[string]any{"type": "connection_terminate"})
		closes(t, ws, 1000)
	})
}

// revoke revokes API key secret through the API.
func revoke(t *testing.T, e *env, secret string) {
	t.Helper()
	keyID, _ := auth.ParseKey(secret)
	row, err := e.app.Client.APIKey.Query().Where(apikey.KeyID(keyID)).Only(system())
	if err != nil {
		t.Fatal(err)
	}
	e.gql.MustData(`mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, map[string]any{"id": gid.New(gid.TypeAPIKey, row.ID).String()}, nil)
}

func asClose(err error, ce *websocket.CloseError) bool { return errors.As(err, ce) }

// TestSubscriptionShutdown: in-flight events are delivered, then the
// connection closes with 1001 and no complete.
func TestSubscriptionShutdown(t *testing.T) {
	b := testutil.All()[0]
	testutil.Require(t, b)
	e := newEnv(t, b)
	sh := e.create(createInput(activeCustomer, "UPS"))
	ws := testutil.MustDialWS(t, e.gql.URL(), "graphql-transport-ws")
	ws.Init(bearer(e.adminKey))
	subscribe(ws, false, "1", eventsSubscription, nil)
	waitSubscribers(t, e.app, 1)
	e.addEvent(sh.ID, "LABEL_CREATED", at(1))
	waitPosition(t, e.app, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.app.Subscriptions.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if edge := nextEdge(t, ws, "1"); edge.Node.Status != "LABEL_CREATED" {
		t.Fatalf("in-flight event lost: %+v", edge)
	}
	m, err := ws.Read(5 * time.Second)
	var ce websocket.CloseError
	if err == nil || !asClose(err, &ce) || ce.Code != websocket.StatusGoingAway {
		t.Fatalf("want close 1001, got %s %v", m.Type, err)
	}
	if _, _, err := testutil.DialWS(t, e.gql.URL(), "graphql-transport-ws", nil); err == nil {
		// Accepted, then closed at once with 1001.
		t.Log("new connections are closed with 1001 during shutdown")
	}
}

func waitPosition(t testing.TB, a *app.App, seq int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.Live.Position() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("hub at %d, want %d", a.Live.Position(), seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSubscriptionEmptyFilterLists: in shipmentEvents' filter an empty list
// matches nothing and an absent or null one everything, as in the where
// inputs of queries (it used to match every event).
func TestSubscriptionEmptyFilterLists(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		mine := e.create(createInput(activeCustomer, "DHL"))
		ws := testutil.MustDialWS(t, e.gql.URL(), "graphql-transport-ws")
		ws.Init(bearer(e.key(auth.RolePartner, activeCustomer)))
		subs := []struct {
			id    string
			where map[string]any
			want  int
		}{
			{"no-customers", map[string]any{"customerIds": []string{}}, 0},
			{"no-statuses", map[string]any{"statuses": []string{}}, 0},
			{"null-lists", map[string]any{"customerIds": nil, "statuses": nil}, 2},
			{"one-customer", map[string]any{"customerIds": []string{customerID(activeCustomer)}}, 2},
		}
		for _, s := range subs {
			subscribe(ws, false, s.id, eventsSubscription, map[string]any{"where": s.where})
		}
		waitSubscribers(t, e.app, len(subs))
		for i, status := range []string{"LABEL_CREATED", "IN_TRANSIT"} {
			if r := e.addEvent(mine.ID, status, at(i)); len(r.Errors) > 0 {
				t.Fatalf("add event: %v", r.Errors)
			}
		}
		got := map[string]int{}
		for got["null-lists"] < 2 || got["one-customer"] < 2 {
			m := ws.Next(10 * time.Second)
			if m.Type != "next" {
				t.Fatalf("got %s %s %s", m.Type, m.ID, m.Payload)
			}
			got[m.ID]++
		}
		if m, err := ws.Read(500 * time.Millisecond); err == nil { // what an empty list let through would be here by now
			got[m.ID]++
		}
		for _, s := range subs {
			if got[s.id] != s.want {
				t.Errorf("%s (where %v): %d events, want %d", s.id, s.where, got[s.id], s.want)
			}
		}
	})
}
