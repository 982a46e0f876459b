package subtransport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/gqlhttp"
	"github.com/shipmentapp/shipmentapp/internal/live"
)

// The two websocket subprotocols.
const (
	// ProtocolTransportWS is graphql-ws's protocol.
	ProtocolTransportWS = "graphql-transport-ws"
	// ProtocolLegacy is subscriptions-transport-ws's protocol.
	ProtocolLegacy = "graphql-ws"
)

// Close codes of graphql-transport-ws (and the RFC 6455 ones we use).
const (
	closeNormal         = 1000
	closeGoingAway      = 1001
	closeBadRequest     = 4400
	closeUnauthorized   = 4401
	closeForbidden      = 4403
	closeBadSubprotocol = 4406
	closeInitTimeout    = 4408
	closeDuplicateID    = 4409
	closeTooManyInits   = 4429
)

// WebSocket is the websocket transport.
func (s *Server) WebSocket() graphql.Transport { return wsTransport{s} }

type wsTransport struct{ s *Server }

func (t wsTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// message is a message of either protocol.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type wsConn struct {
	s      *Server
	ws     *websocket.Conn
	legacy bool
	// headerToken is the credential of the upgrade request, if any (the
	// request itself is not kept: an idle connection holds what it needs).
	headerToken string
	exec        graphql.GraphExecutor

	ctx    context.Context // the connection's; ends when it closes
	cancel context.CancelFunc

	wmu sync.Mutex // one writer at a time

	mu        sync.Mutex
	inited    bool
	acked     bool
	leaving   bool
	closed    bool
	ops       map[string]*opEntry
	running   sync.WaitGroup  // operations
	handling  sync.WaitGroup  // the message worker
	opCtx     context.Context // the authenticated context, once acked
	session   Session
	token     string
	stopWatch func()
	// timers by purpose: one each, replaced rather than added, so a long
	// connection holds four at most.
	timers [timerPurposes]*time.Timer

	lastSeen atomic.Int64 // unix nanoseconds of the last frame read
}

func (t wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	s := t.s
	if !s.originAllowed(r) {
		apperr.WriteHTTP(w, http.StatusForbidden, apperr.Forbidden, "websocket connections from this origin are not allowed")
		return
	}
	// The server's read and write timeouts would survive the hijack.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols:   []string{ProtocolTransportWS, ProtocolLegacy},
		OriginPatterns: s.originHosts(),
	})
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(s.opts.ReadLimit)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &wsConn{s: s, ws: ws, headerToken: headerToken(r), exec: exec, ctx: ctx, cancel: cancel, ops: map[string]*opEntry{}}
	switch ws.Subprotocol() {
	case ProtocolTransportWS:
	case ProtocolLegacy:
		c.legacy = true
	default:
		s.closes.WithLabelValues("websocket", "subprotocol").Inc()
		_ = ws.Close(closeBadSubprotocol, "Subprotocol not acceptable: use graphql-transport-ws or graphql-ws")
		cancel()
		return
	}
	transport := c.transport()
	if ok, reason := s.add(c, ""); !ok {
		_ = ws.Close(closeGoingAway, reason)
		cancel()
		return
	}
	s.connections.WithLabelValues(transport).Inc()
	c.lastSeen.Store(time.Now().UnixNano())
	c.after(timerInit, s.opts.InitTimeout, func() {
		c.mu.Lock()
		acked := c.acked
		c.mu.Unlock()
		if !acked {
			c.close(closeInitTimeout, "Connection initialisation timeout", "init_timeout")
		}
	})
	c.after(timerKeepAlive, s.opts.KeepAlive, c.keepAlive)
	// The handler's goroutine has a stack grown by the middlewares and the
	// handshake: a fresh goroutine reads instead, and the handler returns
	// (net/http leaves a hijacked connection alone).
	go func() {
		c.readLoop()
		c.finish()
		s.connections.WithLabelValues(transport).Dec()
	}()
}

func (c *wsConn) transport() string {
	if c.legacy {
		return "websocket-legacy"
	}
	return "websocket"
}

// The purposes of a connection's timers.
const (
	timerInit = iota
	timerKeepAlive
	timerExpiry
	timerRecheck
	timerPurposes
)

