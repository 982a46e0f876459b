//go:build linux

package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// Fault injection against the real services (issue 10): each test runs the
// app in process on MariaDB, PostgreSQL, Redis and versitygw reached through
// testutil proxies it cuts, blackholes (half-open) or slows down, with load
// running meanwhile, and checks what a client sees and what the databases
// hold afterwards. Figures go to the test log (and to the file named by
// FAULT_FIGURES, one JSON line per test) for docs/RELIABILITY.md.

// faultApp starts the app on cfg behind an HTTP server.
func faultApp(t *testing.T, cfg []string, m, d testutil.Database) (*app.App, *httptest.Server, string) {
	t.Helper()
	a, err := app.New(context.Background(), testutil.Config(t, m, d, cfg...), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close(); a.Close() })
	return a, srv, newKey(t, a, auth.RoleAdmin)
}

// result is one request as a client saw it.
type result struct {
	status int
	codes  []string
	data   json.RawMessage
	raw    []byte
	took   time.Duration
	err    error // transport error (no HTTP response)
}

func (r result) ok() bool { return r.err == nil && r.status == http.StatusOK && len(r.codes) == 0 }

func (r result) String() string {
	if r.err != nil {
		return fmt.Sprintf("transport error after %s: %v", r.took.Round(time.Millisecond), r.err)
	}
	return fmt.Sprintf("HTTP %d after %s: %.300s", r.status, r.took.Round(time.Millisecond), r.raw)
}

// hit POSTs a GraphQL body with key; the client gives up after limit.
func hit(url, key string, body map[string]any, limit time.Duration) result {
	b, _ := json.Marshal(body)
	return hitRaw(url, key, "application/json", b, limit)
}

// hitRaw POSTs body of contentType (a multipart upload) to /graphql.
func hitRaw(url, key, contentType string, b []byte, limit time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Apollo-Require-Preflight", "true")
	req.Header.Set("Authorization", "Bearer "+key)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return result{err: err, took: time.Since(start)}
	}
	defer func() { _ = resp.Body.Close() }()
	out := result{status: resp.StatusCode}
	out.raw, out.err = io.ReadAll(resp.Body)
	out.took = time.Since(start)
	if ct, retry := resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"); resp.StatusCode == http.StatusServiceUnavailable &&
		out.err == nil && (!strings.HasPrefix(ct, "application/json") || retry == "") {
		out.err = fmt.Errorf("HTTP 503 without its headers: Content-Type %q, Retry-After %q", ct, retry)
	}
	var gr struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(out.raw, &gr); err != nil && out.err == nil {
		out.err = fmt.Errorf("decode %q: %w", out.raw, err)
	}
	out.data = gr.Data
	for _, e := range gr.Errors {
		code, _ := e.Extensions["code"].(string)
		out.codes = append(out.codes, code)
	}
	return out
}

func gqlBody(query string, vars map[string]any) map[string]any {
	return map[string]any{"query": query, "variables": vars}
}

// tally counts results by phase and outcome: "ok", or the error codes, or
// "transport".
type tally struct {
	mu     sync.Mutex
	counts map[string]map[string]int // phase -> outcome -> n
	// slowest failure, and slowest request, by phase
	slowest, longest map[string]time.Duration
	took             map[string][]time.Duration
	samples          map[string]result // one failure per phase and outcome, for messages
}

func newTally() *tally {
	return &tally{counts: map[string]map[string]int{}, slowest: map[string]time.Duration{}, longest: map[string]time.Duration{}, took: map[string][]time.Duration{}, samples: map[string]result{}}
}

func (t *tally) add(phase string, r result) {
	outcome := "ok"
	switch {
	case r.err != nil:
		outcome = "transport"
	case len(r.codes) > 0:
		codes := slices.Compact(slices.Sorted(slices.Values(r.codes)))
		outcome = strings.Join(codes, ",") + " " + strconv.Itoa(r.status)
	case r.status != http.StatusOK:
		outcome = strconv.Itoa(r.status)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[phase] == nil {
		t.counts[phase] = map[string]int{}
	}
	t.longest[phase] = max(t.longest[phase], r.took)
	t.took[phase] = append(t.took[phase], r.took)
	t.counts[phase][outcome]++
	if outcome != "ok" {
		t.slowest[phase] = max(t.slowest[phase], r.took)
		if _, seen := t.samples[phase+"/"+outcome]; !seen {
			t.samples[phase+"/"+outcome] = r
		}
	}
}

// slowestFailure is the longest a request of phase took to fail.
func (t *tally) slowestFailure(phase string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.slowest[phase]
}

// longestRequest is the longest a request of phase took.
func (t *tally) longestRequest(phase string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.longest[phase]
}

// median is the median time a request of phase took.
func (t *tally) median(phase string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := slices.Sorted(slices.Values(t.took[phase]))
	if len(d) == 0 {
		return 0
	}
	return d[len(d)/2]
}

// get returns phase's counts (a copy).
func (t *tally) get(phase string) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int{}
	for k, v := range t.counts[phase] {
		out[k] = v
	}
	return out
}

// failures returns phase's outcomes other than ok, with a sample each.
func (t *tally) failures(phase string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]string{}
	for k, n := range t.counts[phase] {
		if k != "ok" {
			out[k] = fmt.Sprintf("%d× e.g. %s", n, t.samples[phase+"/"+k])
		}
	}
	return out
}

func (t *tally) total(phase string) (n int) {
	for _, v := range t.get(phase) {
		n += v
	}
	return n
}

// load runs workers against the app until stop: each reads the shipment
// list (with customers, unless noCustomer) and walks new shipments through
// their statuses, remembering every acknowledged write. Results are counted
// under the current phase.
type load struct {
	t       *testing.T
	url     string
	key     string
	limit   time.Duration // client-side bound on a request
	reads   *tally
	writes  *tally
	phase   atomic.Value // string
	stopped chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	shipments map[int]bool // acknowledged creates
	events    map[int]int  // acknowledged tracking event -> its shipment
	readQuery string
}

