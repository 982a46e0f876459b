//go:build linux

package app_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// The soak test (issue 10): two instances of the app in process on one main
// database (MariaDB with its replica, or PostgreSQL: SOAK_DB), one Redis
// and one S3 store, each dependency behind a testutil.Proxy, under a mixed
// load of reads, writes, uploads and websocket subscriptions for
// SOAK_DURATION while faults are injected on a schedule. At the end, with
// every fault restored and the subscriptions drained: every acknowledged
// mutation is in the database and consistent, every committed event reached
// every subscriber (those that stayed and those that left and resumed by
// cursor) in order, once, every acknowledged upload has its row and its
// object, and the goroutines and the heap are back at their baseline once
// both instances are closed. `make soak` runs it; figures go to the log
// (and to FAULT_FIGURES) for docs/RELIABILITY.md.

// Tolerances of the return to baseline once both instances are closed:
// one goroutine (a leak of one per instance is two), and 4 MiB of heap
// (the run's own records are garbage by then; a warm-up instance has paid
// for what a process sets up once).
const (
	soakGoroutineSlack = 1
	soakHeapSlack      = 4 << 20 // bytes of HeapInuse
)

// The kinds of request the load sends.
var soakKinds = []string{"list", "byReference", "createShipment", "addTrackingEvent", "cancelShipment", "upload"}

// Error codes a request may end with while a dependency is faulty (or just
// after): anything else (INTERNAL, a transport error, a 5xx other than 503)
// fails the soak.
var soakAllowed = map[string]bool{
	"UNAVAILABLE": true, "TIMEOUT": true, "DOLIBARR_UNAVAILABLE": true, "STORAGE_UNAVAILABLE": true,
}

const soakEventsSubscription = `subscription($after: Cursor, $where: ShipmentEventsWhere) {
	shipmentEvents(after: $after, where: $where) { cursor node { id status shipment { id } } }
}`

// soakShipment is what the clients know of one shipment's writes.
type soakShipment struct {
	attempts, acks int  // mutations sent, and acknowledged
	version        int  // the version the last acknowledged one returned
	cancelled      bool // an acknowledged cancelShipment
}

// soakUpload is an acknowledged upload.
type soakUpload struct {
	sha  string
	size int
}

type soakRun struct {
	t       *testing.T
	urls    []string
	admin   string
	tallies map[string]*tally
	phase   atomic.Value // string
	stopped chan struct{}
	wg      sync.WaitGroup
	// writes records the acknowledged creates and tracking events, for
	// load.verifyWrites.
	writes *load

	mu        sync.Mutex
	shipments map[int]*soakShipment
	refs      []string
	uploads   map[int]soakUpload
}

func (s *soakRun) running() bool {
	select {
	case <-s.stopped:
		return false
	default:
		return true
	}
}

// pause waits d (false once stopped).
func (s *soakRun) pause(d time.Duration) bool {
	select {
	case <-s.stopped:
		return false
	case <-time.After(d):
		return true
	}
}

// do runs a request of kind and counts it under the phase it ran in ("edge"
// when a fault began or ended meanwhile).
func (s *soakRun) do(kind string, send func() result) result {
	before := s.phase.Load().(string)
	r := send()
	phase := s.phase.Load().(string)
	if phase != before {
		phase = "edge"
	}
	s.tallies[kind].add(phase, r)
	return r
}

func (s *soakRun) gql(kind, url, query string, vars map[string]any) result {
	return s.do(kind, func() result { return hit(url, s.admin, gqlBody(query, vars), 15*time.Second) })
}

// shipment returns the record of id (s.mu held).
func (s *soakRun) shipment(id int) *soakShipment {
	sh := s.shipments[id]
	if sh == nil {
		sh = &soakShipment{}
		s.shipments[id] = sh
	}
	return sh
}