// after runs fn once after d (replacing the timer of that purpose), unless
// the connection closed first.
func (c *wsConn) after(purpose int, d time.Duration, fn func()) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if t := c.timers[purpose]; t != nil {
		t.Stop()
	}
	c.timers[purpose] = time.AfterFunc(d, fn)
}

// readLoop reads frames and hands them, in order, to a worker goroutine
// that exists only while there are messages to handle: parsing and
// answering them would grow the stack of this goroutine, which lives as long
// as the connection.
func (c *wsConn) readLoop() {
	inbox := make(chan []byte, 4)
	defer close(inbox)
	var working atomic.Bool
	work := func() {
		defer c.handling.Done()
		for {
			select {
			case data, ok := <-inbox:
				if !ok || !c.handleFrame(data) {
					return
				}
			default:
				working.Store(false)
				if len(inbox) == 0 || !working.CompareAndSwap(false, true) {
					return
				}
			}
		}
	}
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		c.lastSeen.Store(time.Now().UnixNano())
		if typ != websocket.MessageText {
			c.close(closeBadRequest, "Invalid message: text frames only", "bad_request")
			return
		}
		select {
		case inbox <- data:
		case <-c.ctx.Done():
			return
		}
		if working.CompareAndSwap(false, true) {
			c.handling.Add(1)
			go work()
		}
	}
}

// handleFrame parses and handles one message; false closes the connection.
func (c *wsConn) handleFrame(data []byte) bool {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return false // the connection is gone: what it sent last is moot
	}
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.close(closeBadRequest, "Invalid message received", "bad_request")
		return false
	}
	// false: handle has started closing the connection, which ends the
	// read loop once the close handshake is over.
	return c.handle(m)
}

// handle acts on one message; false ends the read loop.
func (c *wsConn) handle(m message) bool {
	switch m.Type {
	case "connection_init":
		return c.init(m.Payload)
	case "ping":
		if !c.legacy {
			c.write(message{Type: "pong"})
			return true
		}
	case "pong":
		if !c.legacy {
			return true
		}
	case "subscribe", "start":
		if (m.Type == "start") == c.legacy {
			return c.subscribe(m)
		}
	case "complete", "stop":
		if (m.Type == "stop") == c.legacy {
			c.mu.Lock()
			if op, ok := c.ops[m.ID]; ok {
				op.cancel()
				delete(c.ops, m.ID)
			}
			c.mu.Unlock()
			return true
		}
	case "connection_terminate":
		if c.legacy {
			c.close(closeNormal, "terminated", "client")
			return false
		}
	}
	c.close(closeBadRequest, fmt.Sprintf("Invalid message type %q", trim(m.Type, 40)), "bad_request")
	return false
}

// initPayload holds the credentials a client may send in connection_init.
type initPayload struct {
	Authorization  string `json:"authorization"`
	Authorization2 string `json:"Authorization"`
	APIKey         string `json:"x-api-key"`
	APIKey2        string `json:"X-API-Key"`
	APIKey3        string `json:"apiKey"`
}