const loadReadQuery = `{ shipments(first: 5) { totalCount edges { node { reference status customer { name } events(first: 2) { edges { node { status } } } } } } }`

var loadStatuses = []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"}

func startLoad(t *testing.T, url, key string, workers int, limit time.Duration) *load {
	l := &load{t: t, url: url, key: key, limit: limit, reads: newTally(), writes: newTally(),
		stopped: make(chan struct{}), shipments: map[int]bool{}, events: map[int]int{}, readQuery: loadReadQuery}
	l.phase.Store("before")
	for range workers {
		l.wg.Go(l.run)
	}
	t.Cleanup(l.stop)
	return l
}

func (l *load) setPhase(p string) { l.phase.Store(p) }

func (l *load) stop() {
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
	}
	l.wg.Wait()
}

func (l *load) running() bool {
	select {
	case <-l.stopped:
		return false
	default:
		return true
	}
}

func (l *load) run() {
	var current string // the shipment being walked, "" for a new one
	step := 0
	for l.running() {
		l.send(l.reads, gqlBody(l.readQuery, nil))
		if !l.running() {
			return
		}
		if current == "" {
			r := l.send(l.writes, gqlBody(`mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }`,
				map[string]any{"input": createInput(activeCustomer, "UPS")}))
			var out struct{ CreateShipment struct{ ID string } }
			if r.ok() && json.Unmarshal(r.data, &out) == nil {
				current, step = out.CreateShipment.ID, 0
				l.mu.Lock()
				l.shipments[localID(l.t, current)] = true
				l.mu.Unlock()
			}
		} else {
			r := l.send(l.writes, gqlBody(`mutation($id: ID!, $in: TrackingEventInput!) { addTrackingEvent(shipmentId: $id, input: $in) { id } }`,
				map[string]any{"id": current, "in": map[string]any{"status": loadStatuses[step], "occurredAt": time.Now().UTC().Format(time.RFC3339Nano)}}))
			var out struct{ AddTrackingEvent struct{ ID string } }
			if r.ok() && json.Unmarshal(r.data, &out) == nil {
				l.mu.Lock()
				l.events[localID(l.t, out.AddTrackingEvent.ID)] = localID(l.t, current)
				l.mu.Unlock()
				step++
			} else {
				step = len(loadStatuses) // unknown state: start a new shipment
			}
			if step == len(loadStatuses) {
				current = ""
			}
		}
		if !l.pause() {
			return
		}
	}
}

// send sends body and counts the result under the phase it ran in: one
// that saw the phase change (a fault injected or ended while it was in
// flight) counts under "edge".
func (l *load) send(to *tally, body map[string]any) result {
	before := l.phase.Load().(string)
	r := hit(l.url, l.key, body, l.limit)
	phase := l.phase.Load().(string)
	if phase != before {
		phase = "edge"
	}
	to.add(phase, r)
	return r
}

// inject runs fault as the phase changes to next: requests in flight across
// it count under "edge".
func (l *load) inject(fault func(), next string) {
	l.setPhase("edge")
	fault()
	l.setPhase(next)
}

// pause paces the workers a little so two cores are not saturated; false once stopped.
func (l *load) pause() bool {
	select {
	case <-l.stopped:
		return false
	case <-time.After(5 * time.Millisecond):
		return true
	}
}

func localID(t testing.TB, id string) int {
	g, err := gid.Parse(id)
	if err != nil {
		t.Errorf("bad id %q: %v", id, err)
		return 0
	}
	return g.Local
}

// during runs the load under phase for d.
func (l *load) during(phase string, d time.Duration) {
	l.setPhase(phase)
	time.Sleep(d)
}

// verifyWrites checks, on the primary, that every acknowledged write is there
// and that no write was applied in part: each shipment's version counts its
// status changes and its status is its last event's, the event seqs are
// gapless, and the seq counter is the last seq. It returns the rows checked.
func (l *load) verifyWrites(t *testing.T, client *ent.Client) (shipments, events int) {
	t.Helper()
	ctx := dbroute.UsePrimary(system()) // not a replica, which may lag
	l.mu.Lock()
	defer l.mu.Unlock()
	all, err := client.Shipment.Query().WithEvents(func(q *ent.TrackingEventQuery) { q.Order(ent.Asc(trackingevent.FieldSeq)) }).All(ctx)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	byID := map[int]*ent.Shipment{}
	eventOf := map[int]int{}
	var seqs []int64
	for _, s := range all {
		byID[s.ID] = s
		for _, e := range s.Edges.Events {
			eventOf[e.ID] = s.ID
			seqs = append(seqs, e.Seq)
		}
		status := "DRAFT"
		if n := len(s.Edges.Events); n > 0 {
			status = string(s.Edges.Events[n-1].Status)
		}
		if string(s.Status) != status || s.Version != 1+len(s.Edges.Events) {
			t.Errorf("half-applied mutation: shipment %d is %s version %d with %d events (last %s)", s.ID, s.Status, s.Version, len(s.Edges.Events), status)
		}
	}
	for id := range l.shipments {
		if byID[id] == nil {
			t.Errorf("acknowledged shipment %d is not in the database", id)
		}
	}
	for id, sh := range l.events {
		if eventOf[id] != sh {
			t.Errorf("acknowledged tracking event %d (shipment %d) is not in the database", id, sh)
		}
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Errorf("tracking event seqs have a gap or a duplicate at %d: %v", i, seqs[max(0, i-2):min(len(seqs), i+3)])
			break
		}
	}
	// The counter moves in the event's transaction: never past the last event.
	if seq, err := client.Sequence.Get(ctx, shipping.SeqTrackingEvents); err == nil && seq.Value != int64(len(seqs)) {
		t.Errorf("the seq counter is %d with %d events", seq.Value, len(seqs))
	} else if err != nil && !ent.IsNotFound(err) {
		t.Errorf("read the seq counter: %v", err)
	}
	return len(l.shipments), len(l.events)
}