// writer creates shipments for customer on url and walks each through its
// statuses; one in four is cancelled on the way.
func (s *soakRun) writer(url string, customer int) {
	var current string // global ID, "" for a new shipment
	var id, step, cancelAt int
	for s.running() {
		switch {
		case current == "":
			r := s.gql("createShipment", url, `mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id reference version } }`,
				map[string]any{"input": createInput(customer, "UPS")})
			var out struct {
				CreateShipment struct {
					ID, Reference string
					Version       int
				}
			}
			if r.ok() && json.Unmarshal(r.data, &out) == nil {
				current, id, step = out.CreateShipment.ID, localID(s.t, out.CreateShipment.ID), 0
				cancelAt = -1
				if mrand.IntN(4) == 0 {
					cancelAt = mrand.IntN(2) // from DRAFT or LABEL_CREATED: later, the state machine refuses
				}
				s.mu.Lock()
				sh := s.shipment(id)
				sh.attempts, sh.acks, sh.version = 1, 1, out.CreateShipment.Version
				s.refs = append(s.refs, out.CreateShipment.Reference)
				s.writes.mu.Lock()
				s.writes.shipments[id] = true
				s.writes.mu.Unlock()
				s.mu.Unlock()
			}
		case step == cancelAt:
			s.mu.Lock()
			s.shipment(id).attempts++
			s.mu.Unlock()
			r := s.gql("cancelShipment", url, `mutation($id: ID!) { cancelShipment(id: $id, reason: "soak") { status version } }`, map[string]any{"id": current})
			var out struct {
				CancelShipment struct {
					Status  string
					Version int
				}
			}
			if r.ok() && json.Unmarshal(r.data, &out) == nil {
				s.mu.Lock()
				sh := s.shipment(id)
				sh.acks++
				sh.version, sh.cancelled = out.CancelShipment.Version, true
				s.mu.Unlock()
				if out.CancelShipment.Status != "CANCELLED" {
					s.t.Errorf("cancelShipment %d answered status %s", id, out.CancelShipment.Status)
				}
			}
			current = ""
		default:
			s.mu.Lock()
			s.shipment(id).attempts++
			s.mu.Unlock()
			r := s.gql("addTrackingEvent", url, `mutation($id: ID!, $in: TrackingEventInput!) { addTrackingEvent(shipmentId: $id, input: $in) { id shipment { version } } }`,
				map[string]any{"id": current, "in": map[string]any{"status": loadStatuses[step], "occurredAt": time.Now().UTC().Format(time.RFC3339Nano)}})
			var out struct {
				AddTrackingEvent struct {
					ID       string
					Shipment struct{ Version int }
				}
			}
			if r.ok() && json.Unmarshal(r.data, &out) == nil {
				s.mu.Lock()
				sh := s.shipment(id)
				sh.acks++
				sh.version = out.AddTrackingEvent.Shipment.Version
				s.writes.mu.Lock()
				s.writes.events[localID(s.t, out.AddTrackingEvent.ID)] = id
				s.writes.mu.Unlock()
				s.mu.Unlock()
				step++
			} else {
				step = len(loadStatuses) // unknown state: start a new shipment
			}
			if step == len(loadStatuses) {
				current = ""
			}
		}
		if !s.pause(time.Duration(10+mrand.IntN(20)) * time.Millisecond) {
			return
		}
	}
}

// reader alternates the shipment list (with customers and events) and one
// acknowledged shipment by reference.
func (s *soakRun) reader(url string) {
	for n := 0; s.running(); n++ {
		s.mu.Lock()
		ref := ""
		if len(s.refs) > 0 {
			ref = s.refs[mrand.IntN(len(s.refs))]
		}
		s.mu.Unlock()
		if n%2 == 0 || ref == "" {
			s.gql("list", url, loadReadQuery, nil)
		} else {
			r := s.gql("byReference", url, `query($r: String!) { shipment(reference: $r) { reference status version } }`, map[string]any{"r": ref})
			var out struct{ Shipment *struct{ Reference string } }
			if r.ok() && json.Unmarshal(r.data, &out) == nil && out.Shipment != nil && out.Shipment.Reference != ref {
				s.t.Errorf("shipment(reference: %q) answered %q", ref, out.Shipment.Reference)
			}
		}
		if !s.pause(time.Duration(10+mrand.IntN(20)) * time.Millisecond) {
			return
		}
	}
}