func (p initPayload) token() string {
	for _, v := range []string{p.Authorization, p.Authorization2} {
		if v != "" {
			if scheme, tok, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
				return strings.TrimSpace(tok)
			}
			return strings.TrimSpace(v)
		}
	}
	for _, v := range []string{p.APIKey, p.APIKey2, p.APIKey3} {
		if v != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// headerToken is the credential of the upgrade request, for clients that
// can set headers (servers); browsers send theirs in connection_init.
func headerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

func (c *wsConn) init(raw json.RawMessage) bool {
	c.mu.Lock()
	again := c.inited
	c.inited = true
	c.mu.Unlock()
	if again {
		c.close(closeTooManyInits, "Too many initialisation requests", "bad_request")
		return false
	}
	var p initPayload
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p); err != nil {
			c.close(closeBadRequest, "Invalid connection_init payload: expected an object", "bad_request")
			return false
		}
	}
	token := p.token()
	if token == "" {
		token = c.headerToken
	}
	if token == "" {
		c.refuse(closeForbidden, "Forbidden: send credentials in connection_init's payload, e.g. {\"authorization\": \"Bearer <key>\"}", "unauthenticated")
		return false
	}
	opCtx, session, err := c.authenticate(token)
	switch {
	case err != nil && c.s.opts.Unauthorized != nil && c.s.opts.Unauthorized(err):
		c.refuse(closeForbidden, "Forbidden: invalid, expired or revoked credentials", "unauthenticated")
		return false
	case errors.Is(err, ErrForbidden):
		c.refuse(closeForbidden, "Forbidden: your account has no role in shipmentapp", "forbidden")
		return false
	case err != nil:
		c.s.log.Error("authenticate websocket", "error", err.Error())
		c.refuse(1011, "could not check credentials; retry", "auth_unavailable")
		return false
	}
	// Count the connection against its credentials now that we know them.
	if ok, reason := c.s.rekey(session.Credential); !ok {
		code, label := closeForbidden, "credential_cap"
		if c.s.closingNow() {
			code, label = closeGoingAway, "shutdown"
		}
		c.refuse(code, "Forbidden: "+reason, label)
		return false
	}
	c.mu.Lock()
	if c.closed { // the connection went away while we checked
		c.mu.Unlock()
		c.s.unrekey(session.Credential)
		return false
	}
	if t := c.timers[timerInit]; t != nil {
		t.Stop()
		c.timers[timerInit] = nil
	}
	c.acked = true
	c.opCtx = context.WithoutCancel(opCtx)
	c.session = session
	c.token = token
	c.mu.Unlock()
	c.watch()
	c.write(message{Type: "connection_ack"})
	if c.legacy {
		c.write(message{Type: "ka"})
	}
	return true
}

// authenticate verifies token on a goroutine of its own: database work
// would grow the stack of the reading goroutine, which lives as long as the
// connection, for good.
func (c *wsConn) authenticate(token string) (context.Context, Session, error) {
	type result struct {
		ctx     context.Context
		session Session
		err     error
	}
	res := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		defer cancel()
		opCtx, session, err := c.s.opts.Authenticate(ctx, token)
		res <- result{opCtx, session, err}
	}()
	r := <-res
	return r.ctx, r.session, r.err
}

func (s *Server) closingNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// refuse rejects connection_init: the legacy protocol says why in a
// connection_error first.
func (c *wsConn) refuse(code int, reason, label string) {
	if c.legacy {
		payload, _ := json.Marshal(map[string]string{"message": reason})
		c.write(message{Type: "connection_error", Payload: payload})
	}
	c.close(code, reason, label)
}

// watch ends the connection when its credentials are revoked or expire.
func (c *wsConn) watch() {
	revoked := func() { c.close(closeForbidden, "Forbidden: the credentials were revoked", "revoked") }
	if c.s.opts.Watch != nil && c.session.Credential != "" {
		stop := c.s.opts.Watch(c.session.Credential, revoked)
		c.mu.Lock()
		c.stopWatch = stop
		c.mu.Unlock()
	}
	if !c.session.ExpiresAt.IsZero() {
		expired := func() {
			c.close(closeForbidden, "Forbidden: the credentials expired; reconnect with new ones", "expired")
		}
		if d := time.Until(c.session.ExpiresAt); d > 0 {
			c.after(timerExpiry, d, expired)
		} else { // within the verifier's leeway, but expired
			expired()
		}
	}
	var recheck func()
	recheck = func() {
		_, _, err := c.authenticate(c.token)
		switch {
		case err != nil && c.s.opts.Unauthorized != nil && c.s.opts.Unauthorized(err):
			revoked()
		case errors.Is(err, ErrForbidden):
			revoked()
		default: // valid, or not checkable now: keep serving, check later
			c.after(timerRecheck, c.s.opts.AuthRecheck, recheck)
		}
	}
	c.after(timerRecheck, c.s.opts.AuthRecheck, recheck)
}

// opEntry is a running operation; its pointer tells it apart from a later
// operation that reuses the id.
type opEntry struct{ cancel context.CancelFunc }

