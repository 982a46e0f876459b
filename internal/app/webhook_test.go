package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// receiver is a webhook receiver on loopback: it verifies every
// signature (whsign.Verify, the receiver's side of the specification) and
// answers as answer says for the n-th request (from 1).
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	secret   string
	answer   func(n int, w http.ResponseWriter) bool // false: answered 200 by the caller
	requests []delivered
	// delivered are the deliveries answered 2xx, in the order received.
	delivered []delivered
}

type delivered struct {
	ID      string
	Body    envelopeJSON
	Status  int
	At      time.Time
	Verify  error
	Headers http.Header
	Raw     []byte // the body as received
}

type envelopeJSON struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	Errors    json.RawMessage `json:"errors"`
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	d := delivered{ID: req.Header.Get("webhook-id"), At: time.Now(), Headers: req.Header.Clone(), Raw: body}
	d.Verify = whsign.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute)
	if err := json.Unmarshal(body, &d.Body); err != nil {
		d.Verify = fmt.Errorf("body: %v: %s", err, body)
	}
	n := len(r.requests) + 1
	r.requests = append(r.requests, d) // in the order they arrive
	answer := r.answer
	r.mu.Unlock()
	d.Status = http.StatusOK
	rec := httptest.NewRecorder()
	if answer != nil && answer(n, rec) {
		d.Status = rec.Code
		if rec.Header().Get("X-Test-Hijack") != "" { // close the connection mid-answer
			d.Status = -1
		}
	}
	r.mu.Lock()
	r.requests[n-1].Status = d.Status
	if d.Status/100 == 2 {
		r.delivered = append(r.delivered, d)
	}
	r.mu.Unlock()
	switch {
	case d.Status == -1:
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err == nil {
			_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"))
			_ = conn.Close()
		}
	default:
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(d.Status)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

func (r *receiver) set(secret string, answer func(n int, w http.ResponseWriter) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret, r.answer = secret, answer
}

func (r *receiver) snapshot() (requests, delivered []delivered) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests), slices.Clone(r.delivered)
}