// uploader uploads small labels, each different, to shipment on url.
func (s *soakRun) uploader(url, shipment string) {
	ops, _ := json.Marshal(gqlBody(`mutation($s: ID!, $f: Upload!) { uploadShipmentFile(shipmentId: $s, kind: LABEL, file: $f) { id size sha256 } }`,
		map[string]any{"s": shipment, "f": nil}))
	for s.running() {
		content := fmt.Sprintf("soak label %s\n%s\n", rand.Text(), strings.Repeat("^FO50,50^FDshipmentapp^FS\n", 1+mrand.IntN(40)))
		body, ct := testutil.Multipart(s.t, testutil.Part{Name: "operations", Body: ops}, testutil.Part{Name: "map", Body: []byte(`{"0":["variables.f"]}`)},
			testutil.Part{Name: "0", FileName: "label.txt", ContentType: "text/plain", Body: []byte(content)})
		r := s.do("upload", func() result { return hitRaw(url, s.admin, ct, body, 15*time.Second) })
		var out struct {
			UploadShipmentFile struct {
				ID     string
				Size   int
				SHA256 string `json:"sha256"`
			}
		}
		if r.ok() && json.Unmarshal(r.data, &out) == nil {
			f := out.UploadShipmentFile
			if f.Size != len(content) || f.SHA256 != shaHex(content) {
				s.t.Errorf("upload answered size %d sha256 %s for %d bytes of sha256 %s", f.Size, f.SHA256, len(content), shaHex(content))
			}
			s.mu.Lock()
			s.uploads[localID(s.t, f.ID)] = soakUpload{sha: shaHex(content), size: len(content)}
			s.mu.Unlock()
		}
		if !s.pause(time.Duration(50+mrand.IntN(100)) * time.Millisecond) {
			return
		}
	}
}

// soakSubscriber follows shipmentEvents over websockets until stopped.
// One that leaves closes its connection now and then and resumes, after a
// pause, on the other instance with the cursor of the last edge it
// received; any subscription the server ends is resumed the same way.
type soakSubscriber struct {
	name     string
	key      string
	customer int // the partner's customer; 0: every event
	leaves   bool
	phase    func() string // the soak's phase, for the samples

	mu       sync.Mutex
	got      []int // event IDs, as received
	cursor   string
	sessions int
	left     int               // deliberate leaves (each resumed)
	ended    map[string]int    // sessions the server or the network ended, by how
	samples  map[string]string // one message per way of ending
}

func (c *soakSubscriber) received() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

func (c *soakSubscriber) end(how, sample string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended[how]++
	if _, ok := c.samples[how]; !ok {
		c.samples[how] = sample + " (" + c.phase() + ")"
	}
}

// connect opens a websocket to url and subscribes after the last cursor.
func (c *soakSubscriber) connect(url string) (*testutil.WS, error) {
	// Not testutil.DialWS: its cleanup would keep every connection of the
	// run reachable until the test ends, and the heap is measured before.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	cancel()
	if err != nil {
		return nil, err
	}
	ws := &testutil.WS{Conn: conn}
	send := func(m any) error {
		b, _ := json.Marshal(m)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return ws.Conn.Write(ctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": bearer(c.key)}); err != nil {
		_ = ws.Conn.CloseNow()
		return nil, err
	}
	if m, err := ws.Read(10 * time.Second); err != nil || m.Type != "connection_ack" {
		_ = ws.Conn.CloseNow()
		return nil, fmt.Errorf("connection_init: %s %s %v", m.Type, m.Payload, err)
	}
	c.mu.Lock()
	vars := map[string]any{}
	if c.cursor != "" {
		vars["after"] = c.cursor
	}
	c.sessions++
	c.mu.Unlock()
	if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": soakEventsSubscription, "variables": vars}}); err != nil {
		_ = ws.Conn.CloseNow()
		return nil, err
	}
	return ws, nil
}

func (c *soakSubscriber) run(urls []string, home int, stop <-chan struct{}) {
	inst := home
	wait := func(d time.Duration) bool {
		select {
		case <-stop:
			return false
		case <-time.After(d):
			return true
		}
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		ws, err := c.connect(urls[inst])
		if err != nil {
			c.end("connect failed", err.Error())
			if !wait(200 * time.Millisecond) {
				return
			}
			continue
		}
		var leaving atomic.Bool
		done := make(chan struct{})
		go func() {
			var leave <-chan time.Time
			if c.leaves {
				leave = time.After(time.Duration(5000+mrand.IntN(10000)) * time.Millisecond)
			}
			for {
				select {
				case <-stop:
				case <-leave:
					c.mu.Lock()
					noCursor := c.cursor == ""
					c.mu.Unlock()
					if noCursor { // nothing to resume after yet: stay a while
						leave = time.After(time.Second)
						continue
					}
					leaving.Store(true)
				case <-done:
				}
				break
			}
			_ = ws.Conn.CloseNow()
		}()
		how, sample := c.read(ws)
		close(done)
		_ = ws.Conn.CloseNow()
		select {
		case <-stop:
			return
		default:
		}
		if leaving.Load() {
			c.mu.Lock()
			c.left++
			c.mu.Unlock()
			if !wait(time.Duration(500+mrand.IntN(2500)) * time.Millisecond) {
				return
			}
			inst = 1 - inst
			continue
		}
		c.end(how, sample)
		if !wait(100 * time.Millisecond) {
			return
		}
	}
}