func (c *wsConn) subscribe(m message) bool {
	params, decodeErr := gqlhttp.DecodeParams(m.Payload)
	if decodeErr == nil && params.Query == "" && params.Extensions == nil {
		decodeErr = errors.New(`the payload has no query: send {"query": "..."} (or a trusted document's documentId)`)
	}
	badPayload := decodeErr != nil
	// Check and register in one critical section: goAway and finish set
	// leaving/closed under the same lock before they wait for the operations.
	c.mu.Lock()
	acked, leaving, closed := c.acked, c.leaving, c.closed
	_, dup := c.ops[m.ID]
	full := len(c.ops) >= c.s.opts.MaxPerConnection
	ok := acked && !leaving && !closed && !dup && !full && !badPayload && m.ID != "" && len(m.ID) <= 128
	var (
		entry  *opEntry
		ctx    context.Context
		cancel context.CancelFunc
	)
	if ok {
		ctx, cancel = context.WithCancel(c.opCtx)
		entry = &opEntry{cancel: cancel}
		c.ops[m.ID] = entry
		c.running.Add(1)
	}
	c.mu.Unlock()
	switch {
	case ok:
	case closed:
		return false
	case !acked:
		c.close(closeUnauthorized, "Unauthorized: send connection_init first", "bad_request")
		return false
	case m.ID == "" || len(m.ID) > 128:
		c.close(closeBadRequest, "Invalid message: id must be 1 to 128 characters", "bad_request")
		return false
	case dup && !c.legacy:
		c.close(closeDuplicateID, fmt.Sprintf("Subscriber for %s already exists", trim(m.ID, 64)), "duplicate_id")
		return false
	case dup:
		c.sendErrors(m.ID, errorList(apperr.BadUserInput, "an operation with this id is already running"))
		return true
	case leaving:
		c.sendErrors(m.ID, errorList(apperr.Timeout, "the server is going away: reconnect"))
		return true
	case full:
		c.sendErrors(m.ID, errorList(apperr.TooManySubscriptions,
			fmt.Sprintf("at most %d operations may run on one connection", c.s.opts.MaxPerConnection)))
		return true
	case badPayload && !c.legacy:
		// The reason, cut at the 123 bytes a close frame holds, begins as
		// graphql-ws's own.
		c.close(closeBadRequest, "Invalid subscribe payload: "+decodeErr.Error(), "bad_request")
		return false
	default: // badPayload, legacy: the error a POST of the payload would get
		c.sendErrors(m.ID, errorList(apperr.BadRequest, decodeErr.Error()))
		return true
	}
	release := func() {
		c.mu.Lock()
		if c.ops[m.ID] == entry {
			delete(c.ops, m.ID)
		}
		c.mu.Unlock()
		cancel()
		c.running.Done()
	}
	// Every operation counts against the credentials' rate limit, as a
	// request would.
	if c.s.opts.Allow != nil {
		if allowed, retry := c.s.opts.Allow(ctx, c.token); !allowed {
			c.sendErrors(m.ID, gqlerror.List{{Message: fmt.Sprintf("too many requests; retry in %d s", max(int(retry.Seconds()+0.999), 1)),
				Extensions: map[string]any{"code": string(apperr.RateLimited)}}})
			release()
			return true
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	// Stop the operation when the connection ends.
	stop := context.AfterFunc(c.ctx, cancel)
	ctx = live.WithAbort(ctx, c.abort)
	go c.s.operation(ctx, c.exec, params,
		func(errs gqlerror.List) { c.sendErrors(m.ID, errs) },
		func(resp *graphql.Response) error {
			payload, err := json.Marshal(resp)
			if err != nil {
				return err
			}
			typ := "next"
			if c.legacy {
				typ = "data"
			}
			return c.write(message{ID: m.ID, Type: typ, Payload: payload})
		},
		func(completed bool) {
			stop()
			c.mu.Lock()
			mine := c.ops[m.ID] == entry
			leaving := c.leaving || c.s.closingNow()
			c.mu.Unlock()
			// Not after the client's own complete, nor when the server goes
			// away (the client must reconnect, not think the stream ended).
			if completed && mine && !leaving {
				c.write(message{ID: m.ID, Type: "complete"})
			}
			release()
		})
	return true
}

func (c *wsConn) sendErrors(id string, errs gqlerror.List) {
	var payload []byte
	if c.legacy {
		// subscriptions-transport-ws sends one error object.
		var first *gqlerror.Error
		if len(errs) > 0 {
			first = errs[0]
		}
		payload, _ = json.Marshal(first)
	} else {
		payload, _ = json.Marshal(errs)
	}
	c.write(message{ID: id, Type: "error", Payload: payload})
}

// abort is called when a subscription ends on the server's side.
func (c *wsConn) abort(err error) {
	if errors.Is(err, live.ErrClosed) {
		c.mu.Lock()
		c.leaving = true // no complete: the client must reconnect
		c.mu.Unlock()
		go c.waitAndLeave()
		return
	}
	code, reason := closeReason(err)
	label := "slow_consumer"
	if code != 1013 {
		label = "internal"
		c.s.log.Error("subscription ended", "error", err.Error())
	}
	c.close(code, reason, label)
}

var errConnClosed = errors.New("connection closed")

// write sends one message within the write timeout; a client that does not
// take it in time is disconnected.
func (c *wsConn) write(m message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return errConnClosed // nothing after the close frame
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			c.s.closes.WithLabelValues(c.transport(), "slow_consumer").Inc()
		}
		c.closeNow()
		return err
	}
	return nil
}

