package subtransport

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/gqlhttp"
	"github.com/shipmentapp/shipmentapp/internal/live"
)

// SSE is the Server-Sent Events transport: a POST of one operation with
// "Accept: text/event-stream" gets its results as "next" events, then
// "complete" (graphql-sse's distinct connections mode). The request is
// authenticated like any other; SessionOf says who it is for.
func (s *Server) SSE(sessionOf func(ctx context.Context) Session, token func(*http.Request) string) graphql.Transport {
	return sseTransport{s: s, sessionOf: sessionOf, token: token}
}

type sseTransport struct {
	s         *Server
	sessionOf func(ctx context.Context) Session
	token     func(*http.Request) string
}

// IsSSE reports whether r asks for an event stream: a POST whose Accept
// header prefers text/event-stream to the JSON answers, by the rules that
// pick between those (gqlhttp.PrefersEventStream). graphql-sse's client
// sends only text/event-stream; urql lists it after JSON for queries and
// mutations, which get JSON, and first for subscriptions.
func IsSSE(r *http.Request) bool {
	return r.Method == http.MethodPost && gqlhttp.PrefersEventStream(r.Header.Values("Accept"))
}

func (t sseTransport) Supports(r *http.Request) bool { return IsSSE(r) }

type sseConn struct {
	s       *Server
	w       http.ResponseWriter
	rc      *http.ResponseController
	wmu     sync.Mutex
	ctx     context.Context
	cancel  context.CancelCauseFunc
	leaving chan struct{}
	once    sync.Once
	aborted atomic.Bool // ended by the server: no complete
}

func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	s := t.s
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.ReadLimit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		apperr.WriteHTTP(w, http.StatusRequestEntityTooLarge, apperr.RequestTooLarge, "the request body is too large")
		return
	}
	if err != nil {
		apperr.WriteHTTP(w, http.StatusBadRequest, apperr.BadRequest, "could not read the request body")
		return
	}
	params, err := gqlhttp.DecodeParams(body)
	if err != nil {
		apperr.WriteHTTP(w, http.StatusBadRequest, apperr.BadRequest, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	session := t.sessionOf(r.Context())
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	c := &sseConn{s: s, w: w, rc: http.NewResponseController(w), ctx: ctx, cancel: cancel, leaving: make(chan struct{})}
	// Nothing may write after the handler returns: end the stream's context
	// (writes check it under wmu), then wait for a write in progress.
	defer func() {
		cancel(nil)
		c.wmu.Lock()
		defer c.wmu.Unlock()
	}()
	if ok, reason := s.add(c, session.Credential); !ok {
		status := http.StatusTooManyRequests
		if s.closingNow() {
			status = http.StatusServiceUnavailable
		}
		apperr.WriteHTTP(w, status, apperr.RateLimited, reason)
		return
	}
	defer s.remove(c, session.Credential)
	s.connections.WithLabelValues("sse").Inc()
	defer s.connections.WithLabelValues("sse").Dec()
	_ = c.rc.SetReadDeadline(time.Time{})
	_ = c.rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if err := c.flush(); err != nil {
		return
	}
	// Keepalive comments; revocation, expiry and the periodic check of the
	// credentials end the stream.
	end := func(reason string) {
		s.closes.WithLabelValues("sse", reason).Inc()
		cancel(errors.New(reason))
	}
	if s.opts.Watch != nil && session.Credential != "" {
		defer s.opts.Watch(session.Credential, func() { end("revoked") })()
	}
	go c.watch(session, t.token(r), end)
	opCtx := live.WithAbort(ctx, func(err error) {
		if errors.Is(err, live.ErrClosed) {
			return // the stream ends when its channel drains
		}
		c.aborted.Store(true)
		code := apperr.SlowConsumer
		if !errors.Is(err, live.ErrSlowConsumer) {
			code = apperr.Internal
		}
		_, reason := closeReason(err)
		c.event("next", map[string]any{"errors": errorList(code, reason)})
		cancel(err)
	})
	finished := make(chan bool, 1)
	s.operation(opCtx, exec, params,
		func(errs gqlerror.List) { c.event("next", map[string]any{"errors": errs}) },
		func(resp *graphql.Response) error { return c.event("next", resp) },
		func(completed bool) { finished <- completed })
	done := <-finished
	if c.isLeaving() || c.aborted.Load() {
		return // going away or ended by us: no complete, the client reconnects
	}
	if done || ctx.Err() == nil {
		c.write("event: complete\ndata: \n\n")
	}
}

// watch sends keepalive comments and ends the stream when the credentials
// expire or no longer verify, until the stream ends.
func (c *sseConn) watch(session Session, token string, end func(reason string)) {
	s := c.s
	ka := time.NewTicker(s.opts.KeepAlive)
	defer ka.Stop()
	var recheck, expiry <-chan time.Time
	if token != "" && s.opts.AuthRecheck > 0 {
		t := time.NewTicker(s.opts.AuthRecheck)
		defer t.Stop()
		recheck = t.C
	}
	if !session.ExpiresAt.IsZero() {
		t := time.NewTimer(time.Until(session.ExpiresAt))
		defer t.Stop()
		expiry = t.C
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-ka.C:
			if c.write(":\n\n") != nil {
				return
			}
		case <-expiry:
			end("expired")
			return
		case <-recheck:
			ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
			_, _, err := s.opts.Authenticate(ctx, token)
			cancel()
			if err != nil && (errors.Is(err, ErrForbidden) || s.opts.Unauthorized != nil && s.opts.Unauthorized(err)) {
				end("revoked")
				return
			}
		}
	}
}

func (c *sseConn) isLeaving() bool {
	select {
	case <-c.leaving:
		return true
	default:
		return c.s.closingNow()
	}
}

func (c *sseConn) event(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write("event: " + name + "\ndata: " + string(b) + "\n\n")
}

func (c *sseConn) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	_ = c.rc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	if _, err := io.WriteString(c.w, s); err != nil {
		c.cancel(err)
		return err
	}
	return c.flush()
}

func (c *sseConn) flush() error {
	if err := c.rc.Flush(); err != nil {
		c.cancel(err)
		return err
	}
	return nil
}

// goAway ends the stream once the operation sent what it had (Drain ended
// it); the handler returns without "complete".
func (c *sseConn) goAway() { c.once.Do(func() { close(c.leaving) }) }

func (c *sseConn) closeNow() {
	c.goAway()
	c.cancel(errors.New("going away"))
}
