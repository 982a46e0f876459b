package subtransport_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shipmentapp/shipmentapp/internal/subtransport"
)

// TestHandshake: the subprotocol and the origin of the upgrade request.
func TestHandshake(t *testing.T) {
	tests := []struct {
		name     string
		protos   []string
		origin   string
		status   int                  // refused before the upgrade
		close    websocket.StatusCode // closed right after it
		accepted string               // the subprotocol chosen
	}{
		{name: "graphql-transport-ws", protos: []string{subtransport.ProtocolTransportWS}, accepted: subtransport.ProtocolTransportWS},
		{name: "graphql-ws (legacy)", protos: []string{subtransport.ProtocolLegacy}, accepted: subtransport.ProtocolLegacy},
		{name: "both offered: the first", protos: []string{subtransport.ProtocolTransportWS, subtransport.ProtocolLegacy}, accepted: subtransport.ProtocolTransportWS},
		{name: "no subprotocol: 4406", close: 4406},
		{name: "an unknown subprotocol: 4406", protos: []string{"mqtt"}, close: 4406},
		{name: "an allowed origin", protos: []string{subtransport.ProtocolTransportWS}, origin: "https://app.example.com", accepted: subtransport.ProtocolTransportWS},
		{name: "another origin: 403", protos: []string{subtransport.ProtocolTransportWS}, origin: "https://evil.example.com", status: http.StatusForbidden},
		{name: "an origin that is not a URL: 403", protos: []string{subtransport.ProtocolTransportWS}, origin: "::", status: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/graphql",
				&websocket.DialOptions{Subprotocols: tt.protos, HTTPHeader: h})
			if tt.status != 0 {
				if err == nil || resp == nil || resp.StatusCode != tt.status {
					t.Fatalf("dial: %v, %v; want %d", err, resp, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			c := &wsClient{t: t, conn: conn}
			if tt.close != 0 {
				if code, _ := c.closed(5 * time.Second); code != tt.close {
					t.Fatalf("closed with %d, want %d", code, tt.close)
				}
				return
			}
			if conn.Subprotocol() != tt.accepted {
				t.Fatalf("subprotocol %q, want %q", conn.Subprotocol(), tt.accepted)
			}
			c.init(tokenGood)
		})
	}
}

// TestConnectionEnds: what ends a connection after its start, each with its
// close code: the init timeout, revoked or expired credentials, the cap of
// connections per credential, a peer that answers no ping.
func TestConnectionEnds(t *testing.T) {
	tests := []struct {
		name   string
		legacy bool
		opts   func(*subtransport.Options)
		run    func(t *testing.T, e *env, c *wsClient)
		close  websocket.StatusCode // -1: dropped without a close frame
		reason string
	}{
		{
			name: "no connection_init in time: 4408",
			opts: func(o *subtransport.Options) { o.InitTimeout = 200 * time.Millisecond },
			run:  func(*testing.T, *env, *wsClient) {}, close: 4408, reason: "initialisation timeout",
		},
		{
			name: "no connection_init in time, legacy: 4408", legacy: true,
			opts: func(o *subtransport.Options) { o.InitTimeout = 200 * time.Millisecond },
			run:  func(*testing.T, *env, *wsClient) {}, close: 4408,
		},
		{
			name: "connection_init in time: the timeout is off",
			opts: func(o *subtransport.Options) { o.InitTimeout = 200 * time.Millisecond },
			run: func(t *testing.T, e *env, c *wsClient) {
				c.init(tokenGood)
				time.Sleep(400 * time.Millisecond)
				c.send(`{"type":"ping"}`)
				if m := c.next(); m.Type != "pong" {
					t.Fatalf("got %s", m)
				}
				c.send(`{"type":"connection_init","payload":{"authorization":"good"}}`)
			},
			close: 4429,
		},
		{
			name: "credentials revoked: 4403",
			run: func(t *testing.T, e *env, c *wsClient) {
				c.init(tokenGood)
				e.revokeWatched(t, tokenGood)
			},
			close: 4403, reason: "revoked",
		},
		{
			name: "credentials revoked, seen by the periodic check: 4403",
			opts: func(o *subtransport.Options) { o.AuthRecheck = 100 * time.Millisecond; o.Watch = nil },
			run: func(t *testing.T, e *env, c *wsClient) {
				c.init(tokenGood)
				e.revoke(tokenGood)
			},
			close: 4403, reason: "revoked",
		},
		{
			name:  "credentials expire: 4403",
			run:   func(t *testing.T, e *env, c *wsClient) { c.init(tokenExpires) },
			close: 4403, reason: "expired",
		},
		{
			name: "more connections than the credentials may hold: 4403",
			opts: func(o *subtransport.Options) { o.MaxPerCredential = 2 },
			run: func(t *testing.T, e *env, c *wsClient) {
				for range 2 {
					e.dial(t, subtransport.ProtocolTransportWS, nil).init(tokenGood)
				}
				e.dial(t, subtransport.ProtocolTransportWS, nil).init(tokenOther) // not counted against good
				c.send(`{"type":"connection_init","payload":{"authorization":"good"}}`)
			},
			close: 4403, reason: "too many connections",
		},
		{
			name: "server pings, the client answers: stays open",
			opts: func(o *subtransport.Options) { o.KeepAlive = 100 * time.Millisecond },
			run: func(t *testing.T, e *env, c *wsClient) {
				c.init(tokenGood)
				deadline := time.Now().Add(600 * time.Millisecond)
				pings := 0
				for time.Now().Before(deadline) {
					if m := c.next(); m.Type == "ping" {
						pings++
						c.send(`{"type":"pong"}`)
					}
				}
				if pings < 3 {
					t.Fatalf("%d pings in 600 ms at a 100 ms interval", pings)
				}
				c.send(`{"type":"connection_init","payload":{"authorization":"good"}}`) // end it
			},
			close: 4429,
		},
		{
			name: "legacy: ka every interval, websocket pings answered: stays open", legacy: true,
			opts: func(o *subtransport.Options) { o.KeepAlive = 100 * time.Millisecond },
			run: func(t *testing.T, e *env, c *wsClient) {
				c.init(tokenGood)
				deadline := time.Now().Add(600 * time.Millisecond)
				kas := 0
				for time.Now().Before(deadline) { // reading answers the websocket pings
					if m := c.next(); m.Type == "ka" {
						kas++
					}
				}
				if kas < 4 {
					t.Fatalf("%d ka in 600 ms at a 100 ms interval", kas)
				}
				c.send(`{"type":"connection_terminate"}`)
			},
			close: 1000,
		},
		{
			name: "a peer silent for two intervals is dropped",
			opts: func(o *subtransport.Options) { o.KeepAlive = 100 * time.Millisecond },
			run: func(t *testing.T, e *env, c *wsClient) {
				c.init(tokenGood)
				// Reads, but never answers a ping.
				time.Sleep(500 * time.Millisecond)
			},
			close: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			proto := subtransport.ProtocolTransportWS
			if tt.legacy {
				proto = subtransport.ProtocolLegacy
			}
			c := e.dial(t, proto, nil)
			tt.run(t, e, c)
			code, reason := c.closed(5 * time.Second)
			if code != tt.close || !strings.Contains(reason, tt.reason) {
				t.Fatalf("closed with %d %q, want %d %q", code, reason, tt.close, tt.reason)
			}
			waitFor(t, "the connections to be released", func() bool { return e.srv.Connections() <= 3 })
		})
	}
}