// keepAlive pings the client every interval and drops it when it has sent
// nothing (not even a pong) for two.
func (c *wsConn) keepAlive() {
	ka := c.s.opts.KeepAlive
	if time.Since(time.Unix(0, c.lastSeen.Load())) > 2*ka {
		c.s.closes.WithLabelValues(c.transport(), "dead_peer").Inc()
		c.closeNow()
		return
	}
	if c.legacy {
		c.write(message{Type: "ka"})
		// Legacy clients answer nothing to ka: ping at the websocket level.
		go func() {
			ctx, cancel := context.WithTimeout(c.ctx, ka)
			defer cancel()
			if c.ws.Ping(ctx) == nil {
				c.lastSeen.Store(time.Now().UnixNano())
			}
		}()
	} else {
		c.write(message{Type: "ping"})
	}
	c.after(timerKeepAlive, ka, c.keepAlive)
}

// goAway stops new operations, lets the running ones send what they
// already have, then closes with 1001.
func (c *wsConn) goAway() {
	c.mu.Lock()
	if c.leaving || c.closed {
		c.mu.Unlock()
		return
	}
	c.leaving = true
	c.mu.Unlock()
	c.waitAndLeave()
}

func (c *wsConn) waitAndLeave() {
	c.running.Wait()
	c.close(closeGoingAway, "going away: reconnect and resume with the cursor of the last event received", "shutdown")
}

// close closes the connection with code and reason, once.
func (c *wsConn) close(code int, reason, label string) {
	if !c.markClosed() {
		return
	}
	c.s.closes.WithLabelValues(c.transport(), label).Inc()
	go func() {
		_ = c.ws.Close(websocket.StatusCode(code), trim(reason, 123))
		c.cancel()
	}()
}

func (c *wsConn) closeNow() {
	if c.markClosed() {
		_ = c.ws.CloseNow()
	}
	c.cancel()
}

func (c *wsConn) markClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed = true
	for i, t := range c.timers {
		if t != nil {
			t.Stop()
			c.timers[i] = nil
		}
	}
	return true
}

// finish runs when the read loop ends: stop everything, wait for the
// operations, unregister.
func (c *wsConn) finish() {
	if !c.markClosed() {
		// close() is closing it: give the handshake a moment.
		select {
		case <-c.ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	_ = c.ws.CloseNow()
	c.cancel()
	// The worker sees closed and stops; after it, nothing registers.
	c.handling.Wait()
	c.mu.Lock()
	cred := c.session.Credential
	stop := c.stopWatch
	for _, op := range c.ops {
		op.cancel()
	}
	c.mu.Unlock()
	c.running.Wait()
	if stop != nil {
		stop()
	}
	c.s.remove(c, cred)
}

// trim cuts s to at most n bytes, never inside a UTF-8 sequence (a close
// reason must be valid UTF-8).
func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
