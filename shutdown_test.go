package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestGracefulShutdown runs the real binary and sends it SIGTERM: readiness
// fails first while requests are still served (HTTP_SHUTDOWN_DELAY), the
// websocket subscription is closed with 1001, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "shipmentapp")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "APP_ENV=development", "APP_ADDR="+addr, "APP_DATA_DIR="+dir,
		"LOG_LEVEL=warn", "DEMO_SEED=false", "HTTP_SHUTDOWN_DELAY=1500ms", "HTTP_SHUTDOWN_TIMEOUT=10s",
		"REDIS_HOST=", "CACHE_DRIVER=memory")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	// The development admin key is printed at the first start.
	key := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "sa_") {
			key = line
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if key == "" {
		t.Fatalf("no admin key printed; stderr:\n%s", stderr.String())
	}
	base := "http://" + addr
	status := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
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
	deadline := time.Now().Add(20 * time.Second)
	for status("/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("never ready; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
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

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// During the delay: not ready, but alive and serving.
	deadline = time.Now().Add(time.Second)
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
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) || err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the process did not exit")
	}
}
