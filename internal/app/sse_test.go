package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// openSSE posts query with Accept: text/event-stream; events arrive on the
// channel, which closes when the stream ends.
func openSSE(t *testing.T, url, key, query string, vars map[string]any) (*http.Response, <-chan sseEvent) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	events := make(chan sseEvent, 100)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return resp, events
}

func nextSSE(t *testing.T, events <-chan sseEvent) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return sseEvent{}, false
	}
}

// TestSSE covers the event-stream transport: credentials, results, the end
// of the stream on revocation and on shutdown (no complete: reconnect).
func TestSSE(t *testing.T) {
	b := testutil.All()[0]
	testutil.Require(t, b)
	e := newEnv(t, b)
	sh := e.create(createInput(activeCustomer, "UPS"))
	url := e.gql.URL()

	resp, _ := openSSE(t, url, "", eventsSubscription, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", resp.StatusCode)
	}

	key := e.key(auth.RolePartner, activeCustomer)
	resp, events := openSSE(t, url, key, eventsSubscription, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	waitSubscribers(t, e.app, 1)
	e.addEvent(sh.ID, "LABEL_CREATED", at(1))
	if ev, _ := nextSSE(t, events); ev.name != "next" || !strings.Contains(ev.data, `"status":"LABEL_CREATED"`) {
		t.Fatalf("want the event, got %+v", ev)
	}

	// A query over SSE: one result, then complete.
	_, q := openSSE(t, url, key, `{ shipment(id: "`+sh.ID+`") { status } }`, nil)
	if ev, _ := nextSSE(t, q); ev.name != "next" || !strings.Contains(ev.data, "LABEL_CREATED") {
		t.Fatalf("query: %+v", ev)
	}
	if ev, _ := nextSSE(t, q); ev.name != "complete" {
		t.Fatalf("query: want complete, got %+v", ev)
	}

	// Revoking the key ends its stream.
	revoke(t, e, key)
	for {
		ev, ok := nextSSE(t, events)
		if !ok {
			break
		}
		if ev.name == "complete" {
			t.Fatal("a revoked stream must end without complete")
		}
	}

	// Shutdown: the stream ends, without complete.
	_, events = openSSE(t, url, e.adminKey, eventsSubscription, nil)
	waitSubscribers(t, e.app, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.app.Subscriptions.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		ev, ok := nextSSE(t, events)
		if !ok {
			break
		}
		if ev.name == "complete" {
			t.Fatal("shutdown must not complete the stream")
		}
	}
}

// TestSubscriptionKeepAliveAndExpiry: the server pings (ka on the legacy
// protocol), and a key that expires closes its connection on time.
func TestSubscriptionKeepAliveAndExpiry(t *testing.T) {
	b := testutil.All()[0]
	testutil.Require(t, b)
	e := newEnv(t, b, "SUBSCRIPTION_KEEPALIVE=200ms")
	url := e.gql.URL()
	for proto, want := range map[string]string{"graphql-transport-ws": "ping", "graphql-ws": "ka"} {
		ws := testutil.MustDialWS(t, url, proto)
		ws.Init(bearer(e.adminKey))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		seen := 0
		for seen < 2 {
			_, data, err := ws.Conn.Read(ctx)
			if err != nil {
				t.Fatalf("%s: %v", proto, err)
			}
			if strings.Contains(string(data), `"type":"`+want+`"`) {
				seen++
				if want == "ping" {
					ws.Send(map[string]any{"type": "pong"})
				}
			}
		}
		cancel()
	}
	// A peer that answers nothing is dropped after two intervals.
	ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
	ws.Init(bearer(e.adminKey))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	for {
		if _, _, err := ws.Conn.Read(ctx); err != nil {
			if time.Since(start) > 4*time.Second {
				t.Fatalf("silent peer not dropped: %v", err)
			}
			break
		}
	}

	expires := time.Now().Add(1500 * time.Millisecond)
	_, secret, err := e.app.Keys.Create(system(), auth.CreateInput{Name: "short", Role: auth.RolePartner, Customers: []int{activeCustomer}, ExpiresAt: &expires, CreatedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ws = testutil.MustDialWS(t, url, "graphql-transport-ws")
	ws.Init(bearer(secret))
	for {
		_, data, err := ws.Conn.Read(context.Background())
		if err == nil {
			if strings.Contains(string(data), `"ping"`) {
				ws.Send(map[string]any{"type": "pong"})
			}
			continue
		}
		if websocket.CloseStatus(err) != 4403 || time.Now().Before(expires) {
			t.Fatalf("want 4403 at expiry, got %v at %s", err, time.Until(expires))
		}
		break
	}
}
