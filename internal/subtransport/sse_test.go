package subtransport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/subtransport"
)

// sseEvent is one event of a stream, or a comment (a heartbeat).
type sseEvent struct {
	event, data string
	comment     bool
}

func (ev sseEvent) String() string {
	if ev.comment {
		return ":"
	}
	return ev.event + " " + ev.data
}

type sseStream struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	events chan sseEvent
	done   chan error
}

// post opens an event stream for body with the token (none when empty).
func (e *env) post(t *testing.T, token, body string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.ts.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	s := &sseStream{t: t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel, events: make(chan sseEvent, 64), done: make(chan error, 1)}
	if resp.StatusCode == http.StatusOK {
		go s.parse()
	}
	return s
}

func (s *sseStream) parse() {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			close(s.events)
			s.done <- err
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			ev.comment = true
		case strings.HasPrefix(line, "event: "):
			ev.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		default:
			s.t.Errorf("a line that is not SSE: %q", line)
		}
	}
}

// next returns the next event that is not a comment; ok is false when the
// stream ended.
func (s *sseStream) next(d time.Duration) (ev sseEvent, ok bool) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if ok && ev.comment {
				continue
			}
			return ev, ok
		case <-timeout:
			s.t.Fatalf("no event within %s", d)
		}
	}
}

const (
	sseHello   = `{"query":"{ hello }"}`
	sseForever = `{"query":"subscription { forever }"}`
)

