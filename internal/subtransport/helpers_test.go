package subtransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/shipmentapp/shipmentapp/internal/subtransport"
)

// fakeExec is the smallest executor the transports can serve: the protocol
// is what is under test, not GraphQL. An operation's first field says what
// it does:
//
//	query { hello }              one result
//	query { fail }               an error and no data
//	query { kind }               the Go type of $n as the transport decoded it
//	query { slow }               waits until stopped; past its deadline, a TIMEOUT error
//	subscription { count }       $n results, then the end
//	subscription { forever }     nothing until stopped
//	subscription { flood }       results of $size bytes, as fast as they are sent
//	subscription { refused }     refused before it starts (an error, no data)
//	subscription { push }        one result per value sent on fakeExec.push
type fakeExec struct {
	push  chan string
	ended chan string // the field of each operation that ended
}

func newFakeExec() *fakeExec {
	return &fakeExec{push: make(chan string), ended: make(chan string, 100)}
}

func (e *fakeExec) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	rc := &graphql.OperationContext{RawQuery: p.Query, Variables: p.Variables, OperationName: p.OperationName}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			gerr.Extensions = map[string]any{"code": "GRAPHQL_PARSE_FAILED"}
			return rc, gqlerror.List{gerr}
		}
		return rc, gqlerror.List{gqlerror.Errorf("%s", err)}
	}
	rc.Doc = doc
	rc.Operation = doc.Operations.ForName(p.OperationName)
	if rc.Operation == nil || len(rc.Operation.SelectionSet) == 0 {
		return rc, gqlerror.List{gqlerror.Errorf("no operation")}
	}
	return rc, nil
}

func (e *fakeExec) DispatchError(_ context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

func (e *fakeExec) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	field := rc.Operation.SelectionSet[0].(*ast.Field).Name
	num := func(name string) int {
		v, _ := rc.Variables[name].(json.Number)
		n, _ := strconv.Atoi(string(v))
		if f, ok := rc.Variables[name].(float64); ok {
			n = int(f)
		}
		return n
	}
	data := func(v any) *graphql.Response {
		b, _ := json.Marshal(map[string]any{field: v})
		return &graphql.Response{Data: b}
	}
	i := 0
	ended := false
	end := func() *graphql.Response {
		if !ended {
			ended = true
			e.ended <- field
		}
		return nil
	}
	return func(ctx context.Context) *graphql.Response {
		i++
		switch field {
		case "hello":
			if i > 1 {
				return end()
			}
			return data("world")
		case "kind":
			if i > 1 {
				return end()
			}
			return data(fmt.Sprintf("%T", rc.Variables["n"]))
		case "fail":
			if i > 1 {
				return end()
			}
			return &graphql.Response{Errors: gqlerror.List{{Message: "it failed", Extensions: map[string]any{"code": "NOT_FOUND"}}}}
		case "refused":
			if i > 1 {
				return end()
			}
			return &graphql.Response{Errors: gqlerror.List{{Message: "not found", Extensions: map[string]any{"code": "NOT_FOUND"}}}}
		case "count":
			if i > num("n") {
				return end()
			}
			return data(i)
		case "flood":
			if ctx.Err() != nil {
				return end()
			}
			return data(strings.Repeat("x", num("size")))
		case "push":
			select {
			case v := <-e.push:
				return data(v)
			case <-ctx.Done():
				return end()
			}
		case "slow":
			// As gqlgen's executor answers when the operation's deadline
			// passes: the resolver's error, presented with its code.
			<-ctx.Done()
			if i == 1 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &graphql.Response{Data: []byte("null"), Errors: gqlerror.List{{
					Message: "the request took too long and was stopped", Extensions: map[string]any{"code": "TIMEOUT"},
				}}}
			}
			return end()
		default: // forever
			<-ctx.Done()
			return end()
		}
	}, ctx
}

// Credentials of the fake authenticator.
const (
	tokenGood    = "good"    // a key: credential "key:good"
	tokenOther   = "other"   // another key
	tokenExpires = "expires" // a token that expires 300 ms after it is checked
	tokenNoRole  = "norole"  // verifies, may not connect
	tokenDown    = "down"    // cannot be checked now
)

var errBadCredentials = errors.New("invalid credentials")

type sessionKey struct{}

// env is a subscription server behind an httptest server, at /graphql.
type env struct {
	srv  *subtransport.Server
	ts   *httptest.Server
	exec *fakeExec
	// executor serves the operations: exec unless setExec says otherwise.
	executor graphql.GraphExecutor

	mu       sync.Mutex
	watchers map[string][]func()
	revoked  map[string]bool
}