// figures records a test's figures in its log and, with FAULT_FIGURES set,
// as a JSON line in that file.
func figures(t *testing.T, f map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"test": t.Name(), "figures": f})
	t.Logf("figures: %s", b)
	if path := os.Getenv("FAULT_FIGURES"); path != "" {
		fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Errorf("figures: %v", err)
			return
		}
		defer func() { _ = fh.Close() }()
		_, _ = fh.Write(append(b, '\n'))
	}
}

// metric returns the sum of the samples of name (whose labels contain
// every one of labels) in a /metrics exposition.
func metric(t *testing.T, url, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	for line := range strings.Lines(string(b)) {
		m := re.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(m[1], l)
		}
		if match {
			v, _ := strconv.ParseFloat(m[2], 64)
			sum += v
		}
	}
	return sum
}

func shaHex(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// waitUntil polls cond for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", d, what)
		}
	}
}

// TestFaultPrimaryDown: the primary goes away under load and comes back.
// While it is away every request fails fast — well before
// HTTP_REQUEST_TIMEOUT — with UNAVAILABLE and HTTP 503; once it is back the
// same app instance serves again; every acknowledged write is in the
// database and none was applied in part (in-flight transactions were cut).
func TestFaultPrimaryDown(t *testing.T) {
	for _, b := range testutil.All()[1:] {
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			mainDB := testutil.NewDatabase(t, b)
			proxy := testutil.NewProxy(t, fmt.Sprintf("%s:%d", b.Host, b.Port))
			const timeout = 5 * time.Second
			a, srv, key := faultApp(t, []string{"HTTP_REQUEST_TIMEOUT=" + timeout.String()}, through(mainDB, proxy), testutil.NewDolibarr(t, testutil.SQLite))
			l := startLoad(t, srv.URL, key, 3, 2*timeout)
			l.during("before", time.Second)

			l.inject(proxy.Cut, "down")
			time.Sleep(2 * time.Second)
			l.inject(proxy.Restore, "recovering")
			start := time.Now()
			waitUntil(t, 10*time.Second, "the app serves again", func() bool {
				return hit(srv.URL, key, gqlBody(`{ shipments { totalCount } }`, nil), timeout).ok()
			})
			recovered := time.Since(start)
			l.during("after", 2*time.Second)
			l.stop()

			for _, phase := range []string{"before", "after"} {
				if f := l.reads.failures(phase); len(f) > 0 {
					t.Errorf("reads %s the fault: %v", phase, f)
				}
				if f := l.writes.failures(phase); len(f) > 0 {
					t.Errorf("writes %s the fault: %v", phase, f)
				}
				if l.reads.get(phase)["ok"] == 0 || l.writes.get(phase)["ok"] == 0 {
					t.Errorf("no load %s the fault: reads %v writes %v", phase, l.reads.get(phase), l.writes.get(phase))
				}
			}
			down := l.reads.get("down")
			for k, v := range l.writes.get("down") {
				down[k] += v
			}
			want := "UNAVAILABLE 503"
			if down[want] == 0 || len(down) != 1 {
				t.Errorf("with the primary down: %v, want only %q; %v %v", down, want, l.reads.failures("down"), l.writes.failures("down"))
			}
			// Requests cut in flight: served, or refused cleanly (whole, or
			// the fields still to resolve: partial data, HTTP 200).
			for _, tl := range []*tally{l.reads, l.writes} {
				for k := range tl.failures("edge") {
					if k != want && k != "UNAVAILABLE 200" {
						t.Errorf("a request in flight when the primary went away: %s", tl.failures("edge")[k])
					}
				}
			}
			slowest := max(l.reads.slowestFailure("down"), l.writes.slowestFailure("down"))
			if slowest > time.Second {
				t.Errorf("a request took %s to fail with the primary down: not fast (timeout %s)", slowest, timeout)
			}
			shipments, events := l.verifyWrites(t, a.Client)
			figures(t, map[string]any{
				"faults": proxy.Faults(), "failedFast": down[want], "slowestFailureMs": slowest.Milliseconds(),
				"recoveredMs":    recovered.Milliseconds(),
				"servedBefore":   l.reads.get("before")["ok"] + l.writes.get("before")["ok"],
				"servedAfter":    l.reads.get("after")["ok"] + l.writes.get("after")["ok"],
				"writesVerified": shipments + events,
			})
		})
	}
}

