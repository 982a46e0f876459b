// Command subload is the subscription load benchmark (make bench-subscriptions):
// it starts shipmentapp in this process (the embedded default: SQLite, the
// in-process bus; -redis to fan out through Redis), opens -conns websockets
// with -per shipmentEvents subscriptions each from a second process (so the
// clients' memory is not counted), and measures
//   - the server's memory per idle subscription (Go heap and stacks in use,
//     after a GC, minus the same before the clients connected; and RSS), and
//   - the fan-out latency of one tracking event to every subscription, from
//     the moment its transaction committed to each client's receipt.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
)

func main() {
	mode := flag.String("mode", "server", "server (the benchmark) or clients (started by it)")
	conns := flag.Int("conns", 10000, "websocket connections")
	per := flag.Int("per", 1, "subscriptions per connection")
	events := flag.Int("events", 5, "events to fan out, one at a time")
	memprofile = flag.String("memprofile", "", "write the server's heap profile at idle to this file")
	redisAddr := flag.String("redis", "", "fan out through this Redis (host:port) instead of the in-process bus")
	url := flag.String("url", "", "clients: the websocket URL")
	key := flag.String("key", "", "clients: the API key")
	flag.Parse()
	if *mode == "clients" {
		runClients(*url, *key, *conns, *per)
		return
	}
	if err := runServer(*conns, *per, *events, *redisAddr); err != nil {
		log.Fatal(err)
	}
}

var memprofile *string

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func rss() uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func runServer(conns, per, events int, redisAddr string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "subload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := []string{
		"APP_ENV=development", "APP_DATA_DIR=" + dir, "LOG_LEVEL=error",
		"RATE_LIMIT_IP_PER_MINUTE=0", "RATE_LIMIT_KEY_PER_MINUTE=0",
		"SUBSCRIPTION_KEEPALIVE=1h", "SUBSCRIPTION_INIT_TIMEOUT=1m",
		fmt.Sprintf("SUBSCRIPTION_MAX_CONNECTIONS_PER_KEY=%d", conns+1),
		fmt.Sprintf("SUBSCRIPTION_MAX_PER_CONNECTION=%d", per),
		"DEMO_SEED=true",
	}
	if redisAddr != "" {
		host, port, _ := strings.Cut(redisAddr, ":")
		env = append(env, "REDIS_HOST="+host, "REDIS_PORT="+port, fmt.Sprintf("REDIS_PREFIX=subload%d:", time.Now().UnixNano()))
	}
	cfg, err := config.Load("", env)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer a.Close()
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	_, secret, err := a.Keys.Create(sys, auth.CreateInput{Name: "subload", Role: auth.RoleAdmin, CreatedBy: "subload"})
	if err != nil {
		return err
	}
	sh, err := a.Client.Shipment.Query().First(sys)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	<-a.Live.Ready()

	baseHeap, baseRSS := memInUse(), rss()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-mode", "clients", "-url", "ws://"+ln.Addr().String()+"/graphql",
		"-key", secret, "-conns", strconv.Itoa(conns), "-per", strconv.Itoa(per))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(out)
	lines.Buffer(make([]byte, 1<<20), 64<<20)
	start := time.Now()
	if !lines.Scan() || lines.Text() != "ready" {
		return fmt.Errorf("clients did not get ready: %q", lines.Text())
	}
	total := conns * per
	for a.Live.Subscribers() < total {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("subscriptions: %d (%d connections x %d), all joined in %s\n", total, conns, per, time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // idle
	heap, r := memInUse(), rss()
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		_ = f.Close()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Printf("stacks in use %.1f MiB, goroutines %d\n", float64(m.StackInuse)/(1<<20), runtime.NumGoroutine())
	}
	fmt.Printf("server memory per idle subscription: %.1f KiB Go heap+stacks (%.1f MiB total), %.1f KiB RSS\n",
		float64(heap-baseHeap)/float64(total)/1024, float64(heap-baseHeap)/(1<<20), float64(r-baseRSS)/float64(total)/1024)

	var all []time.Duration
	steps := []domain.Status{domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusException, domain.StatusInTransit, domain.StatusOutForDelivery}
	for i := range events {
		st := steps[i%len(steps)]
		if sh.Status == st || !domain.CanTransition(sh.Status, st) {
			st = domain.StatusException
			if !domain.CanTransition(sh.Status, st) {
				st = domain.StatusInTransit
			}
		}
		ev, err := a.Shipping.AddEvent(sys, sh.ID, shipping.EventInput{Status: st, OccurredAt: time.Now()})
		committed := time.Now()
		if err != nil {
			return fmt.Errorf("add event: %w", err)
		}
		sh.Status = st
		if !lines.Scan() {
			return fmt.Errorf("clients stopped: %v", lines.Err())
		}
		var got struct {
			Event string  `json:"event"`
			Recv  []int64 `json:"recv"`
		}
		if err := json.Unmarshal(lines.Bytes(), &got); err != nil {
			return err
		}
		lat := make([]time.Duration, 0, len(got.Recv))
		for _, ns := range got.Recv {
			lat = append(lat, time.Unix(0, ns).Sub(committed))
		}
		slices.Sort(lat)
		fmt.Printf("event %d (%s): delivered to %d subscriptions: p50 %s, p99 %s, max %s\n",
			i+1, ev.Status, len(lat), pct(lat, 50), pct(lat, 99), lat[len(lat)-1])
		all = append(all, lat...)
		time.Sleep(500 * time.Millisecond)
	}
	slices.Sort(all)
	fmt.Printf("fan-out, all events: p50 %s, p99 %s, max %s\n", pct(all, 50), pct(all, 99), all[len(all)-1])
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[(len(d)-1)*p/100].Round(100 * time.Microsecond)
}

