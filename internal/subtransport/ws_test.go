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

const (
	hello   = `{"id":"1","type":"subscribe","payload":{"query":"{ hello }"}}`
	forever = `{"id":"%s","type":"subscribe","payload":{"query":"subscription { forever }"}}`
)

// wsCase is a script: frames sent after the handshake (and connection_init,
// unless noInit), the messages expected in order ("type id ~payload
// substring"), then the close code expected (0: the connection stays open,
// which the test checks with a round trip).
type wsCase struct {
	name    string
	legacy  bool
	noInit  bool
	header  http.Header
	opts    func(*subtransport.Options)
	frames  []string
	want    []string
	close   websocket.StatusCode
	reason  string // a substring of the close reason
	ended   string // an operation that must have been stopped
	binary  bool   // send frames as binary
	comment string
}

func runWS(t *testing.T, tt wsCase) {
	e := newEnv(t, tt.opts)
	proto := subtransport.ProtocolTransportWS
	if tt.legacy {
		proto = subtransport.ProtocolLegacy
	}
	c := e.dial(t, proto, tt.header)
	if !tt.noInit {
		c.init(tokenGood)
		if tt.legacy {
			if m := c.next(); m.Type != "ka" {
				t.Fatalf("want ka after the ack, got %s", m)
			}
		}
	}
	for _, f := range tt.frames {
		typ := websocket.MessageText
		if tt.binary {
			typ = websocket.MessageBinary
		}
		c.sendRaw(typ, f)
	}
	for _, w := range tt.want {
		m := c.next()
		typ, rest, _ := strings.Cut(w, " ~")
		if got := strings.TrimSpace(m.Type + " " + m.ID); got != typ || !strings.Contains(string(m.Payload), rest) {
			t.Fatalf("got %s, want %s", m, w)
		}
	}
	if tt.close == 0 {
		checkEnded(t, e, tt.ended)
	}
	if tt.close == 0 {
		// Still open, and nothing else was sent: a round trip answers next.
		if tt.legacy {
			c.send(`{"id":"rt","type":"start","payload":{"query":"{ hello }"}}`)
			for _, want := range []string{"data rt", "complete rt"} {
				if m := c.next(); strings.TrimSpace(m.Type+" "+m.ID) != want {
					t.Fatalf("after the script: got %s, want %s", m, want)
				}
			}
		} else {
			c.send(`{"type":"ping"}`)
			if m := c.next(); m.Type != "pong" {
				t.Fatalf("after the script: got %s, want pong", m)
			}
		}
		return
	}
	code, reason := c.closed(5 * time.Second)
	if code != tt.close || !strings.Contains(reason, tt.reason) {
		t.Fatalf("closed with %d %q, want %d %q", code, reason, tt.close, tt.reason)
	}
	checkEnded(t, e, tt.ended)
	waitFor(t, "the connection to be released", func() bool { return e.srv.Connections() == 0 })
}

