package whsign_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// TestReceiverExampleGo builds and runs docs/WEBHOOKS-VERIFY.md's Go
// receiver (testdata/receiver, standard library only) against deliveries
// made by Sign.
func TestReceiverExampleGo(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		testutil.SkipOrFail(t, "building the Go receiver example needs the go command on PATH: SKIPPED")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "receiver")
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./testdata/receiver")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/receiver: %v\n%s", err, out)
	}
	secret := mustSecret(t)
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "ADDR=127.0.0.1:0")
	exerciseReceiver(ctx, t, cmd, secret)
}

// exerciseReceiver starts cmd, one of docs/WEBHOOKS-VERIFY.md's receivers,
// which prints "listening on <port>" and then "event <id> <type>" per event
// handled, and posts deliveries to it: signed ones pass (a retry is handled
// once), others get 400, 405 or 413. It stops the receiver before returning.
func exerciseReceiver(ctx context.Context, t *testing.T, cmd *exec.Cmd, secret string) {
	t.Helper()
	body := `{"type":"shipment.delivered","timestamp":"2026-12-06T02:00:00Z","data":{"id":"U2hpcG1lbnQ6NDI=","note":"Zoë 🚚"}}`
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() {
		_ = cmd.Process.Kill()
		for range lines { // until the pipe closes, then Wait may close it
		}
		_ = cmd.Wait()
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the receiver ended: %s", stderr.String())
			}
			return l
		case <-ctx.Done():
			t.Fatalf("no line from the receiver: %v; stderr: %s", ctx.Err(), stderr.String())
		}
		return ""
	}
	port, ok := strings.CutPrefix(next(), "listening on ")
	if !ok {
		t.Fatalf("the receiver did not say where it listens")
	}
	url := "http://127.0.0.1:" + port + "/webhooks"

	post := func(method, id string, ts time.Time, signedBody, sentBody string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(sentBody))
		if err != nil {
			t.Fatal(err)
		}
		h, err := whsign.Sign([]string{secret}, id, ts, []byte(signedBody))
		if err != nil {
			t.Fatal(err)
		}
		h.Set(req.Header)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now()
	steps := []struct {
		name                 string
		method, id           string
		ts                   time.Time
		signedBody, sentBody string
		want                 int
	}{
		{"signed", http.MethodPost, "msg_r1", now, body, body, http.StatusNoContent},
		{"retry of it", http.MethodPost, "msg_r1", now.Add(time.Second), body, body, http.StatusNoContent},
		{"tampered", http.MethodPost, "msg_r2", now, body, strings.Replace(body, "delivered", "cancelled", 1), http.StatusBadRequest},
		{"too old", http.MethodPost, "msg_r3", now.Add(-6 * time.Minute), body, body, http.StatusBadRequest},
		{"GET", http.MethodGet, "msg_r4", now, "", "", http.StatusMethodNotAllowed},
		{"too large", http.MethodPost, "msg_r5", now, "", strings.Repeat(" ", 1<<20+1), http.StatusRequestEntityTooLarge},
		{"another", http.MethodPost, "msg_r6", now, body, body, http.StatusNoContent},
	}
	for _, s := range steps {
		if got := post(s.method, s.id, s.ts, s.signedBody, s.sentBody); got != s.want {
			t.Errorf("%s: HTTP %d, want %d", s.name, got, s.want)
		}
	}
	// Each accepted event is handled once, in order: the retry is not.
	for _, want := range []string{"event msg_r1 shipment.delivered", "event msg_r6 shipment.delivered"} {
		if got := next(); got != want {
			t.Errorf("the receiver printed %q, want %q", got, want)
		}
	}
}
