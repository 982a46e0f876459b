package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// instanceLease is WEBHOOK_LEASE of TestWebhookTakeoverAfterKill: the
// shortest the configuration takes with WEBHOOK_TIMEOUT=1s.
const instanceLease = 6 * time.Second

// TestWebhookTakeoverAfterKill runs two instances of the binary on the same
// main database (and Redis); an endpoint's deliveries go through both,
// never two at once. The instance in the middle of a delivery is then
// SIGKILLed: once its lease expires, and not before, the other instance
// takes the endpoint over and delivers every event, in commit order, none
// lost, the one in flight again with the same webhook-id; every signature
// verifies.
func TestWebhookTakeoverAfterKill(t *testing.T) {
	bin := testutil.Binary(t)
	for _, b := range testutil.All()[1:] { // one SQLite file is one process's
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			testutil.RequireRedis(t)
			webhookTakeover(t, bin, b)
		})
	}
}

func webhookTakeover(t *testing.T, bin string, b testutil.Backend) {
	mainDB, dolibarrDB := testutil.NewDatabase(t, b), testutil.NewDolibarr(t, b)
	redisHost, redisPort, _ := net.SplitHostPort(testutil.RedisAddr())
	env := append(append([]string{
		"APP_ENV=development", "LOG_LEVEL=warn", "DEMO_SEED=false", "DOLIBARR_DEMO_SEED=false",
		"RATE_LIMIT_IP_PER_MINUTE=0", "RATE_LIMIT_KEY_PER_MINUTE=0",
		"REDIS_HOST=" + redisHost, "REDIS_PORT=" + redisPort, fmt.Sprintf("REDIS_PREFIX=whinst%08x:", rand.Uint32()),
		// Both instances open the endpoints' secrets: one key ring.
		"WEBHOOK_SECRET_KEYS=" + strings.Repeat("7e", 32),
		"WEBHOOK_LEASE=" + instanceLease.String(), "WEBHOOK_TIMEOUT=1s",
		"WEBHOOK_RETRY_SCHEDULE=0s,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
		"SUBSCRIPTION_POLL_INTERVAL=200ms",
	}, mainDB.Env("DB")...), dolibarrDB.Env("DOLIBARR_DB")...)
	key := testutil.MigrateAndAdminKey(t, bin, env, "whinst")
	servers := make([]*testutil.Server, 2)
	clients := make([]*remoteClient, 2)
	for i := range servers {
		servers[i] = testutil.StartServer(t, bin, append(env, "APP_DATA_DIR="+t.TempDir())...)
		clients[i] = newRemoteClient(t, servers[i].URL(), key)
	}
	db := mainDB.Open(t)

	g := newGatedReceiver(t)
	var created struct {
		CreateWebhookEndpoint createdEndpoint `json:"createWebhookEndpoint"`
	}
	clients[0].mustData(createEndpoint, map[string]any{"in": map[string]any{"url": g.rcv.srv.URL + "/hooks"}}, &created)
	ep := created.CreateWebhookEndpoint
	// A short pause in every answer widens the window in which a second
	// instance would deliver at the same time, were the lease not held.
	g.rcv.set(ep.Secret, func(int, http.ResponseWriter) bool {
		time.Sleep(30 * time.Millisecond)
		return false
	})

	// Events committed through both instances, in turn: each of six
	// shipments is labelled, then in transit.
	var ships []string
	for i := range 6 {
		var sh struct {
			CreateShipment struct{ ID string } `json:"createShipment"`
		}
		clients[i%2].mustData(`mutation($in: CreateShipmentInput!) { createShipment(input: $in) { id } }`,
			map[string]any{"in": createInput(activeCustomer, "DHL")}, &sh)
		ships = append(ships, sh.CreateShipment.ID)
	}
	var want []string
	commit := func(n int) {
		t.Helper()
		statuses := []string{"LABEL_CREATED", "IN_TRANSIT"}
		for range n {
			i := len(want)
			var ev struct {
				AddTrackingEvent struct{ ID string } `json:"addTrackingEvent"`
			}
			clients[i%2].mustData(`mutation($id: ID!, $in: TrackingEventInput!) { addTrackingEvent(shipmentId: $id, input: $in) { id } }`,
				map[string]any{"id": ships[i%len(ships)], "in": map[string]any{"status": statuses[i/len(ships)], "occurredAt": at(i)}}, &ev)
			want = append(want, ev.AddTrackingEvent.ID)
		}
	}

	// Both instances running, every event is received once, in order, one
	// request at a time: a burst both compete for, then events one by one,
	// once the endpoint is let go, each through the other instance (whose
	// hub hears of it first, so the endpoint usually changes hands).
	commit(4)
	g.waitEvents(want, 30*time.Second)
	for range 4 {
		waitReleased(t, db)
		commit(1)
		g.waitEvents(want, 30*time.Second)
	}
	if n := instancesAttempting(t, db); n < 2 {
		t.Logf("only %d instance delivered while both ran (the lease never changed hands)", n)
	}

	// The next request is held; the instance sending it is killed.
	g.holdRequests(true)
	commit(4)
	victim, held, killedAt, victimName := -1, (*heldRequest)(nil), time.Time{}, ""
	for deadline := time.Now().Add(30 * time.Second); victim < 0; {
		var h *heldRequest
		select {
		case h = <-g.held:
		case <-time.After(time.Until(deadline)):
			t.Fatal("no delivery reached the receiver within 30 s")
		}
		owner := leaseOwner(t, db)
		select {
		case <-h.gone:
			// The sender gave up on it (WEBHOOK_TIMEOUT) before the lease
			// was read: the owner read may be another's. Hold the next.
			t.Logf("held request %s timed out before the kill; holding the next", h.ID)
			continue
		default:
		}
		// The lease was read while the request was in flight: its owner is
		// the sender (a lease outlasts an attempt).
		pid := leasePID(t, owner)
		for i, s := range servers {
			if s.PID() == pid {
				victim = i
			}
		}
		if victim < 0 {
			t.Fatalf("the lease owner %q is neither instance (pids %d, %d)", owner, servers[0].PID(), servers[1].PID())
		}
		if err := servers[victim].Kill(); err != nil {
			t.Fatal(err)
		}
		held, killedAt, victimName = h, time.Now(), owner
	}
	if err := servers[victim].Wait(10 * time.Second); err == nil || strings.Contains(err.Error(), "still running") {
		t.Fatalf("instance %d after SIGKILL: %v", victim, err)
	}
	select {
	case <-held.gone:
	case <-time.After(10 * time.Second):
		t.Fatalf("the held request of %s is still connected 10 s after its sender was killed", held.ID)
	}
	g.holdRequests(false)
	survivor := 1 - victim
	t.Logf("killed instance %d (pid %d) in the middle of delivering %s", victim, servers[victim].PID(), held.ID)

	// The survivor takes over once the lease expires and delivers the rest.
	got := g.waitEvents(want, 30*time.Second)
	requests, _ := g.rcv.snapshot()
	// Unless the killed instance gave up on the held request (and let the
	// endpoint go) in the instant before the kill, its lease held: nothing
	// was sent until it expired.
	gaveUp := attemptsBy(t, db, b, victimName, held.ID) > 0
	if gaveUp {
		t.Logf("instance %d recorded its attempt of %s before it died: its lease was let go, not expired", victim, held.ID)
	}
	var again *delivered
	early := false
	for i, r := range requests {
		if r.At.After(killedAt) {
			if d := r.At.Sub(held.At); d < instanceLease-time.Second && !gaveUp && !early {
				early = true
				t.Errorf("the survivor sent %s %s after the held attempt: the lease (%s) of the killed instance did not hold", r.ID, d, instanceLease)
			}
			if r.ID == held.ID && r.Status/100 == 2 && again == nil {
				again = &requests[i]
				t.Logf("delivered again by the survivor %s after the held attempt", r.At.Sub(held.At).Round(time.Millisecond))
			}
		}
	}
	if again == nil {
		t.Errorf("the event in flight at the kill (%s) was not delivered again by the survivor", held.ID)
	}
	if !slices.Equal(eventIDs(got), want) {
		t.Errorf("delivered %v,\nwant     %v (every event, in commit order)", eventIDs(got), want)
	}
	for _, r := range requests {
		if r.Verify != nil {
			t.Errorf("request %s: signature: %v", r.ID, r.Verify)
		}
	}
	for _, h := range g.heldRequests() {
		if h.Verify != nil {
			t.Errorf("held request %s: signature: %v", h.ID, h.Verify)
		}
	}
	if n := g.maxInFlight(); n > 1 {
		t.Errorf("%d requests were in flight at once for the endpoint; want one at a time", n)
	}

	// The survivor's log: every delivery succeeded.
	var log struct {
		WebhookDeliveries struct {
			Edges []struct {
				Node struct {
					MessageID    string
					Status       string
					AttemptCount int
				}
			}
		} `json:"webhookDeliveries"`
	}
	clients[survivor].mustData(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 50) { edges { node { messageId status attemptCount } } } }`,
		map[string]any{"id": ep.Endpoint.ID}, &log)
	if len(log.WebhookDeliveries.Edges) != len(want) {
		t.Errorf("the log has %d deliveries, want %d", len(log.WebhookDeliveries.Edges), len(want))
	}
	for _, e := range log.WebhookDeliveries.Edges {
		if e.Node.Status != "SUCCEEDED" {
			t.Errorf("delivery %s is %s after %d attempts, want SUCCEEDED", e.Node.MessageID, e.Node.Status, e.Node.AttemptCount)
		}
	}
	logInstances(t, db)
}

// leaseOwner reads the lease owner of the (one) endpoint.
func leaseOwner(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var owner string
	if err := db.QueryRowContext(ctx, "SELECT lease_owner FROM webhook_endpoints").Scan(&owner); err != nil {
		t.Fatalf("read the endpoint's lease: %v", err)
	}
	return owner
}

// waitReleased waits until no instance holds the endpoint's lease.
func waitReleased(t *testing.T, db *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); leaseOwner(t, db) != ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the endpoint was not let go within 15 s of its last delivery")
		}
	}
}

// attemptsBy counts the attempts of the delivery of messageID that
// instance recorded.
func attemptsBy(t *testing.T, db *sql.DB, b testutil.Backend, instance, messageID string) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE a.instance = ? AND d.message_id = ?"
	if b.Driver == config.DriverPostgres {
		q = strings.Replace(strings.Replace(q, "?", "$1", 1), "?", "$2", 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, q, instance, messageID).Scan(&n); err != nil {
		t.Fatalf("count the attempts of %s: %v", instance, err)
	}
	return n
}

// leasePID is the process ID in a lease owner, host:pid:nonce.
func leasePID(t *testing.T, owner string) int {
	t.Helper()
	parts := strings.Split(owner, ":")
	if len(parts) < 3 {
		t.Fatalf("lease owner %q is not host:pid:nonce", owner)
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil {
		t.Fatalf("lease owner %q: pid: %v", owner, err)
	}
	return pid
}

// instancesAttempting counts the instances that recorded attempts.
func instancesAttempting(t *testing.T, db *sql.DB) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(DISTINCT instance) FROM webhook_attempts").Scan(&n); err != nil {
		t.Fatalf("count the instances attempting: %v", err)
	}
	return n
}

// logInstances logs which instances made the attempts (both, usually).
func logInstances(t *testing.T, db *sql.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT instance, COUNT(*) FROM webhook_attempts GROUP BY instance")
	if err != nil {
		t.Logf("attempts by instance: %v", err)
		return
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var inst string
		var n int
		if rows.Scan(&inst, &n) == nil {
			t.Logf("instance %s made %d attempts", inst, n)
		}
	}
}

// gatedReceiver is a receiver behind a gate that counts the requests in
// flight (from arrival until answered, or until the sender hangs up) and,
// while holding is on, holds each request until the sender hangs up or
// holding is turned off, telling the test about it on held.
type gatedReceiver struct {
	rcv  *receiver
	held chan *heldRequest

	mu       sync.Mutex
	hold     bool
	release  chan struct{} // closed when holding is turned off
	inFlight int
	peak     int
	holds    []*heldRequest
}

// heldRequest is a request the gate holds.
type heldRequest struct {
	ID     string
	At     time.Time
	Verify error
	// gone is closed when the sender hung up (gave up, or died).
	gone <-chan struct{}
}

func newGatedReceiver(t *testing.T) *gatedReceiver {
	g := &gatedReceiver{rcv: &receiver{t: t}, held: make(chan *heldRequest, 16), release: make(chan struct{})}
	g.rcv.srv = httptest.NewServer(g)
	t.Cleanup(g.rcv.srv.Close)
	t.Cleanup(func() { g.holdRequests(false) }) // before Close: no handler left waiting
	return g
}

// ServeHTTP implements http.Handler.
func (g *gatedReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// The body read to its end, the server notices a sender hanging up.
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	g.mu.Lock()
	g.inFlight++
	g.peak = max(g.peak, g.inFlight)
	hold, release := g.hold, g.release
	g.mu.Unlock()
	var once sync.Once
	leave := func() {
		once.Do(func() {
			g.mu.Lock()
			g.inFlight--
			g.mu.Unlock()
		})
	}
	defer leave()
	defer context.AfterFunc(req.Context(), leave)()
	if hold {
		g.rcv.mu.Lock()
		secret := g.rcv.secret
		g.rcv.mu.Unlock()
		h := &heldRequest{ID: req.Header.Get("webhook-id"), At: time.Now(), gone: req.Context().Done(),
			Verify: whsign.Verify(secret, req.Header, body, time.Now(), 5*time.Minute)}
		g.mu.Lock()
		g.holds = append(g.holds, h)
		g.mu.Unlock()
		select {
		case g.held <- h:
		default:
		}
		select {
		case <-req.Context().Done():
			return // the sender is gone: nobody to answer
		case <-release:
		}
	}
	g.rcv.serve(w, req)
}

// holdRequests turns holding on or off; off releases the requests held.
func (g *gatedReceiver) holdRequests(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hold && !on {
		close(g.release)
		g.release = make(chan struct{})
	}
	g.hold = on
}

func (g *gatedReceiver) heldRequests() []*heldRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.holds)
}

func (g *gatedReceiver) maxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

// waitEvents waits until every event of want was answered 2xx and returns
// the 2xx deliveries.
func (g *gatedReceiver) waitEvents(want []string, within time.Duration) []delivered {
	g.rcv.t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, got := g.rcv.snapshot()
		ids := eventIDs(got)
		missing := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return slices.Contains(ids, id) })
		if len(missing) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			reqs, _ := g.rcv.snapshot()
			g.rcv.t.Fatalf("%d of %d events delivered within %s (%d requests); missing %v", len(want)-len(missing), len(want), within, len(reqs), missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remoteClient posts GraphQL documents to a running server with a key.
type remoteClient struct {
	t    testing.TB
	base string
	key  string
	http *http.Client
}

func newRemoteClient(t testing.TB, base, key string) *remoteClient {
	return &remoteClient{t: t, base: base, key: key, http: &http.Client{Timeout: 30 * time.Second}}
}

// mustData posts query with vars, fails the test on any error, and decodes
// the data into out.
func (c *remoteClient) mustData(query string, vars map[string]any, out any) {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("post to %s: %v", c.base, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("query failed (HTTP %d): %s\nquery: %s", resp.StatusCode, raw, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			c.t.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}
