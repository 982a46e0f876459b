package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestGracefulShutdown runs the real binary and sends it SIGTERM: readiness
// fails first while requests are still served (HTTP_SHUTDOWN_DELAY), the
// websocket subscription is closed with 1001, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	bin := testutil.Binary(t)
	srv := testutil.StartServer(t, bin, "APP_ENV=development", "APP_DATA_DIR="+dir,
		"LOG_LEVEL=warn", "DEMO_SEED=false", "HTTP_SHUTDOWN_DELAY=1500ms", "HTTP_SHUTDOWN_TIMEOUT=10s",
		"REDIS_HOST=", "CACHE_DRIVER=memory")
	key := srv.AdminKey(t)
	addr, base, status := srv.Addr, srv.URL(), srv.Status
	query := func() int {
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ shipments(first: 1) { totalCount } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	probe := func(which string) error {
		c := exec.Command(bin, "probe", which)
		c.Env = append(os.Environ(), "APP_ADDR="+addr)
		return c.Run()
	}
	if err := probe("ready"); err != nil {
		t.Fatalf("probe ready: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]string{"authorization": "Bearer " + key}})
	if _, b, err := ws.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
		t.Fatalf("init: %v %s", err, b)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { shipmentEvents { cursor } }"}})
	time.Sleep(200 * time.Millisecond)

	if err := srv.Terminate(); err != nil {
		t.Fatal(err)
	}
	// During the delay: not ready, but alive and serving.
	deadline := time.Now().Add(time.Second)
	for status("/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("readiness did not fail after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := query(); code != http.StatusOK {
		t.Fatalf("a query during the shutdown delay: %d", code)
	}
	if code := status("/livez"); code != http.StatusOK {
		t.Fatalf("/livez during the shutdown delay: %d", code)
	}
	if probe("ready") == nil || probe("live") != nil {
		t.Fatal("probe: want ready to fail and live to pass during the shutdown delay")
	}
	// Then the subscription goes away with 1001, and the process exits 0.
	for {
		_, b, err := ws.Read(ctx)
		if err == nil {
			if strings.Contains(string(b), `"complete"`) {
				t.Fatal("the subscription completed instead of going away")
			}
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Fatalf("want close 1001, got %v", err)
		}
		break
	}
	if err := srv.Wait(15 * time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, srv.Stderr())
	}
}
