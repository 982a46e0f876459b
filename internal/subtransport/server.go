// Package subtransport serves GraphQL subscriptions (and any operation) over
// websockets — the graphql-transport-ws protocol of the graphql-ws library
// and the legacy graphql-ws protocol of subscriptions-transport-ws — and over
// Server-Sent Events (graphql-sse's distinct connections mode).
//
// gqlgen's own transports leave out what a public API needs: a bound on the
// operations per connection and the connections per credential, credentials
// checked again while a connection lives (revocation, expiry), a bounded
// queue per subscription that disconnects a slow client instead of growing,
// and a shutdown that lets in-flight messages out and then says "going away"
// (http.Server.Shutdown neither waits for nor closes hijacked connections).
package subtransport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/live"
)

// Session is who a connection acts for.
type Session struct {
	// Credential identifies the key or token holder ("api_key:ID"): the
	// unit of the per-credential cap and of revocation.
	Credential string
	// ExpiresAt, when set, ends the connection (a token's exp).
	ExpiresAt time.Time
}

// ErrForbidden is returned by Authenticate for credentials that verify but
// may not connect (no role).
var ErrForbidden = errors.New("forbidden")

// Options configure a Server.
type Options struct {
	// Authenticate verifies a credential and returns the context of the
	// connection's operations. Errors: auth.ErrInvalidCredentials-like
	// errors end the connection as unauthorised; others as unavailable.
	Authenticate func(ctx context.Context, token string) (context.Context, Session, error)
	// Watch calls revoked when cred is revoked anywhere, until stop.
	Watch func(cred string, revoked func()) (stop func())
	// PerResponse prepares the context of each response (fresh dataloaders).
	PerResponse func(ctx context.Context) context.Context
	// Unauthorized reports whether an Authenticate error means bad credentials.
	Unauthorized func(error) bool

	InitTimeout      time.Duration
	KeepAlive        time.Duration
	WriteTimeout     time.Duration
	AuthRecheck      time.Duration
	MaxPerConnection int
	MaxPerCredential int
	// ReadLimit bounds one message (or an SSE request body).
	ReadLimit int64
	// Origins are the browser origins ("https://app.example.com") allowed to
	// open a websocket; a request without Origin is not a browser's.
	Origins []string
	// RequestOrigin returns the origin a request was sent to
	// ("http://127.0.0.1:9090"): a websocket opened from it, the request's
	// own origin, is allowed too, as browsers' same-origin rule would.
	RequestOrigin func(r *http.Request) string

	// Allow charges one operation on a websocket to its credentials' rate
	// limit (token is what the client authenticated with).
	Allow func(ctx context.Context, token string) (ok bool, retryAfter time.Duration)
	// OperationTimeout bounds a query or mutation (not a subscription).
	OperationTimeout time.Duration

	// Drain is called first by Shutdown: it ends every subscription once its
	// queue is sent (live.Hub.Stop).
	Drain func()

	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// Server serves the subscription transports and tracks their connections.
type Server struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	closing bool
	conns   map[closer]struct{}
	perCred map[string]int
	done    sync.WaitGroup

	connections *prometheus.GaugeVec
	closes      *prometheus.CounterVec
}

// closer is a connection of either kind.
type closer interface {
	// goAway stops new operations, lets the running ones send what they
	// have, then closes with "going away".
	goAway()
	closeNow()
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PerResponse == nil {
		opts.PerResponse = func(ctx context.Context) context.Context { return ctx }
	}
	s := &Server{
		opts: opts, log: opts.Logger,
		conns: map[closer]struct{}{}, perCred: map[string]int{},
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shipmentapp_subscription_connections",
			Help: "Open subscription connections, by transport.",
		}, []string{"transport"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_subscription_closes_total",
			Help: "Subscription connections closed by the server, by transport and reason.",
		}, []string{"transport", "reason"}),
	}
	if opts.Registry != nil {
		opts.Registry.MustRegister(s.connections, s.closes)
	}
	return s
}

// add registers a connection for cred; false when shutting down or when
// cred is at its cap (then reason says why).
func (s *Server) add(c closer, cred string) (ok bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false, "the server is going away"
	}
	if cred != "" && s.perCred[cred] >= s.opts.MaxPerCredential {
		return false, "too many connections for these credentials"
	}
	s.conns[c] = struct{}{}
	if cred != "" {
		s.perCred[cred]++
	}
	s.done.Add(1)
	return true, ""
}

// rekey counts a connection registered without credentials against cred.
func (s *Server) rekey(cred string) (ok bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false, "the server is going away"
	}
	if s.perCred[cred] >= s.opts.MaxPerCredential {
		return false, "too many connections for these credentials"
	}
	s.perCred[cred]++
	return true, ""
}

// unrekey undoes rekey.
func (s *Server) unrekey(cred string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perCred[cred]--; s.perCred[cred] <= 0 {
		delete(s.perCred, cred)
	}
}

func (s *Server) remove(c closer, cred string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if cred != "" {
		if s.perCred[cred]--; s.perCred[cred] <= 0 {
			delete(s.perCred, cred)
		}
	}
	s.done.Done()
}