// read records the edges of one session until it ends; it says how it ended.
func (c *soakSubscriber) read(ws *testutil.WS) (how, sample string) {
	for {
		m, err := ws.Read(time.Minute)
		if err != nil {
			return "closed", err.Error()
		}
		var out struct {
			Data *struct {
				ShipmentEvents struct {
					Cursor string
					Node   struct{ ID string }
				} `json:"shipmentEvents"`
			} `json:"data"`
			Errors json.RawMessage `json:"errors"`
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &out) != nil || out.Data == nil || len(out.Errors) > 0 {
			return m.Type, fmt.Sprintf("%s %s", m.Type, m.Payload)
		}
		g, err := parseLocal(out.Data.ShipmentEvents.Node.ID)
		if err != nil {
			return "bad id", err.Error()
		}
		c.mu.Lock()
		c.got = append(c.got, g)
		c.cursor = out.Data.ShipmentEvents.Cursor
		c.mu.Unlock()
	}
}

// soakFault is a fault of the schedule: inject, hold (default 3 s), restore.
type soakFault struct {
	name   string
	proxy  *testutil.Proxy
	inject func()
	hold   time.Duration
}

// soakStats samples the process while the soak runs.
type soakStats struct {
	mu                     sync.Mutex
	peakHeapInuse, peakSys uint64
	peakGoroutines         int
}

func (st *soakStats) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	n := runtime.NumGoroutine()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.peakHeapInuse = max(st.peakHeapInuse, m.HeapInuse)
	st.peakSys = max(st.peakSys, m.Sys)
	st.peakGoroutines = max(st.peakGoroutines, n)
}

// heapAfterGC is HeapInuse after garbage collection.
func heapAfterGC() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// soakEnv is the services of a soak, each behind its proxy, and the
// configuration of the instances.
type soakEnv struct {
	duration    time.Duration
	mainDB, dol testutil.Database
	proxies     map[string]*testutil.Proxy
	cfg         []string
}

// TestSoak: see the comment above. Skipped unless SOAK_DURATION is set.
func TestSoak(t *testing.T) {
	d := os.Getenv("SOAK_DURATION")
	if d == "" {
		t.Skip("the soak test runs with SOAK_DURATION set (make soak)")
	}
	duration, err := time.ParseDuration(d)
	if err != nil || duration < 30*time.Second {
		t.Fatalf("SOAK_DURATION=%q: want a duration of at least 30s", d)
	}
	env := soakServices(t, duration)

	// Warm up: what a process sets up once, whatever the number of
	// instances (the playground's assets, compiled expressions, the SDKs'
	// tables), is not what an instance leaves behind.
	warm := startSoakInstances(t, env, 1)
	key := newKey(t, warm.apps[0], auth.RoleAdmin)
	if r := hit(warm.servers[0].URL, key, gqlBody(loadReadQuery, nil), 15*time.Second); !r.ok() {
		t.Fatalf("warm-up request: %s", r)
	}
	warm.close()

	// The baseline: everything but the app.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	time.Sleep(time.Second)
	baseGoroutines, baseHeap := runtime.NumGoroutine(), heapAfterGC()

	figs := soakLoad(t, env)

	// Back to the baseline once both instances are closed (soakLoad closed
	// them; its records are garbage now).
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	var endGoroutines int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		endGoroutines = runtime.NumGoroutine()
		if endGoroutines <= baseGoroutines+soakGoroutineSlack || time.Now().After(deadline) {
			break
		}
	}
	if endGoroutines > baseGoroutines {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		if endGoroutines > baseGoroutines+soakGoroutineSlack {
			t.Errorf("goroutines: %d at the baseline, %d after both instances closed (slack %d):\n%s", baseGoroutines, endGoroutines, soakGoroutineSlack, b.String())
		} else {
			t.Logf("goroutines: %d at the baseline, %d after both instances closed (within the slack of %d):\n%s", baseGoroutines, endGoroutines, soakGoroutineSlack, b.String())
		}
	}
	endHeap := heapAfterGC()
	if path := os.Getenv("SOAK_HEAP_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	if endHeap > baseHeap+soakHeapSlack {
		t.Errorf("heap in use: %.1f MiB at the baseline, %.1f MiB after both instances closed (slack %d MiB)",
			float64(baseHeap)/mib, float64(endHeap)/mib, soakHeapSlack/mib)
	}
	figs["goroutines"].(map[string]int)["baseline"] = baseGoroutines
	figs["goroutines"].(map[string]int)["end"] = endGoroutines
	figs["memoryMiB"].(map[string]string)["baselineHeapInuse"] = fmt.Sprintf("%.1f", float64(baseHeap)/mib)
	figs["memoryMiB"].(map[string]string)["endHeapInuse"] = fmt.Sprintf("%.1f", float64(endHeap)/mib)
	figures(t, figs)
}