// checkEnded checks that the operation whose field is field was stopped.
func checkEnded(t *testing.T, e *env, field string) {
	t.Helper()
	if field == "" {
		return
	}
	select {
	case f := <-e.exec.ended:
		if f != field {
			t.Fatalf("%s ended, want %s", f, field)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s was not stopped", field)
	}
}

// TestTransportWS: every message type of graphql-transport-ws, and every
// close code a message can bring.
func TestTransportWS(t *testing.T) {
	tests := []wsCase{
		{name: "ping: pong", frames: []string{`{"type":"ping"}`}, want: []string{"pong"}},
		{name: "ping with a payload: pong", frames: []string{`{"type":"ping","payload":{"at":1}}`}, want: []string{"pong"}},
		{name: "pong: nothing", frames: []string{`{"type":"pong"}`}},
		{name: "query: next, complete", frames: []string{hello}, want: []string{`next 1 ~{"data":{"hello":"world"}}`, "complete 1"}},
		// As gqlhttp's POST: gqlgen coerces a float64 to no Int.
		{name: "numbers are json.Number", frames: []string{`{"id":"1","type":"subscribe","payload":{"query":"{ kind }","variables":{"n":3}}}`}, want: []string{`next 1 ~{"kind":"json.Number"}`, "complete 1"}},
		{
			name:   "subscription: each next, then complete",
			frames: []string{`{"id":"s","type":"subscribe","payload":{"query":"subscription { count }","variables":{"n":3}}}`},
			want:   []string{`next s ~{"count":1}`, `next s ~{"count":2}`, `next s ~{"count":3}`, "complete s"},
		},
		{name: "query failing: error, no complete", frames: []string{strings.Replace(hello, "hello", "fail", 1)}, want: []string{"error 1 ~it failed"}},
		{name: "subscription refused: error, no complete", frames: []string{strings.Replace(hello, "{ hello }", "subscription { refused }", 1)}, want: []string{`error 1 ~[{"message":"not found"`}},
		{name: "document that does not parse: error", frames: []string{strings.Replace(hello, "{ hello }", "{ hello", 1)}, want: []string{"error 1 ~GRAPHQL_PARSE_FAILED"}},
		{name: "complete stops the operation, no complete back", frames: []string{sprintf(forever, "1"), `{"id":"1","type":"complete"}`}, ended: "forever"},
		{name: "complete of an unknown id: ignored", frames: []string{`{"id":"nope","type":"complete"}`}},
		{name: "an id reused after complete: runs", frames: []string{sprintf(forever, "1"), `{"id":"1","type":"complete"}`, hello}, want: []string{"next 1", "complete 1"}},
		{name: "the same id twice: 4409", frames: []string{sprintf(forever, "1"), sprintf(forever, "1")}, close: 4409, reason: "Subscriber for 1 already exists", ended: "forever"},
		{name: "empty id: 4400", frames: []string{strings.Replace(hello, `"id":"1"`, `"id":""`, 1)}, close: 4400, reason: "id must be"},
		{name: "id of 129 characters: 4400", frames: []string{strings.Replace(hello, `"id":"1"`, `"id":"`+strings.Repeat("i", 129)+`"`, 1)}, close: 4400, reason: "id must be"},
		{name: "id of 128 characters: runs", frames: []string{strings.Replace(hello, `"id":"1"`, `"id":"`+strings.Repeat("i", 128)+`"`, 1)}, want: []string{"next " + strings.Repeat("i", 128), "complete " + strings.Repeat("i", 128)}},
		{name: "subscribe without a payload: 4400", frames: []string{`{"id":"1","type":"subscribe"}`}, close: 4400, reason: "Invalid subscribe payload"},
		{name: "subscribe payload not an object: 4400", frames: []string{`{"id":"1","type":"subscribe","payload":"{ hello }"}`}, close: 4400},
		{name: "query not a string: 4400", frames: []string{`{"id":"1","type":"subscribe","payload":{"query":5}}`}, close: 4400, reason: `Invalid subscribe payload: not a GraphQL request: "query" is a JSON number`},
		{name: "variables not an object: 4400", frames: []string{`{"id":"1","type":"subscribe","payload":{"query":"{ hello }","variables":[1]}}`}, close: 4400},
		{
			name:   "more operations than a connection may run: error TOO_MANY_SUBSCRIPTIONS",
			frames: []string{sprintf(forever, "1"), sprintf(forever, "2"), sprintf(forever, "3"), sprintf(forever, "4")},
			want:   []string{"error 4 ~TOO_MANY_SUBSCRIPTIONS"},
		},
		{
			name: "rate limited: error RATE_LIMITED",
			opts: func(o *subtransport.Options) {
				o.Allow = func(context.Context, string) (bool, time.Duration) { return false, 1500 * time.Millisecond }
			},
			frames: []string{hello}, want: []string{"error 1 ~RATE_LIMITED"},
		},
		{
			name:   "query over the operation timeout: error TIMEOUT",
			opts:   func(o *subtransport.Options) { o.OperationTimeout = 200 * time.Millisecond },
			frames: []string{strings.Replace(hello, "hello", "slow", 1)}, want: []string{"error 1 ~TIMEOUT"},
		},
		{name: "unknown type: 4400", frames: []string{`{"type":"hello"}`}, close: 4400, reason: `Invalid message type "hello"`},
		{name: "legacy start: 4400", frames: []string{strings.Replace(hello, "subscribe", "start", 1)}, close: 4400},
		{name: "legacy stop: 4400", frames: []string{`{"id":"1","type":"stop"}`}, close: 4400},
		{name: "legacy connection_terminate: 4400", frames: []string{`{"type":"connection_terminate"}`}, close: 4400},
		{name: "server-side type (next): 4400", frames: []string{`{"id":"1","type":"next","payload":{}}`}, close: 4400},
		{name: "not JSON: 4400", frames: []string{`hello`}, close: 4400, reason: "Invalid message"},
		{name: "a JSON array: 4400", frames: []string{`[]`}, close: 4400},
		{name: "no type: 4400", frames: []string{`{"id":"1"}`}, close: 4400},
		{name: "type not a string: 4400", frames: []string{`{"type":5}`}, close: 4400},
		{name: "id not a string: 4400", frames: []string{`{"id":1,"type":"subscribe","payload":{"query":"{ hello }"}}`}, close: 4400},
		{name: "binary frame: 4400", frames: []string{`{"type":"ping"}`}, binary: true, close: 4400, reason: "text frames only"},
		{name: "frame over the read limit: 1009", frames: []string{`{"type":"ping","payload":{"x":"` + strings.Repeat("x", 5000) + `"}}`}, close: websocket.StatusMessageTooBig},
		{name: "subscribe before connection_init: 4401", noInit: true, frames: []string{hello}, close: 4401},
		{name: "ping before connection_init: pong", noInit: true, frames: []string{`{"type":"ping"}`}, want: []string{"pong"}, close: 4401, comment: "then subscribe"},
		{name: "connection_init twice: 4429", frames: []string{`{"type":"connection_init","payload":{"authorization":"Bearer good"}}`}, close: 4429},
		{name: "connection_init without credentials: 4403", noInit: true, frames: []string{`{"type":"connection_init"}`}, close: 4403, reason: "send credentials"},
		{name: "connection_init with a null payload: 4403", noInit: true, frames: []string{`{"type":"connection_init","payload":null}`}, close: 4403},
		{name: "connection_init payload not an object: 4400", noInit: true, frames: []string{`{"type":"connection_init","payload":"good"}`}, close: 4400},
		{name: "bad credentials: 4403", noInit: true, frames: []string{`{"type":"connection_init","payload":{"authorization":"Bearer wrong"}}`}, close: 4403, reason: "invalid"},
		{name: "credentials without a role: 4403", noInit: true, frames: []string{`{"type":"connection_init","payload":{"x-api-key":"norole"}}`}, close: 4403, reason: "no role"},
		{name: "credentials that cannot be checked now: 1011", noInit: true, frames: []string{`{"type":"connection_init","payload":{"apiKey":"down"}}`}, close: 1011, reason: "retry"},
		{
			name: "credentials of the upgrade request: ack", noInit: true, header: http.Header{"Authorization": {"Bearer good"}},
			frames: []string{`{"type":"connection_init"}`}, want: []string{"connection_ack"},
		},
		{
			name: "the payload's credentials before the header's", noInit: true, header: http.Header{"X-Api-Key": {"good"}},
			frames: []string{`{"type":"connection_init","payload":{"Authorization":"wrong"}}`}, close: 4403,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.comment == "then subscribe" {
				tt.frames = append(tt.frames, hello)
			}
			runWS(t, tt)
		})
	}
}