// TestShutdown: the server says "going away" (1001) to the connections it
// has, once their operations are over, and to the ones that come after.
func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	idle := e.dial(t, subtransport.ProtocolTransportWS, nil)
	idle.init(tokenGood)
	legacy := e.dial(t, subtransport.ProtocolLegacy, nil)
	legacy.init(tokenGood)
	busy := e.dial(t, subtransport.ProtocolTransportWS, nil)
	busy.init(tokenGood)
	busy.send(`{"id":"p","type":"subscribe","payload":{"query":"subscription { push }"}}`)
	waitFor(t, "the subscription", func() bool { return e.srv.Connections() == 3 })
	time.Sleep(50 * time.Millisecond)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- e.srv.Shutdown(ctx)
	}()
	for _, c := range []*wsClient{idle, legacy} {
		if code, reason := c.closed(5 * time.Second); code != websocket.StatusGoingAway || !strings.Contains(reason, "going away") {
			t.Fatalf("closed with %d %q", code, reason)
		}
	}
	late := e.dial(t, subtransport.ProtocolTransportWS, nil)
	if code, _ := late.closed(5 * time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("a connection during shutdown closed with %d", code)
	}
	// The running subscription sends what it has, then the connection goes.
	e.exec.push <- "last"
	if m := busy.next(); m.Type != "next" || !strings.Contains(string(m.Payload), "last") {
		t.Fatalf("got %s", m)
	}
	busy.send(`{"id":"p","type":"complete"}`)
	if code, _ := busy.closed(5 * time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("busy connection closed with %d", code)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

// TestSlowConsumerWS: a client that stops reading while its subscription
// sends is disconnected once a write waits longer than the write timeout;
// the server holds neither the connection nor its operation.
func TestSlowConsumerWS(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := "graphql-transport-ws"
		proto, typ := subtransport.ProtocolTransportWS, "subscribe"
		if legacy {
			name, proto, typ = "graphql-ws", subtransport.ProtocolLegacy, "start"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(o *subtransport.Options) { o.WriteTimeout = 200 * time.Millisecond })
			c := e.dial(t, proto, nil)
			c.init(tokenGood)
			c.send(`{"id":"f","type":"%s","payload":{"query":"subscription { flood }","variables":{"size":65536}}}`, typ)
			// Never read again: the socket buffers fill, a write times out,
			// and the connection goes with its operation (finish waits for
			// the operations before it releases the connection).
			deadline := time.Now().Add(15 * time.Second)
			for e.srv.Connections() != 0 {
				if time.Now().After(deadline) {
					t.Fatal("the connection of a client that does not read is still served")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