// TestFaultReplica: the replica goes away (cut), hangs (half-open) and lags
// (replication stopped) under load: no request fails, reads move to the
// primary, and come back to the replica once it is healthy again.
func TestFaultReplica(t *testing.T) {
	mainDB := testutil.NewReplicatedDatabase(t)
	replica := testutil.Replica()
	proxy := testutil.NewProxy(t, fmt.Sprintf("%s:%d", replica.Host, replica.Port))
	const timeout = 2 * time.Second
	a, srv, key := faultApp(t, []string{
		"DB_READ_HOST=" + proxy.Addr(), "DB_REPLICA_MAX_LAG=1s", "DB_REPLICA_CHECK_INTERVAL=100ms",
		"DB_READ_YOUR_WRITES=0s", "HTTP_REQUEST_TIMEOUT=" + timeout.String(),
	}, mainDB, testutil.NewDolibarr(t, testutil.SQLite))
	t.Cleanup(func() { testutil.ReplicaSQL(t, "START SLAVE") })
	// The statements the requests send to the replica (the heartbeat's are
	// not counted).
	var toReplica atomic.Int64
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := dbroute.WithCounter(r.Context())
		a.Handler.ServeHTTP(w, r.WithContext(ctx))
		toReplica.Add(int64(c.Get(dbroute.TargetReplica)))
	})
	rep := a.Router.Replicas()[0]
	healthy := func() { waitUntil(t, 15*time.Second, "the replica is in the read path", rep.Healthy) }
	replicaReads := func() int64 { return toReplica.Load() }
	healthy()
	l := startLoad(t, srv.URL, key, 3, 2*timeout)
	l.during("before", time.Second)
	if replicaReads() == 0 {
		t.Fatal("no read went to the replica before the faults")
	}

	faults := []struct {
		name          string
		inject, clear func()
	}{
		{"down", proxy.Cut, proxy.Restore},
		{"half-open", proxy.Blackhole, proxy.Restore},
		{"lagging", func() { testutil.ReplicaSQL(t, "STOP SLAVE") }, func() { testutil.ReplicaSQL(t, "START SLAVE") }},
	}
	moved := map[string]time.Duration{}
	for _, f := range faults {
		start := time.Now()
		l.inject(f.inject, f.name)
		waitUntil(t, 10*time.Second, "the "+f.name+" replica leaves the read path", func() bool { return !rep.Healthy() })
		moved[f.name] = time.Since(start)
		// Out of the read path: reads go to the primary only. Longer than
		// the request timeout, so that a read stuck on the half-open
		// replica would have failed.
		time.Sleep(200 * time.Millisecond)
		before := replicaReads()
		time.Sleep(timeout + time.Second)
		if n := replicaReads() - before; n > 0 {
			t.Errorf("%s: %v statements went to the replica out of the read path", f.name, n)
		}
		l.inject(f.clear, "recovering")
		healthy()
		l.setPhase("between")
	}
	l.during("after", time.Second)
	l.stop()
	served := 0
	for _, phase := range []string{"before", "edge", "down", "half-open", "lagging", "recovering", "between", "after"} {
		for _, tl := range []*tally{l.reads, l.writes} {
			if f := tl.failures(phase); len(f) > 0 {
				t.Errorf("%s: requests failed: %v", phase, f)
			}
			served += tl.get(phase)["ok"]
		}
	}
	if slow := l.reads.slowest; len(slow) > 0 {
		t.Logf("slowest failures: %v", slow)
	}
	shipments, events := l.verifyWrites(t, a.Client)
	figures(t, map[string]any{
		"faults": proxy.Faults() + 1, "servedDuringFaults": l.reads.get("down")["ok"] + l.reads.get("half-open")["ok"] + l.reads.get("lagging")["ok"] +
			l.writes.get("down")["ok"] + l.writes.get("half-open")["ok"] + l.writes.get("lagging")["ok"],
		"served": served, "movedToPrimaryMs": map[string]int64{"down": moved["down"].Milliseconds(), "half-open": moved["half-open"].Milliseconds(), "lagging": moved["lagging"].Milliseconds()},
		"writesVerified": shipments + events,
	})
}

// TestFaultDolibarr: Dolibarr goes away (cut) and hangs (half-open) under
// load: shipments are still served, each customer field null with its own
// DOLIBARR_UNAVAILABLE error (HTTP 200); a hung Dolibarr costs a request
// about twice DOLIBARR_DB_TIMEOUT, not its deadline; creating a shipment (which must
// check its customer) is refused cleanly; everything is back after.
func TestFaultDolibarr(t *testing.T) {
	m := testutil.All()[1]
	testutil.Require(t, m)
	dol := testutil.NewDolibarr(t, m)
	proxy := testutil.NewProxy(t, fmt.Sprintf("%s:%d", m.Host, m.Port))
	const dolTimeout, timeout = time.Second, 5 * time.Second
	a, srv, key := faultApp(t, []string{"DOLIBARR_DB_TIMEOUT=" + dolTimeout.String(), "HTTP_REQUEST_TIMEOUT=" + timeout.String()},
		testutil.NewDatabase(t, m), through(dol, proxy))
	l := startLoad(t, srv.URL, key, 3, 2*timeout)
	l.during("before", time.Second)
	partial := map[string]int{}
	for _, f := range []struct {
		name   string
		inject func()
	}{{"down", proxy.Cut}, {"half-open", proxy.Blackhole}} {
		l.inject(f.inject, f.name)
		time.Sleep(dolTimeout + time.Second)
		// One request looked at closely: partial data, per-field errors.
		r := hit(srv.URL, key, gqlBody(`{ shipments(first: 3) { edges { node { reference customer { name } } } } }`, nil), timeout)
		var out struct {
			Shipments struct {
				Edges []struct {
					Node struct {
						Reference string
						Customer  *struct{ Name string }
					}
				}
			}
		}
		var errs struct {
			Errors []struct {
				Path       []any
				Extensions map[string]any
			}
		}
		_ = json.Unmarshal(r.data, &out)
		_ = json.Unmarshal(r.raw, &errs)
		if r.status != http.StatusOK || len(out.Shipments.Edges) == 0 || len(errs.Errors) != len(out.Shipments.Edges) {
			t.Errorf("%s: want shipments with one error per customer: %s", f.name, r)
		}
		for _, e := range out.Shipments.Edges {
			if e.Node.Reference == "" || e.Node.Customer != nil {
				t.Errorf("%s: edge %+v", f.name, e.Node)
			}
		}
		for _, e := range errs.Errors {
			if e.Extensions["code"] != "DOLIBARR_UNAVAILABLE" || len(e.Path) != 5 || e.Path[4] != "customer" {
				t.Errorf("%s: error %+v", f.name, e)
			}
		}
		partial[f.name] = len(errs.Errors)
		l.inject(proxy.Restore, "after "+f.name)
		waitUntil(t, 10*time.Second, "customers are served again", func() bool {
			return hit(srv.URL, key, gqlBody(`{ shipments(first: 1) { edges { node { customer { name } } } } }`, nil), timeout).ok()
		})
		time.Sleep(500 * time.Millisecond)
	}
	l.stop()

	degraded := map[string]int{}
	for _, phase := range []string{"down", "half-open"} {
		reads, writes := l.reads.get(phase), l.writes.get(phase)
		for k, n := range reads {
			if k != "DOLIBARR_UNAVAILABLE 200" && k != "ok" {
				t.Errorf("%s: reads %s: %s", phase, k, l.reads.failures(phase)[k])
			}
			degraded["readsServed"] += n
		}
		for k, n := range writes {
			if k != "DOLIBARR_UNAVAILABLE 200" && k != "ok" {
				t.Errorf("%s: writes %s: %s", phase, k, l.writes.failures(phase)[k])
			}
			if k == "ok" {
				degraded["writesServed"] += n
			} else {
				degraded["createsRefused"] += n
			}
		}
		if reads["DOLIBARR_UNAVAILABLE 200"] == 0 {
			t.Errorf("%s: no read saw Dolibarr down: %v", phase, reads)
		}
		// DOLIBARR_DB_TIMEOUT bounds each network read: a request waits on
		// a hung Dolibarr about twice that (database/sql tries a second
		// connection after a broken one), far from its own deadline.
		if slow := max(l.reads.longestRequest(phase), l.writes.longestRequest(phase)); slow > 2*dolTimeout+time.Second {
			t.Errorf("%s: a request took %s with Dolibarr %s (DOLIBARR_DB_TIMEOUT %s)", phase, slow, phase, dolTimeout)
		}
	}
	for _, phase := range []string{"before", "after down", "after half-open"} {
		if f := l.reads.failures(phase); len(f) > 0 {
			t.Errorf("reads %s: %v", phase, f)
		}
		if f := l.writes.failures(phase); len(f) > 0 {
			t.Errorf("writes %s: %v", phase, f)
		}
	}
	shipments, events := l.verifyWrites(t, a.Client)
	figures(t, map[string]any{
		"faults": proxy.Faults(), "servedDegraded": degraded, "customerErrorsPerResponse": partial,
		"slowestDegradedMs": max(l.reads.longestRequest("half-open"), l.writes.longestRequest("half-open")).Milliseconds(),
		"writesVerified":    shipments + events,
	})
}

