package whsign_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// verifierDir holds the standardwebhooks npm harness (verify.mjs,
// receiver.mjs, the pinned package.json and lock; make test runs npm ci).
const verifierDir = "internal/whsign/testdata/verifier"

// requireNPM skips t (or fails it under REQUIRE_ALL_DATABASES=1, as in CI)
// unless node and the standardwebhooks package are installed; it returns the
// harness directory.
func requireNPM(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("testdata", "verifier")
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json"))
	if nodeErr == nil && modErr == nil {
		return dir
	}
	testutil.SkipOrFail(t, fmt.Sprintf("the check against the standardwebhooks npm package needs node and the package (node: %v, standardwebhooks: %v; "+
		"run npm ci --prefix %s): SKIPPED", nodeErr, modErr, verifierDir))
	return ""
}

// runNode runs node script in dir with lines as JSON lines on stdin and
// returns one decoded result per line.
func runNode[T any](t *testing.T, dir string, args []string, lines []any) []T {
	t.Helper()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var results []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("node %s printed %q: %v", strings.Join(args, " "), sc.Text(), err)
		}
		results = append(results, r)
	}
	if len(results) != len(lines) {
		t.Fatalf("node %s printed %d results for %d lines:\n%s", strings.Join(args, " "), len(results), len(lines), out)
	}
	return results
}

// TestStandardWebhooksNPM checks whsign against the specification's own
// JavaScript library, standardwebhooks@1.3.0: it verifies what Sign makes
// (each secret of a rotation alone, nothing tampered), Verify accepts what it
// signs, and receiver.mjs (docs/WEBHOOKS-VERIFY.md's example) answers as
// documented.
func TestStandardWebhooksNPM(t *testing.T) {
	dir := requireNPM(t)
	newest, oldest, other := mustSecret(t), mustSecret(t), mustSecret(t)
	now := time.Now()
	body := `{"type":"shipment.delivered","timestamp":"2026-12-06T02:00:00Z","data":{"id":"U2hpcG1lbnQ6NDI=","note":"Zoë 🚚"}}`

	t.Run("npm verifies Sign", func(t *testing.T) {
		sign := func(secrets []string, id string, ts time.Time, body string) map[string]string {
			h, err := whsign.Sign(secrets, id, ts, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			hdr := http.Header{}
			h.Set(hdr)
			m := map[string]string{}
			for k := range hdr {
				m[strings.ToLower(k)] = hdr.Get(k)
			}
			return m
		}
		one := sign([]string{newest}, "msg_1", now, body)
		both := sign([]string{newest, oldest}, "msg_2", now, body)
		tamperedID := sign([]string{newest}, "msg_3", now, body)
		tamperedID["webhook-id"] = "msg_4"
		type line struct {
			Secret  string            `json:"secret"`
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		}
		tests := []struct {
			name string
			line line
			ok   bool
		}{
			{"one secret", line{newest, one, body}, true},
			{"secret without prefix", line{strings.TrimPrefix(newest, whsign.SecretPrefix), one, body}, true},
			{"rotation: newest alone", line{newest, both, body}, true},
			{"rotation: oldest alone", line{oldest, both, body}, true},
			{"spec's 24-byte secret", line{vecSecret, sign([]string{vecSecret}, vecID, now, vecBody), vecBody}, true},
			{"empty body", line{newest, sign([]string{newest}, "msg_5", now, ""), ""}, true},
			{"id with punctuation", line{newest, sign([]string{newest}, "evt.2026-12-06:42_~", now, body), body}, true},
			{"rotation: another secret", line{other, both, body}, false},
			{"tampered body", line{newest, one, strings.Replace(body, "delivered", "cancelled", 1)}, false},
			{"tampered id", line{newest, tamperedID, body}, false},
			{"ten minutes old", line{newest, sign([]string{newest}, "msg_6", now.Add(-10*time.Minute), body), body}, false},
			{"ten minutes ahead", line{newest, sign([]string{newest}, "msg_7", now.Add(10*time.Minute), body), body}, false},
		}
		lines := make([]any, len(tests))
		for i, tt := range tests {
			lines[i] = tt.line
		}
		type result struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		for i, r := range runNode[result](t, dir, []string{"verify.mjs"}, lines) {
			if r.OK != tests[i].ok {
				t.Errorf("%s: npm verify ok=%v (%s), want ok=%v", tests[i].name, r.OK, r.Error, tests[i].ok)
			}
		}
	})

	t.Run("Verify accepts npm's signatures", func(t *testing.T) {
		type line struct {
			Secret    string `json:"secret"`
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
			Body      string `json:"body"`
		}
		lines := []any{
			line{newest, "msg_1", now.Unix(), body},
			line{oldest, "msg_1", now.Unix(), body},
			line{vecSecret, vecID, vecTS, vecBody},
			line{newest, "msg_2", now.Unix(), ""},
		}
		type result struct {
			Signature string `json:"signature"`
			Error     string `json:"error"`
		}
		res := runNode[result](t, dir, []string{"verify.mjs", "sign"}, lines)
		for _, r := range res {
			if r.Error != "" || r.Signature == "" {
				t.Fatalf("npm sign: %+v", r)
			}
		}
		if res[2].Signature != vecSig {
			t.Errorf("npm signs the spec's vector %q, want %q", res[2].Signature, vecSig)
		}
		hdr := func(id string, ts int64, sig string) http.Header {
			h := http.Header{}
			h.Set("webhook-id", id)
			h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			h.Set("webhook-signature", sig)
			return h
		}
		rotated := res[0].Signature + " " + res[1].Signature
		tests := []struct {
			name   string
			secret string
			h      http.Header
			body   string
			now    time.Time
			ok     bool
		}{
			{"one secret", newest, hdr("msg_1", now.Unix(), res[0].Signature), body, now, true},
			{"rotation: newest", newest, hdr("msg_1", now.Unix(), rotated), body, now, true},
			{"rotation: oldest", oldest, hdr("msg_1", now.Unix(), rotated), body, now, true},
			{"spec vector", vecSecret, hdr(vecID, vecTS, res[2].Signature), vecBody, time.Unix(vecTS, 0), true},
			{"empty body", newest, hdr("msg_2", now.Unix(), res[3].Signature), "", now, true},
			{"rotation: another secret", other, hdr("msg_1", now.Unix(), rotated), body, now, false},
			{"tampered body", newest, hdr("msg_1", now.Unix(), res[0].Signature), body + " ", now, false},
			{"tampered timestamp", newest, hdr("msg_1", now.Unix()+1, res[0].Signature), body, now, false},
		}
		for _, tt := range tests {
			err := whsign.Verify(tt.secret, tt.h, []byte(tt.body), tt.now, 0)
			if (err == nil) != tt.ok {
				t.Errorf("%s: Verify = %v, want ok=%v", tt.name, err, tt.ok)
			}
		}
	})

	t.Run("receiver.mjs", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", "receiver.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+newest, "PORT=0")
		exerciseReceiver(ctx, t, cmd, newest)
	})
}
