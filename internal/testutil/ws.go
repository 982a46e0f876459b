package testutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// WS is a raw websocket GraphQL client for protocol tests.
type WS struct {
	t    testing.TB
	Conn *websocket.Conn
}

// WSMessage is a message of either websocket protocol.
type WSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// DialWS opens a websocket to server's /graphql (an http:// URL) with
// subprotocol (none when empty) and extra headers.
func DialWS(t testing.TB, server, subprotocol string, header http.Header) (*WS, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: header}
	if subprotocol != "" {
		opts.Subprotocols = []string{subprotocol}
	}
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(server, "http")+"/graphql", opts)
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(16 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &WS{t: t, Conn: c}, resp, nil
}

// MustDialWS is DialWS that fails the test on error.
func MustDialWS(t testing.TB, server, subprotocol string) *WS {
	t.Helper()
	ws, _, err := DialWS(t, server, subprotocol, nil)
	if err != nil {
		t.Fatalf("dial websocket: %v", err)
	}
	return ws
}

// Send writes one message.
func (w *WS) Send(m any) {
	w.t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Conn.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("websocket write: %v", err)
	}
}

// Read returns the next message within d, skipping keepalives (ka, and
// ping, which it answers with a pong as graphql-transport-ws clients must: the
// server drops a peer silent for two keepalive intervals); the error is the
// websocket's (a close has a websocket.CloseError).
func (w *WS) Read(d time.Duration) (WSMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := w.Conn.Read(ctx)
		if err != nil {
			return WSMessage{}, err
		}
		var m WSMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return WSMessage{}, err
		}
		switch m.Type {
		case "ping":
			// A failed write shows at the next read.
			_ = w.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
			continue
		case "ka":
			continue
		}
		return m, nil
	}
}

// Next is Read that fails the test on error.
func (w *WS) Next(d time.Duration) WSMessage {
	w.t.Helper()
	m, err := w.Read(d)
	if err != nil {
		w.t.Fatalf("websocket read: %v", err)
	}
	return m
}

// Init sends connection_init with payload and expects connection_ack.
func (w *WS) Init(payload any) {
	w.t.Helper()
	w.Send(map[string]any{"type": "connection_init", "payload": payload})
	if m := w.Next(5 * time.Second); m.Type != "connection_ack" {
		w.t.Fatalf("want connection_ack, got %s %s", m.Type, m.Payload)
	}
}

// CloseStatus returns the close code the server sent, waiting up to d.
func (w *WS) CloseStatus(d time.Duration) (websocket.StatusCode, string) {
	w.t.Helper()
	for {
		_, err := w.Read(d)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		return -1, err.Error()
	}
}

// SubClient is the folder of the Node.js subscription clients
// (graphql-ws, subscriptions-transport-ws, graphql-sse), relative to the
// repository root.
const SubClient = "internal/app/testdata/subclient"

// RequireNodeClients skips t (or fails it under REQUIRE_ALL_DATABASES=1)
// unless node and the clients' modules (npm ci, which make test runs) are
// installed; it returns client.mjs's path.
func RequireNodeClients(t testing.TB, root string) string {
	t.Helper()
	dir := filepath.Join(root, SubClient)
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws"))
	if nodeErr == nil && modErr == nil {
		return filepath.Join(dir, "client.mjs")
	}
	msg := fmt.Sprintf("the Node.js subscription clients are not installed (node: %v, modules: %v; run npm ci --prefix %s): SKIPPED", nodeErr, modErr, SubClient)
	SkipOrFail(t, msg)
	return ""
}