// TestSSE: graphql-sse's distinct connections mode, one operation per
// request: its results as "next" events, then "complete"; errors as a
// "next" with errors; what ends a stream on the server's side ends it
// without "complete" (the client reconnects).
func TestSSE(t *testing.T) {
	tests := []struct {
		name   string
		opts   func(*subtransport.Options)
		token  string
		body   string
		status int    // refused before the stream, with this code
		code   string // and this extensions.code
		act    func(t *testing.T, e *env, s *sseStream)
		want   []string // "event ~data substring"; "end": the stream ends without complete
	}{
		{name: "query: next, complete", body: sseHello, want: []string{`next ~{"data":{"hello":"world"}}`, "complete"}},
		{
			name: "subscription: each next, then complete",
			body: `{"query":"subscription { count }","variables":{"n":3}}`,
			want: []string{`next ~{"count":1}`, `next ~{"count":2}`, `next ~{"count":3}`, "complete"},
		},
		{name: "refused: next with errors, complete", body: `{"query":"subscription { refused }"}`, want: []string{`next ~{"errors":[{"message":"not found"`, "complete"}},
		{name: "document that does not parse: next with errors, complete", body: `{"query":"{ hello"}`, want: []string{"next ~GRAPHQL_PARSE_FAILED", "complete"}},
		{
			name: "query over the operation timeout: next with TIMEOUT, complete",
			opts: func(o *subtransport.Options) { o.OperationTimeout = 200 * time.Millisecond },
			body: `{"query":"{ slow }"}`, want: []string{"next ~TIMEOUT", "complete"},
		},
		// As gqlhttp's POST: gqlgen coerces a float64 to no Int.
		{name: "numbers are json.Number", body: `{"query":"{ kind }","variables":{"n":3}}`, want: []string{`next ~{"kind":"json.Number"}`, "complete"}},
		{name: "body not JSON: 400", body: `{"query":`, status: http.StatusBadRequest, code: "BAD_REQUEST"},
		{name: "two JSON values: 400", body: `{"query":"{ hello }"} {}`, status: http.StatusBadRequest, code: "BAD_REQUEST"},
		{name: "query not a string: 400", body: `{"query":5}`, status: http.StatusBadRequest, code: "BAD_REQUEST"},
		{name: "body over the read limit: 413", body: `{"query":"{ hello }","x":"` + strings.Repeat("x", 5000) + `"}`, status: http.StatusRequestEntityTooLarge, code: "REQUEST_TOO_LARGE"},
		{
			name: "more streams than the credentials may hold: 429",
			opts: func(o *subtransport.Options) { o.MaxPerCredential = 1 },
			act: func(t *testing.T, e *env, s *sseStream) {
				second := e.post(t, tokenGood, sseHello)
				if second.resp.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("second stream: %d", second.resp.StatusCode)
				}
				s.cancel()
			},
			body: sseForever, want: []string{"end"},
		},
		{
			name: "heartbeats while idle",
			opts: func(o *subtransport.Options) { o.KeepAlive = 50 * time.Millisecond },
			act: func(t *testing.T, e *env, s *sseStream) {
				for range 3 {
					select {
					case ev := <-s.events:
						if !ev.comment {
							t.Fatalf("got %s, want a heartbeat", ev)
						}
					case <-time.After(time.Second):
						t.Fatal("no heartbeat")
					}
				}
				e.exec.push <- "after the heartbeats"
			},
			body: `{"query":"subscription { push }"}`, want: []string{"next ~after the heartbeats"},
		},
		{
			name: "credentials revoked: ends, no complete",
			act:  func(t *testing.T, e *env, s *sseStream) { e.revokeWatched(t, tokenGood) },
			body: sseForever, want: []string{"end"},
		},
		{
			name: "credentials revoked, seen by the periodic check: ends",
			opts: func(o *subtransport.Options) { o.AuthRecheck = 50 * time.Millisecond; o.Watch = nil },
			act:  func(t *testing.T, e *env, s *sseStream) { e.revoke(tokenGood) },
			body: sseForever, want: []string{"end"},
		},
		{name: "credentials expire: ends", token: tokenExpires, body: sseForever, want: []string{"end"}},
		{
			name: "the client goes: the operation stops",
			act: func(t *testing.T, e *env, s *sseStream) {
				time.Sleep(50 * time.Millisecond)
				s.cancel()
				select {
				case f := <-e.exec.ended:
					if f != "forever" {
						t.Fatalf("%s ended", f)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the operation went on")
				}
			},
			body: sseForever, want: []string{"end"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			token := tt.token
			if token == "" {
				token = tokenGood
			}
			s := e.post(t, token, tt.body)
			if tt.status != 0 {
				var body struct {
					Errors []struct {
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				b, _ := io.ReadAll(s.resp.Body)
				_ = json.Unmarshal(b, &body)
				if s.resp.StatusCode != tt.status || len(body.Errors) == 0 || body.Errors[0].Extensions["code"] != tt.code {
					t.Fatalf("%d %s, want %d %s", s.resp.StatusCode, b, tt.status, tt.code)
				}
				return
			}
			if s.resp.StatusCode != http.StatusOK || !strings.HasPrefix(s.resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %s", s.resp.StatusCode, s.resp.Header.Get("Content-Type"))
			}
			if tt.act != nil {
				tt.act(t, e, s)
			}
			for _, w := range tt.want {
				ev, ok := s.next(5 * time.Second)
				if w == "end" {
					if ok {
						t.Fatalf("got %s, want the end of the stream", ev)
					}
					continue
				}
				name, data, _ := strings.Cut(w, " ~")
				if !ok || ev.event != name || !strings.Contains(ev.data, data) {
					t.Fatalf("got %s (open %v), want %s", ev, ok, w)
				}
			}
			waitFor(t, "the stream to be released", func() bool { return e.srv.Connections() <= 1 })
		})
	}
}

// TestSSEShutdown: a stream opened while the server shuts down is refused
// with 503; one that was running ends without "complete".
func TestSSEShutdown(t *testing.T) {
	e := newEnv(t, nil)
	s := e.post(t, tokenGood, `{"query":"subscription { push }"}`)
	waitFor(t, "the stream", func() bool { return e.srv.Connections() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- e.srv.Shutdown(ctx) }()
	waitFor(t, "the shutdown to start", func() bool {
		late := e.post(t, tokenGood, sseHello)
		return late.resp.StatusCode == http.StatusServiceUnavailable
	})
	// Nothing ends the push subscription (the Hub's Drain would): the
	// deadline closes it.
	if ev, ok := s.next(5 * time.Second); ok {
		t.Fatalf("got %s, want the end of the stream", ev)
	}
	<-shut
	waitFor(t, "the stream to be released", func() bool { return e.srv.Connections() == 0 })
}

// TestSlowConsumerSSE: a client that stops reading its stream is cut off
// once a write waits longer than the write timeout.
func TestSlowConsumerSSE(t *testing.T) {
	e := newEnv(t, func(o *subtransport.Options) { o.WriteTimeout = 200 * time.Millisecond })
	_ = e.post(t, tokenGood, `{"query":"subscription { flood }","variables":{"size":65536}}`)
	deadline := time.Now().Add(15 * time.Second)
	for e.srv.Connections() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream of a client that does not read is still served")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIsSSE: what asks for an event stream.
func TestIsSSE(t *testing.T) {
	tests := []struct {
		method, accept string
		want           bool
	}{
		{http.MethodPost, "text/event-stream", true},
		// Listed, but JSON preferred: JSON (this was an event stream).
		{http.MethodPost, "application/json, text/event-stream;q=0.9", false},
		{http.MethodPost, "text/event-stream;q=0.9, application/json", false},
		{http.MethodPost, "application/json;q=0.5, text/event-stream", true},
		// @urql/core's defaults: queries and mutations, then subscriptions.
		{http.MethodPost, "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed", false},
		{http.MethodPost, "text/event-stream, multipart/mixed", true},
		{http.MethodPost, "text/*", true},
		{http.MethodPost, "*/*", false},
		{http.MethodPost, "text/event-stream;q=0", false},
		{http.MethodPost, "TEXT/EVENT-STREAM", true},
		{http.MethodPost, "application/json", false},
		{http.MethodPost, "", false},
		{http.MethodGet, "text/event-stream", false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, "/graphql", nil)
		r.Header.Set("Accept", tt.accept)
		if got := subtransport.IsSSE(r); got != tt.want {
			t.Errorf("%s %q: %v, want %v", tt.method, tt.accept, got, tt.want)
		}
	}
}