// TestFaultUploadCommitLost: the primary goes away right after it received
// the COMMIT of an upload's row, before its answer reaches the app (the
// soak test met it): the upload fails (UNAVAILABLE), but the row committed,
// so its object must stay — nothing may delete it on the failure. An object
// whose commit really failed is the sweeper's, once no row names it.
func TestFaultUploadCommitLost(t *testing.T) {
	m := testutil.All()[1]
	testutil.Require(t, m)
	proxy := testutil.NewProxy(t, fmt.Sprintf("%s:%d", m.Host, m.Port))
	a, srv, key := faultApp(t, nil, through(testutil.NewDatabase(t, m), proxy), testutil.NewDolibarr(t, testutil.SQLite))
	body, ct := labelUpload(t, srv.URL, key)
	proxy.CutAfter([]byte("COMMIT"))
	r := hitRaw(srv.URL, key, ct, body, 30*time.Second)
	if proxy.Faults() != 1 || len(r.codes) != 1 || r.codes[0] != "UNAVAILABLE" {
		t.Fatalf("an upload whose commit was cut (%d faults): %s", proxy.Faults(), r)
	}
	proxy.Restore()
	waitUntil(t, 10*time.Second, "the primary answers again", func() bool {
		return hit(srv.URL, key, gqlBody(`{ shipments { totalCount } }`, nil), 5*time.Second).ok()
	})
	rows, err := a.Client.File.Query().All(system())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d file rows, want the one whose commit reached the database", len(rows))
	}
	if _, _, err := a.Files.Store().Get(context.Background(), rows[0].StorageKey); err != nil {
		t.Errorf("file row %d has no object: %v", rows[0].ID, err)
	}
}

// labelUpload creates a shipment through url and returns the multipart body
// (and its Content-Type) of a label upload to it.
func labelUpload(t *testing.T, url, key string) ([]byte, string) {
	t.Helper()
	var sh struct{ CreateShipment struct{ ID string } }
	if r := hit(url, key, gqlBody(`mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }`,
		map[string]any{"input": createInput(activeCustomer, "UPS")}), 10*time.Second); !r.ok() || json.Unmarshal(r.data, &sh) != nil {
		t.Fatalf("create: %s", r)
	}
	ops, _ := json.Marshal(gqlBody(`mutation($s: ID!, $f: Upload!) { uploadShipmentFile(shipmentId: $s, kind: LABEL, file: $f) { id } }`,
		map[string]any{"s": sh.CreateShipment.ID, "f": nil}))
	return testutil.Multipart(t, testutil.Part{Name: "operations", Body: ops}, testutil.Part{Name: "map", Body: []byte(`{"0":["variables.f"]}`)},
		testutil.Part{Name: "0", FileName: "label.pdf", ContentType: "application/pdf", Body: samplePDF})
}