// TestLegacyWS: every message type of subscriptions-transport-ws.
func TestLegacyWS(t *testing.T) {
	start := `{"id":"1","type":"start","payload":{"query":"%s"}}`
	tests := []wsCase{
		{name: "start a query: data, complete", frames: []string{sprintf(start, "{ hello }")}, want: []string{`data 1 ~{"data":{"hello":"world"}}`, "complete 1"}},
		{
			name:   "start a subscription: each data, then complete",
			frames: []string{`{"id":"1","type":"start","payload":{"query":"subscription { count }","variables":{"n":2}}}`},
			want:   []string{`data 1 ~{"count":1}`, `data 1 ~{"count":2}`, "complete 1"},
		},
		{name: "refused: one error object", frames: []string{sprintf(start, "subscription { refused }")}, want: []string{`error 1 ~{"message":"not found"`}},
		{name: "stop ends the operation, no complete back", frames: []string{sprintf(start, "subscription { forever }"), `{"id":"1","type":"stop"}`}, ended: "forever"},
		{
			name:   "the same id twice: error, the first goes on",
			frames: []string{sprintf(start, "subscription { forever }"), sprintf(start, "{ hello }")},
			want:   []string{"error 1 ~BAD_USER_INPUT"},
		},
		{name: "numbers are json.Number", frames: []string{`{"id":"1","type":"start","payload":{"query":"{ kind }","variables":{"n":3}}}`}, want: []string{`data 1 ~{"kind":"json.Number"}`, "complete 1"}},
		{name: "start payload not an object: error, stays open", frames: []string{`{"id":"1","type":"start","payload":"x"}`}, want: []string{"error 1 ~BAD_REQUEST"}},
		{name: "start without an id: 4400", frames: []string{`{"type":"start","payload":{"query":"{ hello }"}}`}, close: 4400},
		{
			name:   "query over the operation timeout: error TIMEOUT",
			opts:   func(o *subtransport.Options) { o.OperationTimeout = 200 * time.Millisecond },
			frames: []string{sprintf(start, "{ slow }")}, want: []string{"error 1 ~TIMEOUT"},
		},
		{name: "connection_terminate: 1000", frames: []string{`{"type":"connection_terminate"}`}, close: 1000},
		{name: "graphql-transport-ws ping: 4400", frames: []string{`{"type":"ping"}`}, close: 4400},
		{name: "graphql-transport-ws subscribe: 4400", frames: []string{hello}, close: 4400},
		{name: "graphql-transport-ws complete: 4400", frames: []string{`{"id":"1","type":"complete"}`}, close: 4400},
		{name: "not JSON: 4400", frames: []string{`{`}, close: 4400},
		{name: "unknown type: 4400", frames: []string{`{"type":"hello"}`}, close: 4400, reason: `Invalid message type "hello"`},
		{name: "binary frame: 4400", frames: []string{sprintf(start, "{ hello }")}, binary: true, close: 4400, reason: "text frames only"},
		{name: "frame over the read limit: 1009", frames: []string{`{"id":"1","type":"start","payload":{"query":"{ hello }","variables":{"x":"` + strings.Repeat("x", 5000) + `"}}}`}, close: websocket.StatusMessageTooBig},
		{name: "start before connection_init: 4401", noInit: true, frames: []string{sprintf(start, "{ hello }")}, close: 4401},
		{name: "connection_init twice: 4429", frames: []string{`{"type":"connection_init","payload":{"authorization":"good"}}`}, close: 4429},
		{
			name: "bad credentials: connection_error, then 4403", noInit: true,
			frames: []string{`{"type":"connection_init","payload":{"authorization":"wrong"}}`},
			want:   []string{"connection_error ~invalid"}, close: 4403,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.legacy = true
			runWS(t, tt)
		})
	}
}