// runClients opens the connections, prints "ready" once every subscription
// is sent and acknowledged, then one JSON line per event when every
// subscription has received it: its receipt times.
func runClients(url, key string, conns, per int) {
	type recv struct {
		event string
		at    int64
	}
	got := make(chan recv, 100000)
	var ready sync.WaitGroup
	ready.Add(conns)
	sem := make(chan struct{}, 100) // dials at a time
	ctx := context.Background()
	for i := range conns {
		sem <- struct{}{}
		go func() {
			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			<-sem
			if err != nil {
				log.Fatalf("dial %d: %v", i, err)
			}
			c.SetReadLimit(1 << 20)
			write := func(v any) {
				b, _ := json.Marshal(v)
				if err := c.Write(ctx, websocket.MessageText, b); err != nil {
					log.Fatalf("write: %v", err)
				}
			}
			write(map[string]any{"type": "connection_init", "payload": map[string]string{"authorization": "Bearer " + key}})
			if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
				log.Fatalf("init %d: %v %s", i, err, b)
			}
			for j := range per {
				write(map[string]any{"id": strconv.Itoa(j), "type": "subscribe", "payload": map[string]any{
					"query": "subscription { shipmentEvents { cursor node { id status occurredAt shipment { reference } } } }"}})
			}
			ready.Done()
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				at := time.Now().UnixNano()
				var m struct {
					Type    string `json:"type"`
					Payload struct {
						Data struct {
							ShipmentEvents struct {
								Node struct {
									ID string `json:"id"`
								} `json:"node"`
							} `json:"shipmentEvents"`
						} `json:"data"`
					} `json:"payload"`
				}
				if json.Unmarshal(b, &m) == nil && m.Type == "next" {
					got <- recv{m.Payload.Data.ShipmentEvents.Node.ID, at}
				}
			}
		}()
	}
	ready.Wait()
	fmt.Println("ready")
	total := conns * per
	byEvent := map[string][]int64{}
	for r := range got {
		byEvent[r.event] = append(byEvent[r.event], r.at)
		if len(byEvent[r.event]) == total {
			b, _ := json.Marshal(map[string]any{"event": r.event, "recv": byEvent[r.event]})
			fmt.Println(string(b))
			delete(byEvent, r.event)
		}
	}
}