// TestFaultStorage: the file store (versitygw, S3) goes away (cut) and hangs
// (half-open) while files are uploaded: each upload fails cleanly
// (STORAGE_UNAVAILABLE, or TIMEOUT at FILE_UPLOAD_TIMEOUT), never later, and
// no file row exists without its object; uploads work again after.
func TestFaultStorage(t *testing.T) {
	store, storageEnv := testutil.NewS3Server(t)
	proxy := testutil.NewProxy(t, store.Addr())
	const uploadTimeout = 2 * time.Second
	cfg := append(storageEnv, "AWS_ENDPOINT=http://"+proxy.Addr(), "FILE_UPLOAD_TIMEOUT="+uploadTimeout.String())
	mainDB, dol := testutil.NewDatabase(t, testutil.SQLite), testutil.NewDolibarr(t, testutil.SQLite)
	a, srv, key := faultApp(t, cfg, mainDB, dol)
	// The same, with the default FILE_UPLOAD_TIMEOUT: what a store that
	// refuses connections answers when the deadline is far.
	patientCfg := append(slices.Clone(storageEnv), "AWS_ENDPOINT=http://"+proxy.Addr())
	_, patient, _ := faultApp(t, patientCfg, mainDB, dol)
	body, ct := labelUpload(t, srv.URL, key)

	uploads := newTally()
	var phase atomic.Value
	phase.Store("before")
	var mu sync.Mutex
	acked := map[int]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				p := phase.Load().(string)
				r := hitRaw(srv.URL, key, ct, body, 3*uploadTimeout)
				if phase.Load().(string) != p {
					p = "edge"
				}
				uploads.add(p, r)
				var out struct{ UploadShipmentFile struct{ ID string } }
				if r.ok() && json.Unmarshal(r.data, &out) == nil {
					mu.Lock()
					acked[localID(t, out.UploadShipmentFile.ID)] = true
					mu.Unlock()
				}
			}
		})
	}
	set := func(p string, fault func()) { phase.Store("edge"); fault(); phase.Store(p) }
	time.Sleep(time.Second)
	set("down", proxy.Cut)
	refused := hitRaw(patient.URL, key, ct, body, time.Minute)
	if len(refused.codes) != 1 || refused.codes[0] != "STORAGE_UNAVAILABLE" || refused.took > 15*time.Second {
		t.Errorf("an upload to a store that refuses connections, with a far deadline: %s", refused)
	}
	// Until uploads have run wholly while it is away.
	waitUntil(t, 20*time.Second, "uploads ran with the store down", func() bool { return uploads.total("down") >= 2 })
	set("back", proxy.Restore)
	// Until an upload has gone through again (a second on an idle machine).
	waitUntil(t, 20*time.Second, "an upload with the store back", func() bool { return uploads.get("back")["ok"] > 0 })
	set("half-open", proxy.Blackhole)
	waitUntil(t, 20*time.Second, "uploads ran with the store hung", func() bool { return uploads.total("half-open") >= 2 })
	set("after", proxy.Restore)
	waitUntil(t, 20*time.Second, "an upload after the faults", func() bool { return uploads.get("after")["ok"] > 0 })
	close(stop)
	wg.Wait()

	for _, p := range []string{"before", "back", "after"} {
		if f := uploads.failures(p); len(f) > 0 || uploads.get(p)["ok"] == 0 {
			t.Errorf("uploads %s: %v %v", p, uploads.get(p), f)
		}
	}
	clean := map[string]bool{"STORAGE_UNAVAILABLE 200": true, "TIMEOUT 200": true}
	for _, p := range []string{"down", "half-open", "edge"} {
		for k := range uploads.failures(p) {
			if !clean[k] {
				t.Errorf("uploads %s: not a clean failure: %s", p, uploads.failures(p)[k])
			}
		}
	}
	// A refused store is retried by the S3 client (3 attempts, jittered
	// backoff of up to seconds) before STORAGE_UNAVAILABLE; within a short
	// FILE_UPLOAD_TIMEOUT the upload's deadline may come first (TIMEOUT).
	if uploads.get("down")["ok"] > 0 || len(uploads.get("down")) == 0 {
		t.Errorf("uploads with the store down: %v", uploads.get("down"))
	}
	if uploads.get("half-open")["ok"] > 0 || len(uploads.get("half-open")) == 0 {
		t.Errorf("uploads with the store hung: %v", uploads.get("half-open"))
	}
	if slow := uploads.longestRequest("half-open"); slow > uploadTimeout+time.Second {
		t.Errorf("an upload to a hung store took %s (FILE_UPLOAD_TIMEOUT %s)", slow, uploadTimeout)
	}
	if slow := uploads.longestRequest("down"); slow > uploadTimeout+time.Second {
		t.Errorf("an upload to a store that is down took %s to fail (FILE_UPLOAD_TIMEOUT %s)", slow, uploadTimeout)
	}

	// No row without its object; every acknowledged upload has its row.
	rows, err := a.Client.File.Query().All(system())
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]bool{}
	if err := a.Files.Store().List(context.Background(), "", func(o storage.Info) error { objects[o.Key] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	ids := map[int]bool{}
	for _, f := range rows {
		ids[f.ID] = true
		if !objects[f.StorageKey] {
			t.Errorf("file row %d has no object %s", f.ID, f.StorageKey)
		}
	}
	for id := range acked {
		if !ids[id] {
			t.Errorf("acknowledged upload %d has no row", id)
		}
	}
	figures(t, map[string]any{
		"faults": proxy.Faults(), "uploadsServed": uploads.get("before")["ok"] + uploads.get("back")["ok"] + uploads.get("after")["ok"],
		"refusedDown": uploads.get("down"), "refusedHung": uploads.get("half-open"), "edge": uploads.get("edge"),
		"slowestHungMs": uploads.longestRequest("half-open").Milliseconds(), "refusedFarDeadlineMs": refused.took.Milliseconds(),
		"rowsVerified": len(rows), "objects": len(objects),
	})
}

// subscriber collects the shipmentEvents of a websocket subscription.
type subscriber struct {
	ws   *testutil.WS
	mu   sync.Mutex
	got  []eventEdge
	errs []string
	done chan struct{}
}

func subscribeEvents(t *testing.T, url, key string, after string) *subscriber {
	t.Helper()
	ws := testutil.MustDialWS(t, url, "graphql-transport-ws")
	ws.Init(bearer(key))
	vars := map[string]any{}
	if after != "" {
		vars["after"] = after
	}
	subscribe(ws, false, "1", eventsSubscription, vars)
	s := &subscriber{ws: ws, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			m, err := ws.Read(time.Minute)
			if err != nil {
				return
			}
			var out struct {
				Data struct {
					ShipmentEvents eventEdge `json:"shipmentEvents"`
				} `json:"data"`
			}
			s.mu.Lock()
			if m.Type == "next" && json.Unmarshal(m.Payload, &out) == nil {
				s.got = append(s.got, out.Data.ShipmentEvents)
			} else {
				s.errs = append(s.errs, fmt.Sprintf("%s %s", m.Type, m.Payload))
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *subscriber) errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

func (s *subscriber) edges() []eventEdge {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// TestFaultRedis: Redis (a private redis-server behind a proxy) goes away
// (cut) and hangs (half-open) under load on one of two instances, while a
// subscriber listens on the other: queries and mutations keep succeeding,
// APQ and the rate limits fall back to each instance (counted at /metrics),
// requests are not held past REDIS_TIMEOUT; the subscriber receives every
// committed event in order, once (the poll delivers while Redis is away);
// a subscriber that left during the outage resumes with its cursor and gets
// exactly what it missed.
func TestFaultRedis(t *testing.T) {
	m := testutil.All()[1]
	testutil.Require(t, m)
	redisSrv := testutil.NewRedisServer(t)
	proxy := testutil.NewProxy(t, redisSrv.Addr())
	mainDB, dol := testutil.NewDatabase(t, m), testutil.NewDolibarr(t, testutil.SQLite)
	cfg := []string{
		"CACHE_DRIVER=redis", "REDIS_HOST=" + proxy.Host(), "REDIS_PORT=" + strconv.Itoa(proxy.Port()),
		"REDIS_TIMEOUT=100ms", "RATE_LIMIT_IP_PER_MINUTE=100000", "RATE_LIMIT_KEY_PER_MINUTE=100000",
		"SUBSCRIPTION_POLL_INTERVAL=500ms", "HTTP_REQUEST_TIMEOUT=5s",
	}
	a, srvA, key := faultApp(t, cfg, mainDB, dol)
	b, srvB, _ := faultApp(t, cfg, mainDB, dol)
	for _, x := range []*app.App{a, b} {
		select {
		case <-x.Live.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("live updates not ready")
		}
	}
	live := subscribeEvents(t, srvB.URL, key, "")
	leaver := subscribeEvents(t, srvB.URL, key, "")
	waitSubscribers(t, b, 2)

	l := startLoad(t, srvA.URL, key, 3, 10*time.Second)
	// APQ: a new document every time (its hash alone first), so every
	// request asks the shared cache.
	apq := newTally()
	var apqN atomic.Int64
	l.wg.Go(func() {
		for l.running() {
			q := fmt.Sprintf("query Q%d { shipments(first: 1) { totalCount } }", apqN.Add(1))
			ext := pq(shaHex(q), 1)
			phase := l.phase.Load().(string)
			r := hit(srvA.URL, key, map[string]any{"extensions": ext}, 10*time.Second)
			if len(r.codes) == 1 && r.codes[0] == "PERSISTED_QUERY_NOT_FOUND" {
				r = hit(srvA.URL, key, map[string]any{"extensions": ext, "query": q}, 10*time.Second)
			}
			if l.phase.Load().(string) != phase {
				phase = "edge"
			}
			apq.add(phase, r)
			time.Sleep(5 * time.Millisecond)
		}
	})
	l.during("before", time.Second)
	rlFallbacks := metric(t, srvA.URL, "shipmentapp_rate_limit_fallbacks_total")
	apqFallbacks := metric(t, srvA.URL, "shipmentapp_apq_fallbacks_total")

	var resumeAfter string
	for _, f := range []struct {
		name   string
		inject func()
	}{{"down", proxy.Cut}, {"half-open", proxy.Blackhole}} {
		l.inject(f.inject, f.name)
		if f.name == "down" {
			// A subscriber leaves while Redis is away, remembering its cursor.
			time.Sleep(500 * time.Millisecond)
			_ = leaver.ws.Conn.CloseNow()
			<-leaver.done
			if got := leaver.edges(); len(got) > 0 {
				resumeAfter = got[len(got)-1].Cursor
			}
		}
		time.Sleep(2 * time.Second)
		l.inject(proxy.Restore, "after "+f.name)
		if f.name == "down" {
			leaver = subscribeEvents(t, srvB.URL, key, resumeAfter)
		}
		time.Sleep(1500 * time.Millisecond)
	}
	l.stop()

	served := 0
	for _, phase := range []string{"before", "edge", "down", "after down", "half-open", "after half-open"} {
		for name, tl := range map[string]*tally{"reads": l.reads, "writes": l.writes, "APQ": apq} {
			if f := tl.failures(phase); len(f) > 0 {
				t.Errorf("%s %s: %v", name, phase, f)
			}
			served += tl.get(phase)["ok"]
		}
		if l.writes.get(phase)["ok"] == 0 && phase != "edge" {
			t.Errorf("no write succeeded %s", phase)
		}
	}
	if metric(t, srvA.URL, "shipmentapp_rate_limit_fallbacks_total") <= rlFallbacks {
		t.Error("the rate limits did not fall back to the instance while Redis was away")
	}
	if metric(t, srvA.URL, "shipmentapp_apq_fallbacks_total") <= apqFallbacks {
		t.Error("APQ did not fall back while Redis was away")
	}
	// Requests wait on a hung Redis at most REDIS_TIMEOUT per call.
	slowest := time.Duration(0)
	for _, tl := range []*tally{l.reads, l.writes, apq} {
		slowest = max(slowest, tl.longestRequest("half-open"))
	}
	if slowest > time.Second {
		t.Errorf("a request took %s with Redis half-open (REDIS_TIMEOUT 100ms)", slowest)
	}

	// Every committed event reached the subscribers, in order, once.
	events, err := a.Client.TrackingEvent.Query().Order(ent.Asc(trackingevent.FieldSeq)).All(dbroute.UsePrimary(system()))
	if err != nil {
		t.Fatal(err)
	}
	same := func(got []eventEdge, want []*ent.TrackingEvent) bool {
		if len(got) != len(want) {
			return false
		}
		for i, e := range want {
			if got[i].Node.Status != string(e.Status) || localID(t, got[i].Node.Shipment.ID) != e.ShipmentID {
				return false
			}
		}
		return true
	}
	waitUntil(t, 10*time.Second, fmt.Sprintf("the subscriber has the %d events", len(events)), func() bool { return len(live.edges()) >= len(events) })
	if got := live.edges(); !same(got, events) || len(live.errors()) > 0 {
		t.Errorf("the subscriber through the outages got %d events (errors %v), want the %d committed, in order, once", len(got), live.errors(), len(events))
	}
	skipped := 0
	if resumeAfter != "" {
		skipped = slices.IndexFunc(live.edges(), func(e eventEdge) bool { return e.Cursor == resumeAfter }) + 1
	}
	waitUntil(t, 10*time.Second, "the resumed subscriber has the events after its cursor", func() bool { return len(leaver.edges()) >= len(events)-skipped })
	if got := leaver.edges(); !same(got, events[skipped:]) {
		t.Errorf("resumed after %q: got %d events, want the %d after it", resumeAfter, len(got), len(events)-skipped)
	}
	shipments, evs := l.verifyWrites(t, a.Client)
	figures(t, map[string]any{
		"faults": proxy.Faults(), "served": served,
		"servedDuringFaults": l.reads.get("down")["ok"] + l.writes.get("down")["ok"] + apq.get("down")["ok"] +
			l.reads.get("half-open")["ok"] + l.writes.get("half-open")["ok"] + apq.get("half-open")["ok"],
		"slowestHalfOpenMs": slowest.Milliseconds(),
		"medianReadMs": map[string]int64{"before": l.reads.median("before").Milliseconds(), "down": l.reads.median("down").Milliseconds(),
			"half-open": l.reads.median("half-open").Milliseconds(), "after": l.reads.median("after half-open").Milliseconds()},
		"rateLimitFallbacks": metric(t, srvA.URL, "shipmentapp_rate_limit_fallbacks_total") - rlFallbacks,
		"apqFallbacks":       metric(t, srvA.URL, "shipmentapp_apq_fallbacks_total") - apqFallbacks,
		"eventsDelivered":    len(live.edges()),
		"eventsAfterResume":  len(leaver.edges()),
		"writesVerified":     shipments + evs,
	})
}

// TestFaultSlowDependencies: latency and half-open connections on the
// primary, Dolibarr and Redis (the replica's and the store's are in their own
// tests) under load: every request ends by its deadline (HTTP_REQUEST_TIMEOUT)
// with data or a clean error — TIMEOUT for the primary, partial data for
// Dolibarr, nothing for Redis, which is skipped after REDIS_TIMEOUT — and
// all is served again once the fault ends.
func TestFaultSlowDependencies(t *testing.T) {
	m := testutil.All()[1]
	testutil.Require(t, m)
	redisSrv := testutil.NewRedisServer(t)
	addr := fmt.Sprintf("%s:%d", m.Host, m.Port)
	proxies := map[string]*testutil.Proxy{
		"primary": testutil.NewProxy(t, addr), "dolibarr": testutil.NewProxy(t, addr), "redis": testutil.NewProxy(t, redisSrv.Addr()),
	}
	const timeout = 1500 * time.Millisecond
	a, srv, key := faultApp(t, []string{
		"HTTP_REQUEST_TIMEOUT=" + timeout.String(), "DOLIBARR_DB_TIMEOUT=400ms",
		"CACHE_DRIVER=redis", "REDIS_HOST=" + proxies["redis"].Host(), "REDIS_PORT=" + strconv.Itoa(proxies["redis"].Port()),
		"REDIS_TIMEOUT=100ms", "RATE_LIMIT_IP_PER_MINUTE=100000", "RATE_LIMIT_KEY_PER_MINUTE=100000",
	}, through(testutil.NewDatabase(t, m), proxies["primary"]), through(testutil.NewDolibarr(t, m), proxies["dolibarr"]))
	l := startLoad(t, srv.URL, key, 3, 4*timeout)
	l.during("before", 500*time.Millisecond)

	timedOut := func(k string) bool { return strings.HasPrefix(k, "TIMEOUT ") }
	dolibarr := func(k string) bool { return k == "DOLIBARR_UNAVAILABLE 200" }
	figs := map[string]any{}
	for _, c := range []struct {
		dep, fault string
		delay      time.Duration // 0: blackhole
		allowed    func(outcome string) bool
	}{
		{"primary", "latency 300ms", 300 * time.Millisecond, timedOut},
		{"primary", "half-open", 0, timedOut},
		{"dolibarr", "latency 1s", time.Second, dolibarr},
		{"dolibarr", "half-open", 0, dolibarr},
		{"redis", "latency 300ms", 300 * time.Millisecond, nil},
		{"redis", "half-open", 0, nil},
	} {
		name := c.dep + " " + c.fault
		p := proxies[c.dep]
		l.inject(func() {
			if c.delay > 0 {
				p.Delay(c.delay)
			} else {
				p.Blackhole()
			}
		}, name)
		time.Sleep(2 * timeout)
		l.inject(p.Restore, "after "+name)
		waitUntil(t, 10*time.Second, "requests are served after "+name, func() bool {
			return hit(srv.URL, key, gqlBody(loadReadQuery, nil), 4*timeout).ok()
		})
		time.Sleep(300 * time.Millisecond)
		var longest time.Duration
		counts := map[string]int{}
		for _, tl := range []*tally{l.reads, l.writes} {
			longest = max(longest, tl.longestRequest(name))
			for k, n := range tl.get(name) {
				counts[k] += n
				if k != "ok" && (c.allowed == nil || !c.allowed(k)) {
					t.Errorf("%s: %s", name, tl.failures(name)[k])
				}
			}
			if f := tl.failures("after " + name); len(f) > 0 {
				t.Errorf("after %s: %v", name, f)
			}
		}
		// The deadline, plus what it takes to write the answer on a busy machine.
		if longest > timeout+500*time.Millisecond {
			t.Errorf("%s: a request took %s (HTTP_REQUEST_TIMEOUT %s)", name, longest, timeout)
		}
		figs[name] = map[string]any{"outcomes": counts, "longestMs": longest.Milliseconds()}
	}
	l.stop()
	shipments, events := l.verifyWrites(t, a.Client)
	faults := 0
	for _, p := range proxies {
		faults += p.Faults()
	}
	figs["faults"], figs["writesVerified"] = faults, shipments+events
	figures(t, figs)
}
