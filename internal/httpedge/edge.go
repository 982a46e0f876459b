// Package httpedge is the HTTP edge of shipmentapp: what every request meets
// before GraphQL does. It owns the request ID and the access log line (one
// per request, 499 for a request its client gave up on), CSRF prevention, the
// body and time limits of GraphQL requests, the response head that code
// below the edge may add to (headers, cookies) without holding the
// http.ResponseWriter, and Stack, the one declared list of middleware that
// the three GraphQL mounts (requests, websockets, event streams) each apply
// their part of.
//
// It holds no rule of the domain and no dependency of the application:
// internal/app declares the stack, giving it the middleware that need the
// application's services (authentication, rate limits, dataloaders).
package httpedge

import (
	"net/http"
	"strings"
)

// Mount is the kind of GraphQL traffic a request is: a bitmask, so that a
// Layer can name the mounts it applies to.
type Mount uint8

// The mounts of /graphql.
const (
	// API is a GraphQL request over HTTP (GET, POST, multipart uploads).
	API Mount = 1 << iota
	// WebSocket is a websocket upgrade (graphql-transport-ws, graphql-ws):
	// it authenticates in connection_init and outlives any request timeout.
	WebSocket
	// SSE is a GraphQL subscription over server-sent events: authenticated
	// like a request, but not bounded in time.
	SSE

	// All is every mount.
	All = API | WebSocket | SSE
)

// String names m's mounts, for tests and errors.
func (m Mount) String() string {
	var names []string
	for _, n := range []struct {
		m    Mount
		name string
	}{{API, "api"}, {WebSocket, "websocket"}, {SSE, "sse"}} {
		if m&n.m != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Layer is one middleware of the stack and the mounts it applies to.
type Layer struct {
	// Name names the layer in tests and documentation.
	Name string
	// On is the mounts the layer applies to.
	On Mount
	// Wrap is the middleware.
	Wrap Middleware
}

// Stack is the edge's middleware, outermost first, declared once: each
// mount applies the layers that name it, in the stack's order.
type Stack []Layer

// Names returns the names of the layers m applies, outermost first.
func (s Stack) Names(m Mount) []string {
	var names []string
	for _, l := range s {
		if l.On&m != 0 {
			names = append(names, l.Name)
		}
	}
	return names
}

// Chain wraps h in the layers m applies: the first layer of the stack is the
// outermost.
func (s Stack) Chain(m Mount, h http.Handler) http.Handler {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i].On&m != 0 {
			h = s[i].Wrap(h)
		}
	}
	return h
}

// Handler serves h behind the stack: each request goes through the chain of
// the mount classify gives it (API for any value that is not one mount).
// The three chains are built once, here.
func (s Stack) Handler(classify func(*http.Request) Mount, h http.Handler) http.Handler {
	api, ws, sse := s.Chain(API, h), s.Chain(WebSocket, h), s.Chain(SSE, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch classify(r) {
		case WebSocket:
			ws.ServeHTTP(w, r)
		case SSE:
			sse.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}