// soakServices starts the services of SOAK_DB, each behind a proxy.
func soakServices(t *testing.T, duration time.Duration) *soakEnv {
	env := &soakEnv{duration: duration, proxies: map[string]*testutil.Proxy{}}
	switch db := os.Getenv("SOAK_DB"); db {
	case "", "mariadb":
		m := testutil.All()[1]
		testutil.Require(t, m)
		if testutil.Reachable(testutil.Replica()) {
			env.mainDB = testutil.NewReplicatedDatabase(t)
			r := testutil.Replica()
			rp := testutil.NewProxy(t, fmt.Sprintf("%s:%d", r.Host, r.Port))
			env.proxies["replica"] = rp
			env.cfg = append(env.cfg, "DB_READ_HOST="+rp.Addr(), "DB_REPLICA_MAX_LAG=2s", "DB_REPLICA_CHECK_INTERVAL=200ms")
		} else {
			t.Logf("!!! no replica at %s:%d: the soak runs without one (make services starts it)", testutil.Replica().Host, testutil.Replica().Port)
			env.mainDB = testutil.NewDatabase(t, m)
		}
	case "postgres":
		env.mainDB = testutil.NewDatabase(t, testutil.All()[2])
	default:
		t.Fatalf("SOAK_DB=%q: want mariadb or postgres", db)
	}
	env.dol = testutil.NewDolibarr(t, env.mainDB.Backend)
	p := env.proxies
	p["primary"] = testutil.NewProxy(t, fmt.Sprintf("%s:%d", env.mainDB.Backend.Host, env.mainDB.Backend.Port))
	p["dolibarr"] = testutil.NewProxy(t, fmt.Sprintf("%s:%d", env.dol.Backend.Host, env.dol.Backend.Port))
	redisSrv := testutil.NewRedisServer(t)
	p["redis"] = testutil.NewProxy(t, redisSrv.Addr())
	store, storageEnv := testutil.NewS3Server(t)
	p["storage"] = testutil.NewProxy(t, store.Addr())
	env.cfg = append(env.cfg, storageEnv...)
	env.cfg = append(env.cfg,
		"AWS_ENDPOINT=http://"+p["storage"].Addr(), "FILE_UPLOAD_TIMEOUT=5s",
		"CACHE_DRIVER=redis", "REDIS_HOST="+p["redis"].Host(), "REDIS_PORT="+strconv.Itoa(p["redis"].Port()),
		"REDIS_TIMEOUT=200ms", "RATE_LIMIT_IP_PER_MINUTE=1000000", "RATE_LIMIT_KEY_PER_MINUTE=1000000",
		"SUBSCRIPTION_POLL_INTERVAL=500ms", "HTTP_REQUEST_TIMEOUT=5s", "DOLIBARR_DB_TIMEOUT=1s",
	)
	return env
}

// soakInstances are the app instances of a soak, closed once.
type soakInstances struct {
	once    sync.Once
	apps    []*app.App
	servers []*httptest.Server
}