// waitDelivered waits until n deliveries were answered 2xx.
func (r *receiver) waitDelivered(n int, within time.Duration) []delivered {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, got := r.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			reqs, _ := r.snapshot()
			r.t.Fatalf("%d of %d deliveries within %s (%d requests)", len(got), n, within, len(reqs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const createEndpoint = `mutation($in: CreateWebhookEndpointInput!) {
	createWebhookEndpoint(input: $in) { secret endpoint { id url state ownerId document } }
}`

type createdEndpoint struct {
	Secret   string `json:"secret"`
	Endpoint struct {
		ID       string `json:"id"`
		URL      string `json:"url"`
		State    string `json:"state"`
		OwnerID  string `json:"ownerId"`
		Document string `json:"document"`
	} `json:"endpoint"`
}

func (e *env) endpoint(c *testutil.Client, in map[string]any) createdEndpoint {
	e.t.Helper()
	var out struct {
		CreateWebhookEndpoint createdEndpoint `json:"createWebhookEndpoint"`
	}
	c.MustData(createEndpoint, map[string]any{"in": in}, &out)
	return out.CreateWebhookEndpoint
}

// webhookEnv is an app whose retries come quickly.
func webhookEnv(t *testing.T, b testutil.Backend, extra ...string) *env {
	return newEnv(t, b, append([]string{"WEBHOOK_RETRY_SCHEDULE=0s,100ms,100ms,100ms,100ms,100ms",
		"WEBHOOK_TIMEOUT=1s", "WEBHOOK_LEASE=10s", "SUBSCRIPTION_POLL_INTERVAL=200ms"}, extra...)...)
}

// eventIDs are the webhook-ids of deliveries in the order first
// received, as a receiver that deduplicates by webhook-id sees them (an
// attempt the sender gave up on, past its timeout, may still have been
// taken: at least once).
func eventIDs(ds []delivered) []string {
	var out []string
	for _, d := range ds {
		if !slices.Contains(out, d.ID) {
			out = append(out, d.ID)
		}
	}
	return out
}

// TestWebhookDeliveries: a partner's endpoint receives, signed, in commit
// order, the events of its customers only, shaped by its document; a
// receiver that fails (500, 429 with Retry-After, a connection closed
// mid-answer, a timeout) gets them all once it is back, in order, with
// the same webhook-id on every attempt; 410 fails that delivery for good
// and the next ones go on.
func TestWebhookDeliveries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b)
		rcv := newReceiver(t)
		partner := e.gql.As(e.key(auth.RolePartner, activeCustomer))
		ep := e.endpoint(partner, map[string]any{
			"url": rcv.srv.URL + "/hooks", "description": "ERP connector",
			"document": `subscription { shipmentEvents { cursor node { id status shipment { reference customer { id } } } } }`,
		})
		if !strings.HasPrefix(ep.Secret, "whsec_") || ep.Endpoint.State != "ENABLED" {
			t.Fatalf("created: %+v", ep)
		}
		// The receiver fails in every way it can before it takes them.
		var retryAfterAt time.Time
		rcv.set(ep.Secret, func(n int, w http.ResponseWriter) bool {
			switch n {
			case 1:
				w.WriteHeader(http.StatusInternalServerError)
			case 2:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				retryAfterAt = time.Now()
			case 3:
				w.Header().Set("X-Test-Hijack", "1") // the connection closes mid-answer
			case 4:
				time.Sleep(1500 * time.Millisecond) // past WEBHOOK_TIMEOUT
			case 6:
				w.WriteHeader(http.StatusGone) // final for that delivery
			default:
				return false
			}
			return true
		})
		mine := e.create(createInput(activeCustomer, "DHL"))
		other := e.create(createInput(otherActiveCustomer, "UPS"))
		var want []string
		for i, st := range []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"} {
			at := fmt.Sprintf("2026-12-01T10:0%d:00Z", i)
			r := e.addEvent(mine.ID, st, at)
			if len(r.Errors) > 0 {
				t.Fatalf("add event: %s", r.Raw)
			}
			var ev struct {
				AddTrackingEvent struct{ ID string } `json:"addTrackingEvent"`
			}
			if err := json.Unmarshal(r.Data, &ev); err != nil {
				t.Fatal(err)
			}
			want = append(want, ev.AddTrackingEvent.ID)
			if r := e.addEvent(other.ID, st, at); len(r.Errors) > 0 {
				t.Fatalf("add event: %s", r.Raw)
			}
		}
		// The 410 fails the delivery it answered: that event is not in the
		// 2xx ones, the others are, in order.
		rcv.waitDelivered(len(want), 30*time.Second) // the timed-out one counts twice
		time.Sleep(300 * time.Millisecond)           // anything more would be a duplicate or a stray
		requests, got := rcv.snapshot()
		for _, r := range requests {
			if r.Verify != nil {
				t.Errorf("request %s: signature: %v", r.ID, r.Verify)
			}
		}
		// Requests 1-5 are the first event (500, 429, cut, timeout, 200):
		// the same webhook-id every time.
		for i := 1; i < 5; i++ {
			if requests[i].ID != requests[0].ID {
				t.Errorf("attempt %d of the first event: webhook-id %s, want %s", i+1, requests[i].ID, requests[0].ID)
			}
		}
		if requests[2].At.Sub(retryAfterAt) < 900*time.Millisecond {
			t.Errorf("Retry-After: 1 not honoured: next attempt %s later", requests[2].At.Sub(retryAfterAt))
		}
		var gone string
		for _, r := range requests {
			if r.Status == http.StatusGone {
				gone = r.ID
			}
		}
		wantDelivered := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id == gone })
		if !slices.Equal(eventIDs(got), wantDelivered) {
			t.Fatalf("delivered %v, want %v (in commit order, the 410'd %s left out)", eventIDs(got), wantDelivered, gone)
		}
		for _, d := range got {
			if d.Body.Type != "shipment.tracking_event" || d.Body.ID != d.ID || d.Body.Timestamp.IsZero() {
				t.Errorf("envelope: %+v", d.Body)
			}
			var data struct {
				ShipmentEvents struct {
					Cursor string
					Node   struct {
						ID       string
						Shipment struct {
							Reference string
							Customer  struct{ ID string }
						}
					}
				} `json:"shipmentEvents"`
			}
			if err := json.Unmarshal(d.Body.Data, &data); err != nil {
				t.Fatal(err)
			}
			if data.ShipmentEvents.Node.ID != d.ID || data.ShipmentEvents.Node.Shipment.Reference != mine.Reference ||
				data.ShipmentEvents.Node.Shipment.Customer.ID != customerID(activeCustomer) || data.ShipmentEvents.Cursor == "" {
				t.Errorf("data: %s", d.Body.Data)
			}
		}
		// The log tells the same story.
		var log struct {
			WebhookDeliveries struct {
				Edges []struct {
					Node struct {
						MessageID    string
						Status       string
						AttemptCount int
						Attempts     []struct {
							StatusCode *int
							Error      *string
							Response   *string
						}
					}
				}
			} `json:"webhookDeliveries"`
		}
		partner.MustData(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 10) { edges { node {
			messageId status attemptCount attempts { statusCode error response } } } } }`, map[string]any{"id": ep.Endpoint.ID}, &log)
		edges := log.WebhookDeliveries.Edges
		if len(edges) != len(want) {
			t.Fatalf("log: %d deliveries, want %d", len(edges), len(want))
		}
		first := edges[len(edges)-1].Node // newest first
		if first.Status != "SUCCEEDED" || first.AttemptCount != 5 || len(first.Attempts) != 5 ||
			*first.Attempts[0].StatusCode != 500 || *first.Attempts[1].StatusCode != 429 ||
			first.Attempts[2].Error == nil || first.Attempts[3].Error == nil || *first.Attempts[4].StatusCode != 200 {
			t.Errorf("first delivery's log: %+v", first)
		}
		for _, ed := range edges {
			if ed.Node.MessageID == gone && ed.Node.Status != "FAILED" {
				t.Errorf("the 410'd delivery is %s, want FAILED", ed.Node.Status)
			}
		}
	})
}

// TestWebhookNodeReceiver: deliveries verified by an independent
// implementation, the standardwebhooks npm package in Node
// (internal/whsign/testdata/verifier/receiver.mjs, README's JavaScript
// receiver), which answers 400 to any delivery it cannot verify: every
// event reaches it, in order, before and after a secret rotation (two
// signatures: the receiver knows only the new secret, then only the old).
func TestWebhookNodeReceiver(t *testing.T) {
	dir := filepath.Join("..", "whsign", "testdata", "verifier")
	if _, err := exec.LookPath("node"); err != nil {
		testutil.SkipOrFail(t, "node is not installed: SKIPPED")
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		testutil.SkipOrFail(t, "npm ci --prefix internal/whsign/testdata/verifier has not run: SKIPPED")
		return
	}
	e := webhookEnv(t, testutil.SQLite)
	addr := testutil.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	ep := e.endpoint(e.gql, map[string]any{"url": "http://" + addr + "/hooks"})
	var mu sync.Mutex
	var seen []string
	start := func(secret string) func() {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, "node", "receiver.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "PORT="+port)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "event "); ok {
					mu.Lock()
					seen = append(seen, strings.Fields(id)[0])
					mu.Unlock()
				}
			}
		}()
		return func() { cancel(); <-done; _ = cmd.Wait() }
	}
	waitSeen := func(n int) []string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			got := slices.Clone(seen)
			mu.Unlock()
			if len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("the node receiver verified %d of %d deliveries", len(got), n)
			}
		}
	}
	sh := e.create(createInput(activeCustomer, "DHL"))
	var want []string
	event := func(st, at string) {
		r := e.addEvent(sh.ID, st, at)
		var ev struct {
			AddTrackingEvent struct{ ID string } `json:"addTrackingEvent"`
		}
		if err := json.Unmarshal(r.Data, &ev); err != nil || ev.AddTrackingEvent.ID == "" {
			t.Fatalf("add event: %s", r.Raw)
		}
		want = append(want, ev.AddTrackingEvent.ID)
	}
	event("LABEL_CREATED", "2026-12-01T10:00:00Z") // before the receiver is up: retried
	stop := start(ep.Secret)
	event("IN_TRANSIT", "2026-12-01T11:00:00Z")
	waitSeen(2)
	stop()
	var rotated struct {
		RotateWebhookSecret struct{ Secret string } `json:"rotateWebhookSecret"`
	}
	e.gql.MustData(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": ep.Endpoint.ID}, &rotated)
	stop = start(rotated.RotateWebhookSecret.Secret) // knows only the new secret
	event("OUT_FOR_DELIVERY", "2026-12-01T12:00:00Z")
	waitSeen(3)
	stop()
	stop = start(ep.Secret) // knows only the old one, still signing for 24 hours
	defer stop()
	event("DELIVERED", "2026-12-01T13:00:00Z")
	got := waitSeen(4)
	if !slices.Equal(got, want) {
		t.Fatalf("the node receiver verified %v, want %v", got, want)
	}
}