func newEnv(t *testing.T, configure func(*subtransport.Options)) *env {
	t.Helper()
	e := &env{exec: newFakeExec(), watchers: map[string][]func(){}, revoked: map[string]bool{}}
	e.executor = e.exec
	opts := subtransport.Options{
		Authenticate: e.authenticate,
		Unauthorized: func(err error) bool { return errors.Is(err, errBadCredentials) },
		Watch: func(cred string, revoked func()) func() {
			e.mu.Lock()
			e.watchers[cred] = append(e.watchers[cred], revoked)
			e.mu.Unlock()
			return func() {}
		},
		InitTimeout:      3 * time.Second,
		KeepAlive:        time.Minute,
		WriteTimeout:     time.Second,
		MaxPerConnection: 3,
		MaxPerCredential: 4,
		ReadLimit:        4096,
		OperationTimeout: 3 * time.Second,
		Origins:          []string{"https://app.example.com"},
	}
	if configure != nil {
		configure(&opts)
	}
	e.srv = subtransport.New(opts)
	ws := e.srv.WebSocket()
	sse := e.srv.SSE(func(ctx context.Context) subtransport.Session {
		s, _ := ctx.Value(sessionKey{}).(subtransport.Session)
		return s
	}, bearer)
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case ws.Supports(r):
			ws.Do(w, r, e.getExec())
		case subtransport.IsSSE(r):
			// What the app's auth middleware does for every request.
			ctx, session, err := e.authenticate(r.Context(), bearer(r))
			if err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			sse.Do(w, r.WithContext(context.WithValue(ctx, sessionKey{}, session)), e.getExec())
		default:
			http.Error(w, "not a subscription", http.StatusBadRequest)
		}
	})
	e.ts = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
		e.ts.Close()
	})
	return e
}

// setExec makes exec serve the operations from now on.
func (e *env) setExec(exec graphql.GraphExecutor) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.executor = exec
}

func (e *env) getExec() graphql.GraphExecutor {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.executor
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (e *env) authenticate(ctx context.Context, token string) (context.Context, subtransport.Session, error) {
	e.mu.Lock()
	revoked := e.revoked[token]
	e.mu.Unlock()
	switch {
	case revoked:
		return nil, subtransport.Session{}, errBadCredentials
	case token == tokenGood, token == tokenOther:
		return ctx, subtransport.Session{Credential: "key:" + token}, nil
	case token == tokenExpires:
		return ctx, subtransport.Session{Credential: "token:" + token, ExpiresAt: time.Now().Add(300 * time.Millisecond)}, nil
	case token == tokenNoRole:
		return nil, subtransport.Session{}, subtransport.ErrForbidden
	case token == tokenDown:
		return nil, subtransport.Session{}, errors.New("the key store is down")
	}
	return nil, subtransport.Session{}, errBadCredentials
}

// revoke revokes a credential everywhere, as the Hub's note does.
// revokeWatched revokes token once the transport watches it (it starts
// watching after it has answered: a revocation before that is the periodic
// check's to find).
func (e *env) revokeWatched(t *testing.T, token string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		n := len(e.watchers["key:"+token])
		e.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the transport never watched the credential")
		}
	}
	e.revoke(token)
}

func (e *env) revoke(token string) {
	e.mu.Lock()
	e.revoked[token] = true
	fns := e.watchers["key:"+token]
	e.mu.Unlock()
	for _, fn := range fns {
		go fn()
	}
}

// wsClient is a raw websocket client: it answers nothing by itself, so the
// tests see every frame (pings included).
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func (e *env) dial(t *testing.T, subprotocol string, header http.Header) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: header}
	if subprotocol != "" {
		opts.Subprotocols = []string{subprotocol}
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/graphql", opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 24)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) sendRaw(typ websocket.MessageType, data string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, typ, []byte(data)); err != nil {
		c.t.Fatalf("write %.80s: %v", data, err)
	}
}

func (c *wsClient) send(format string, args ...any) {
	c.t.Helper()
	c.sendRaw(websocket.MessageText, fmt.Sprintf(format, args...))
}

// msg is a message of either protocol.
type msg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (m msg) String() string {
	s := m.Type
	if m.ID != "" {
		s += " " + m.ID
	}
	if len(m.Payload) > 0 {
		s += " " + string(m.Payload)
	}
	return s
}

// read returns the next message within d, or the close (code, reason); a
// connection that ends without a close frame has code -1; a timeout is err
// with code 0.
func (c *wsClient) read(d time.Duration) (m msg, code websocket.StatusCode, reason string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return msg{}, ce.Code, ce.Reason, nil
		case ctx.Err() != nil:
			return msg{}, 0, "", err
		}
		return msg{}, -1, "", err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("the server sent a frame that is not JSON: %s", b)
	}
	return m, 0, "", nil
}

// next returns the next message, failing on a close or a timeout.
func (c *wsClient) next() msg {
	c.t.Helper()
	m, code, reason, err := c.read(5 * time.Second)
	if err != nil || code != 0 {
		c.t.Fatalf("want a message, got close %d %q (%v)", code, reason, err)
	}
	return m
}

// closed waits for the server's close and returns its code.
func (c *wsClient) closed(d time.Duration) (websocket.StatusCode, string) {
	c.t.Helper()
	for {
		_, code, reason, err := c.read(d) // messages before the close are skipped
		if err != nil && code == 0 {
			c.t.Fatalf("no close within %s: %v", d, err)
		}
		if code != 0 {
			return code, reason
		}
	}
}

// init sends connection_init with the token and expects connection_ack.
func (c *wsClient) init(token string) {
	c.t.Helper()
	c.send(`{"type":"connection_init","payload":{"authorization":"Bearer %s"}}`, token)
	if m := c.next(); m.Type != "connection_ack" {
		c.t.Fatalf("want connection_ack, got %s", m)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