func (in *soakInstances) close() {
	in.once.Do(func() {
		for i := range in.apps {
			in.servers[i].CloseClientConnections()
			in.servers[i].Close()
			in.apps[i].Close()
		}
		in.apps, in.servers = nil, nil // the test's cleanup holds in
	})
}

// startSoakInstances starts n instances on env's services; they are closed
// by close, or when t ends.
func startSoakInstances(t *testing.T, env *soakEnv, n int) *soakInstances {
	in := &soakInstances{}
	t.Cleanup(in.close)
	for range n {
		a, err := app.New(context.Background(), testutil.Config(t, through(env.mainDB, env.proxies["primary"]), through(env.dol, env.proxies["dolibarr"]), env.cfg...),
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		in.apps = append(in.apps, a)
		in.servers = append(in.servers, httptest.NewServer(a.Handler))
		select {
		case <-a.Live.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("live updates not ready")
		}
	}
	return in
}

// soakLoad runs two instances under load and faults for env.duration,
// checks what they left and returns the figures; both instances are closed
// when it returns.
func soakLoad(t *testing.T, env *soakEnv) map[string]any {
	in := startSoakInstances(t, env, 2)
	apps, proxies, duration := in.apps, env.proxies, env.duration
	urls := []string{in.servers[0].URL, in.servers[1].URL}
	admin := newKey(t, apps[0], auth.RoleAdmin)
	partner := newKey(t, apps[0], auth.RolePartner, activeCustomer)

	s := &soakRun{t: t, urls: urls, admin: admin, tallies: map[string]*tally{}, stopped: make(chan struct{}),
		writes:    &load{t: t, shipments: map[int]bool{}, events: map[int]int{}},
		shipments: map[int]*soakShipment{}, uploads: map[int]soakUpload{}}
	for _, k := range soakKinds {
		s.tallies[k] = newTally()
	}
	s.phase.Store("calm")

	// Subscribers: on each instance, an admin and a partner that stay, and
	// an admin and a partner that leave and resume.
	var subs []*soakSubscriber
	subStop := make(chan struct{})
	var subWG sync.WaitGroup
	for i := range urls {
		for _, c := range []*soakSubscriber{
			{name: "admin, stays", key: admin}, {name: "partner, stays", key: partner, customer: activeCustomer},
			{name: "admin, leaves", key: admin, leaves: true}, {name: "partner, leaves", key: partner, customer: activeCustomer, leaves: true},
		} {
			c.name = fmt.Sprintf("instance %d %s", i+1, c.name)
			c.ended, c.samples = map[string]int{}, map[string]string{}
			c.phase = func() string { return s.phase.Load().(string) }
			subs = append(subs, c)
			subWG.Go(func() { c.run(urls, i, subStop) })
		}
	}
	defer func() {
		select {
		case <-subStop:
		default:
			close(subStop)
		}
		subWG.Wait()
	}()
	for _, a := range apps {
		waitSubscribers(t, a, 4)
	}

	// The load: on each instance two writers (one per customer), a reader
	// and an uploader (to a shipment of its own).
	stopLoad := sync.OnceFunc(func() { close(s.stopped); s.wg.Wait() })
	defer stopLoad() // on a t.Fatal
	for _, url := range urls {
		r := hit(url, admin, gqlBody(`mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }`,
			map[string]any{"input": createInput(activeCustomer, "DHL")}), 15*time.Second)
		var out struct{ CreateShipment struct{ ID string } }
		if !r.ok() || json.Unmarshal(r.data, &out) != nil {
			t.Fatalf("create the uploads' shipment: %s", r)
		}
		id := localID(t, out.CreateShipment.ID)
		sh := s.shipment(id)
		sh.attempts, sh.acks, sh.version = 1, 1, 1
		s.writes.shipments[id] = true
		s.wg.Go(func() { s.writer(url, activeCustomer) })
		s.wg.Go(func() { s.writer(url, otherActiveCustomer) })
		s.wg.Go(func() { s.reader(url) })
		s.wg.Go(func() { s.uploader(url, out.CreateShipment.ID) })
	}
	stats := &soakStats{}
	sampling := make(chan struct{})
	var samplerWG sync.WaitGroup
	samplerWG.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			stats.sample()
			select {
			case <-sampling:
				return
			case <-tick.C:
			}
		}
	})
	stopSampling := sync.OnceFunc(func() { close(sampling); samplerWG.Wait() })
	defer stopSampling()

	// The schedule of faults, round and round until the time is up.
	p := proxies
	schedule := []soakFault{
		{name: "redis down", proxy: p["redis"], inject: p["redis"].Cut},
		{name: "storage down", proxy: p["storage"], inject: p["storage"].Cut},
		{name: "primary down", proxy: p["primary"], inject: p["primary"].Cut, hold: 2 * time.Second},
		{name: "dolibarr down", proxy: p["dolibarr"], inject: p["dolibarr"].Cut},
		{name: "redis half-open", proxy: p["redis"], inject: p["redis"].Blackhole},
		{name: "primary latency 50ms", proxy: p["primary"], inject: func() { p["primary"].Delay(50 * time.Millisecond) }},
		{name: "storage half-open", proxy: p["storage"], inject: p["storage"].Blackhole},
		{name: "dolibarr half-open", proxy: p["dolibarr"], inject: p["dolibarr"].Blackhole},
		{name: "redis latency 150ms", proxy: p["redis"], inject: func() { p["redis"].Delay(150 * time.Millisecond) }},
		{name: "primary half-open", proxy: p["primary"], inject: p["primary"].Blackhole, hold: 2 * time.Second},
		{name: "storage latency 200ms", proxy: p["storage"], inject: func() { p["storage"].Delay(200 * time.Millisecond) }},
	}
	if rp := p["replica"]; rp != nil {
		schedule = slices.Insert(schedule, 3, soakFault{name: "replica down", proxy: rp, inject: rp.Cut})
		schedule = append(schedule, soakFault{name: "replica half-open", proxy: rp, inject: rp.Blackhole})
	}
	injected := map[string]int{}
	deadline := time.Now().Add(duration - 10*time.Second) // the last 10 s: settle and a final calm phase
	s.phase.Store("calm")
	time.Sleep(3 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		f := schedule[i%len(schedule)]
		hold := f.hold
		if hold == 0 {
			hold = 3 * time.Second
		}
		s.phase.Store("edge")
		f.inject()
		s.phase.Store(f.name)
		injected[f.name]++
		time.Sleep(hold)
		s.phase.Store("edge")
		f.proxy.Restore()
		s.phase.Store("calm")
		time.Sleep(4 * time.Second)
	}
	s.phase.Store("settle")
	time.Sleep(3 * time.Second)
	s.phase.Store("final")
	time.Sleep(7 * time.Second)
	stopLoad()

	// Drain: every subscriber has received every committed event it may see.
	ctx := dbroute.UsePrimary(system())
	events, err := apps[0].Client.TrackingEvent.Query().Order(ent.Asc(trackingevent.FieldSeq)).WithShipment().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]int{} // customer (0: all) -> event IDs
	for _, e := range events {
		want[0] = append(want[0], e.ID)
		if e.Edges.Shipment.CustomerID == activeCustomer {
			want[activeCustomer] = append(want[activeCustomer], e.ID)
		}
	}
	drainStart := time.Now()
	for _, c := range subs {
		for deadline := time.Now().Add(30 * time.Second); len(c.received()) < len(want[c.customer]) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	drained := time.Since(drainStart)
	close(subStop)
	subWG.Wait()
	stopSampling()
	stats.sample()

	// Every committed event reached every subscriber, in order, once.
	eventsVerified := 0
	subFigures := map[string]any{}
	for _, c := range subs {
		got, exp := c.received(), want[c.customer]
		if !slices.Equal(got, exp) {
			i := 0
			for i < min(len(got), len(exp)) && got[i] == exp[i] {
				i++
			}
			t.Errorf("%s received %d events, want the %d committed in order, once: they differ from #%d (got %v, want %v); ended %v %v",
				c.name, len(got), len(exp), i, got[i:min(len(got), i+5)], exp[i:min(len(exp), i+5)], c.ended, c.samples)
		} else {
			eventsVerified += len(got)
		}
		ended := 0
		for _, n := range c.ended {
			ended += n
		}
		subFigures[c.name] = map[string]any{"events": len(got), "sessions": c.sessions, "left": c.left, "ended": c.ended}
		if ended > 0 {
			t.Logf("%s: %d of its sessions were ended by the server or the network (and resumed): %v %v", c.name, ended, c.ended, c.samples)
		}
	}

	// Every acknowledged mutation is in the database, consistent.
	shipmentsVerified, eventsWritten := s.writes.verifyWrites(t, apps[0].Client)
	rows, err := apps[0].Client.Shipment.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]*ent.Shipment{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	cancels := 0
	for id, sh := range s.shipments {
		r := byID[id]
		switch {
		case r == nil:
			t.Errorf("acknowledged shipment %d is not in the database", id)
		case r.Version < sh.version || sh.attempts == sh.acks && r.Version != sh.version:
			t.Errorf("shipment %d: version %d in the database; the clients had %d of %d mutations acknowledged, the last at version %d", id, r.Version, sh.acks, sh.attempts, sh.version)
		case sh.cancelled && r.Status != "CANCELLED":
			t.Errorf("shipment %d: cancellation acknowledged, but it is %s", id, r.Status)
		}
		if sh.cancelled {
			cancels++
		}
	}

	// Every acknowledged upload has its row and its object; no row lacks its object.
	files, err := apps[0].Client.File.Query().All(system())
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]int64{}
	if err := apps[0].Files.Store().List(context.Background(), "", func(o storage.Info) error { objects[o.Key] = o.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	fileRows := map[int]*ent.File{}
	for _, f := range files {
		fileRows[f.ID] = f
		if size, ok := objects[f.StorageKey]; !ok || size != f.Size {
			t.Errorf("file row %d (%d bytes) has no object of its size at %s (%v, %d bytes)", f.ID, f.Size, f.StorageKey, ok, size)
		}
	}
	for id, u := range s.uploads {
		if f := fileRows[id]; f == nil || f.Sha256 != u.sha || int(f.Size) != u.size {
			t.Errorf("acknowledged upload %d: row %+v, want sha256 %s and %d bytes", id, f, u.sha, u.size)
		}
	}

	// The requests: no failure but the clean ones, none in the final calm.
	tried, served := map[string]int{}, map[string]int{}
	outcomes := map[string]map[string]int{}
	for kind, tl := range s.tallies {
		tl.mu.Lock()
		for phase, counts := range tl.counts {
			for outcome, n := range counts {
				tried[kind] += n
				if outcome == "ok" {
					served[kind] += n
					continue
				}
				if outcomes[phase] == nil {
					outcomes[phase] = map[string]int{}
				}
				outcomes[phase][kind+" "+outcome] += n
				codes, status, _ := strings.Cut(outcome, " ")
				clean := status == "200" || status == "503"
				for c := range strings.SplitSeq(codes, ",") {
					clean = clean && soakAllowed[c]
				}
				if !clean || phase == "final" {
					t.Errorf("%s %s: %d× %s, e.g. %s", phase, kind, n, outcome, tl.samples[phase+"/"+outcome])
				}
			}
		}
		tl.mu.Unlock()
		if served[kind] == 0 {
			t.Errorf("no %s request was served", kind)
		}
	}
	faults := 0
	for _, px := range proxies {
		faults += px.Faults()
	}
	servedTotal := 0
	for _, n := range served {
		servedTotal += n
	}

	in.close()
	return map[string]any{
		"db": env.mainDB.Backend.Name, "replica": proxies["replica"] != nil, "duration": duration.String(),
		"tried": tried, "served": served, "servedTotal": servedTotal, "failuresByPhase": outcomes,
		"faults": faults, "faultsByKind": injected,
		"writesVerified":  map[string]int{"shipments": shipmentsVerified, "trackingEvents": eventsWritten, "cancels": cancels},
		"eventsCommitted": len(events), "eventsVerified": eventsVerified, "drainMs": drained.Milliseconds(),
		"subscribers": subFigures, "uploadsVerified": len(s.uploads), "fileRows": len(files), "objects": len(objects),
		"goroutines": map[string]int{"peak": stats.peakGoroutines},
		"memoryMiB": map[string]string{
			"peakHeapInuse": fmt.Sprintf("%.1f", float64(stats.peakHeapInuse)/mib), "peakSys": fmt.Sprintf("%.1f", float64(stats.peakSys)/mib),
		},
	}
}

// parseLocal is localID without a test.
func parseLocal(id string) (int, error) {
	g, err := gid.Parse(id)
	if err != nil {
		return 0, err
	}
	return g.Local, nil
}