// Shutdown refuses new connections, tells every open one to go away once
// its in-flight messages are out, and waits for them until ctx is done,
// when it closes the rest at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	if s.opts.Drain != nil {
		s.opts.Drain()
	}
	s.mu.Lock()
	conns := make([]closer, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.goAway()
	}
	all := make(chan struct{})
	go func() {
		s.done.Wait()
		close(all)
	}()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.closeNow()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// Connections returns the number of open connections (tests, benchmarks).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// originAllowed reports whether a websocket may be opened from r's Origin.
// Browsers always send Origin on websockets, so a missing one is a
// non-browser client, which cross-site hijacking does not concern.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	o := u.Scheme + "://" + u.Host
	if s.opts.RequestOrigin != nil && strings.EqualFold(o, s.opts.RequestOrigin(r)) {
		return true
	}
	return slices.Contains(s.opts.Origins, o)
}

// originHosts are the hosts of the allowed origins, for coder/websocket's own
// check (it compares the Origin's host with the request's Host otherwise).
func (s *Server) originHosts() []string {
	out := make([]string, 0, len(s.opts.Origins))
	for _, o := range s.opts.Origins {
		if u, err := url.Parse(o); err == nil {
			out = append(out, u.Host)
		}
	}
	return out
}

// operation runs one operation: send gets each response, sendErrors the
// errors of an operation refused before it started, and done is called once
// at the end, with whether the operation ran to its end (rather than being
// stopped or failing to send).
//
// An idle subscription holds no goroutine: its channel's Notify (internal/live)
// starts one to read and send what was queued, which returns once the queue
// is empty. Queries, mutations and refused subscriptions run at once.
func (s *Server) operation(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams,
	sendErrors func(gqlerror.List), send func(*graphql.Response) error, done func(completed bool)) {
	outer := ctx // the client's and the connection's
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs == nil && rc.Operation != nil && rc.Operation.Operation != ast.Subscription && s.opts.OperationTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.OperationTimeout)
		report := done
		done = func(completed bool) { cancel(); report(completed) }
	}
	if errs != nil {
		if ctx.Err() == nil {
			resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
			sendErrors(resp.Errors)
		}
		done(false)
		return
	}
	var (
		handler  graphql.ResponseHandler
		opCtx    context.Context
		ready    = make(chan struct{})
		pending  atomic.Int64
		running  atomic.Bool
		finished atomic.Bool
		first    = true
	)
	finish := func(completed bool) {
		if finished.CompareAndSwap(false, true) {
			done(completed)
		}
	}
	// timedOut: the operation ran out of OperationTimeout while its client
	// and connection are still there. Its answer (the executor's TIMEOUT
	// error) is sent and it completes, as over HTTP: stopping it silently
	// would leave the client waiting for an answer that never comes.
	timedOut := func() bool {
		return outer.Err() == nil && errors.Is(opCtx.Err(), context.DeadlineExceeded)
	}
	// step reads and sends one response; false when the operation is over.
	step := func() bool {
		resp := handler(s.opts.PerResponse(opCtx))
		switch {
		case resp == nil:
			finish(opCtx.Err() == nil || timedOut())
			return false
		case opCtx.Err() != nil && !timedOut():
			finish(false) // stopped by the client or the connection: nothing to say
			return false
		case first && len(resp.Errors) > 0 && isNull(resp.Data):
			// Refused before it started (not found, bad cursor): an error
			// message, not a result.
			sendErrors(resp.Errors)
			finish(false)
			return false
		}
		first = false
		if err := send(resp); err != nil {
			finish(false)
			return false
		}
		return true
	}
	var (
		drain func()
		n     *live.Notify
	)
	drain = func() {
		<-ready
		for {
			for pending.Load() > 0 {
				if finished.Load() {
					return
				}
				pending.Add(-1)
				if !step() {
					return
				}
				n.Consumed()
			}
			running.Store(false)
			// A value queued after the loop saw none: go on, unless another
			// drain has started for it.
			if pending.Load() == 0 || !running.CompareAndSwap(false, true) {
				return
			}
		}
	}
	n = live.NewNotify(func() {
		pending.Add(1)
		if running.CompareAndSwap(false, true) {
			go drain()
		}
	})
	handler, opCtx = exec.DispatchOperation(live.WithNotify(ctx, n), rc)
	close(ready)
	if !n.Attached() {
		for step() {
		}
	}
}

func isNull(data []byte) bool { return len(data) == 0 || string(data) == "null" }

// closeReason maps why a subscription ended to a websocket close.
func closeReason(err error) (code int, reason string) {
	switch {
	case errors.Is(err, live.ErrSlowConsumer):
		return 1013, "slow consumer: reconnect and resume with the cursor of the last event received"
	case errors.Is(err, live.ErrClosed):
		return 1001, "going away"
	default:
		return 1011, "internal error: reconnect and resume with the cursor of the last event received"
	}
}

// errorList is one error with a stable code, as GraphQL errors go.
func errorList(code apperr.Code, msg string) gqlerror.List {
	return gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(code)}}}
}
