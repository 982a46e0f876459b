//go:build unix

// Package deploy_test checks deploy/'s load balancer configurations with
// their own tools (nginx -t, haproxy -c), and runs the real topology on
// loopback: two instances of the binary behind nginx or HAProxy, one of them
// stopped with SIGTERM under load.
package deploy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/klauspost/compress/zstd"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// render returns the file at path with each key of repl replaced by its
// value; a key that does not occur fails t, so a change to the shipped file
// cannot silently leave the test checking something else.
func render(t *testing.T, path string, repl [][2]string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range repl {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("%s no longer contains %q: update the test's rendering", path, r[0])
		}
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// balancer is a load balancer in front of the instances at app1 and app2,
// answering HTTPS at url.
type balancer struct {
	name  string
	check func(t *testing.T, app1, app2 string)
	start func(t *testing.T, app1, app2 string) (url string)
}

var balancers = []balancer{
	{name: "nginx", check: func(t *testing.T, app1, app2 string) {
		dir, conf, _ := nginxConf(t, app1, app2)
		run(t, testutil.RequireCommands(t, "nginx")["nginx"], nginxArgs(dir, conf, "-t")...)
	}, start: func(t *testing.T, app1, app2 string) string {
		dir, conf, addr := nginxConf(t, app1, app2)
		return daemon(t, addr, testutil.RequireCommands(t, "nginx")["nginx"], nginxArgs(dir, conf)...)
	}},
	{name: "haproxy", check: func(t *testing.T, app1, app2 string) {
		conf, _ := haproxyConf(t, app1, app2)
		run(t, testutil.RequireCommands(t, "haproxy")["haproxy"], "-c", "-f", conf)
	}, start: func(t *testing.T, app1, app2 string) string {
		conf, addr := haproxyConf(t, app1, app2)
		return daemon(t, addr, testutil.RequireCommands(t, "haproxy")["haproxy"], "-db", "-f", conf)
	}},
}

// nginxConf renders deploy/nginx/nginx.conf for loopback: the upstreams,
// the listening addresses, the certificate, and temporary paths of its own.
func nginxConf(t *testing.T, app1, app2 string) (dir, conf, httpsAddr string) {
	t.Helper()
	dir = t.TempDir()
	// Workers run as nobody when the test runs as root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, key, _ := testutil.SelfSignedCert(t, dir)
	httpsAddr = testutil.FreeAddr(t)
	temp := ""
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p := filepath.Join(dir, k)
		if err := os.Mkdir(p, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
		temp += fmt.Sprintf("    %s_temp_path %s;\n", k, p)
	}
	s := render(t, "nginx/nginx.conf", [][2]string{
		{"server app1:8080 ", "server " + app1 + " "},
		{"server app2:8080 ", "server " + app2 + " "},
		{"listen 80; # rendered by the test", "listen " + testutil.FreeAddr(t) + ";"},
		{"listen [::]:80; # rendered by the test", ""},
		{"listen 443 ssl http2; # rendered by the test", "listen " + httpsAddr + " ssl http2;"},
		{"listen [::]:443 ssl http2; # rendered by the test", ""},
		{"/etc/nginx/tls/tls.crt", cert},
		{"/etc/nginx/tls/tls.key", key},
		{"\nhttp {\n", "\nhttp {\n" + temp},
	})
	conf = filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, conf, httpsAddr
}

func nginxArgs(dir, conf string, extra ...string) []string {
	return append([]string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"),
		"-g", "daemon off; pid " + filepath.Join(dir, "nginx.pid") + ";"}, extra...)
}

// haproxyConf renders deploy/haproxy/haproxy.cfg for loopback.
func haproxyConf(t *testing.T, app1, app2 string) (conf, httpsAddr string) {
	t.Helper()
	dir := t.TempDir()
	_, _, bundle := testutil.SelfSignedCert(t, dir)
	httpsAddr = testutil.FreeAddr(t)
	s := render(t, "haproxy/haproxy.cfg", [][2]string{
		{"bind :80 # rendered by the test", "bind " + testutil.FreeAddr(t)},
		{"bind :443 ssl crt /etc/haproxy/tls/shipmentapp.pem", "bind " + httpsAddr + " ssl crt " + bundle},
		{"server app1 app1:8080 # rendered by the test", "server app1 " + app1},
		{"server app2 app2:8080 # rendered by the test", "server app2 " + app2},
	})
	conf = filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, httpsAddr
}

// run runs a checking command and fails t with its output when it fails.
func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	t.Logf("%s: %s", filepath.Base(bin), bytes.TrimSpace(out))
}

// daemon starts a balancer in the foreground, waits until addr accepts
// connections, stops it at the end of t and returns https://addr.
func daemon(t *testing.T, addr, bin string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	// nginx's workers are processes of their own: the whole group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() || os.Getenv("LB_TEST_LOG") != "" {
			t.Logf("%s's log:\n%s", filepath.Base(bin), grepErrors(out.String()))
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return "https://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %s", filepath.Base(bin), addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// grepErrors keeps a balancer's log lines that are not one request's access
// line with a 2xx status.
func grepErrors(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if l != "" && !strings.Contains(l, `"status":200`) && !strings.Contains(l, " 200 ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestLoadBalancerConfigs checks the shipped configurations with the
// balancers' own checkers.
func TestLoadBalancerConfigs(t *testing.T) {
	for _, b := range balancers {
		t.Run(b.name, func(t *testing.T) { b.check(t, "127.0.0.1:18081", "127.0.0.1:18082") })
	}
}

// TestBalancersLeaveCompressionToTheApp: neither balancer compresses (or
// decompresses) what the app already compressed.
func TestBalancersLeaveCompressionToTheApp(t *testing.T) {
	for _, c := range []struct {
		path      string
		want      []string
		forbidden *regexp.Regexp
	}{
		{"nginx/nginx.conf", []string{"\n    gzip off;", "\n    gunzip off;"}, regexp.MustCompile(`(?m)^\s*(gzip|gunzip|gzip_static)\s+on\b`)},
		{"haproxy/haproxy.cfg", nil, regexp.MustCompile(`(?m)^\s*(compression|filter\s+compression)\b`)},
	} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", c.path, strings.TrimSpace(w))
			}
		}
		if m := c.forbidden.FindString(string(b)); m != "" {
			t.Errorf("%s compresses: %q", c.path, m)
		}
	}
}

// TestTwoInstancesBehindBalancer runs the production topology on loopback:
// two instances of the binary on MariaDB and Redis behind nginx, then
// HAProxy, with their shipped configurations. Under a load of queries,
// mutations and a websocket subscription, the instance that holds the
// subscription gets SIGTERM: no query fails beyond one client retry, no
// mutation fails at all, and the subscription resumes through the balancer
// on the other instance with every committed event, in order, once.
func TestTwoInstancesBehindBalancer(t *testing.T) {
	bin := testutil.Binary(t)
	testutil.RequireRedis(t)
	for _, b := range balancers {
		t.Run(b.name, func(t *testing.T) { twoInstances(t, bin, b) })
	}
}

func twoInstances(t *testing.T, bin string, b balancer) {
	mariadb := testutil.All()[1]
	main, dolibarr := testutil.NewDatabase(t, mariadb), testutil.NewDolibarr(t, mariadb)
	redisHost, redisPort, _ := net.SplitHostPort(testutil.RedisAddr())
	env := append(append([]string{
		"APP_ENV=staging", "APP_URL=https://api.staging.example.com", "LOG_LEVEL=warn", "DEMO_SEED=false", "DOLIBARR_DEMO_SEED=false",
		"REDIS_HOST=" + redisHost, "REDIS_PORT=" + redisPort, fmt.Sprintf("REDIS_PREFIX=lbtest%08x:", rand.Uint32()),
		"FILE_SIGNING_KEY=" + strings.Repeat("5a", 32), "HTTP_TRUSTED_PROXIES=127.0.0.1",
		"HTTP_SHUTDOWN_DELAY=3s", "HTTP_SHUTDOWN_TIMEOUT=10s",
		"RATE_LIMIT_IP_PER_MINUTE=0", "RATE_LIMIT_KEY_PER_MINUTE=0",
	}, main.Env("DB")...), dolibarr.Env("DOLIBARR_DB")...)
	// A release: migrations first, then the instances.
	key := testutil.MigrateAndAdminKey(t, bin, env, "lb-test")
	instances := make([]*testutil.Server, 2)
	for i := range instances {
		instances[i] = testutil.StartServer(t, bin, append(env, "APP_DATA_DIR="+t.TempDir())...)
	}
	base := b.start(t, instances[0].Addr, instances[1].Addr)
	c := &client{t: t, base: base, key: key, http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16,
	}}}

	// The subscriber, through the balancer, from now on.
	sub := c.subscribe()
	victim := -1
	for deadline := time.Now().Add(10 * time.Second); victim < 0; time.Sleep(50 * time.Millisecond) {
		for i, s := range instances {
			if activeSubscriptions(s) > 0 {
				victim = i
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the subscription did not reach an instance")
		}
	}

	ctx, stop := context.WithCancel(context.Background())
	var load sync.WaitGroup
	var mu sync.Mutex
	var reads, retried int
	var failures, acked []string
	fail := func(f string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(f, args...))
		mu.Unlock()
	}
	for range 4 {
		load.Go(func() {
			for ctx.Err() == nil {
				_, err := c.do(`{ shipments(first: 5) { totalCount edges { node { reference status } } } }`, nil)
				if err != nil {
					mu.Lock()
					retried++
					if retried <= 3 {
						t.Logf("a query to retry: %v", err)
					}
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
					if _, err = c.do(`{ shipments(first: 5) { totalCount } }`, nil); err != nil {
						fail("query, retried once: %v", err)
					}
				}
				mu.Lock()
				reads++
				mu.Unlock()
			}
		})
	}
	load.Go(func() {
		statuses := []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "EXCEPTION", "OUT_FOR_DELIVERY", "DELIVERED"}
		at := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
		for n := 0; ctx.Err() == nil; n++ {
			var created struct {
				CreateShipment struct{ ID string } `json:"createShipment"`
			}
			data, err := c.do(`mutation($in: CreateShipmentInput!) { createShipment(input: $in) { id } }`, map[string]any{"in": shipmentInput(n)})
			if err == nil {
				err = json.Unmarshal(data, &created)
			}
			if err != nil {
				fail("createShipment: %v", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for i, st := range statuses {
				var added struct {
					AddTrackingEvent struct{ ID string } `json:"addTrackingEvent"`
				}
				data, err := c.do(`mutation($id: ID!, $in: TrackingEventInput!) { addTrackingEvent(shipmentId: $id, input: $in) { id } }`,
					map[string]any{"id": created.CreateShipment.ID, "in": map[string]any{"status": st, "occurredAt": at.Add(time.Duration(n*10+i) * time.Minute).Format(time.RFC3339)}})
				if err == nil {
					err = json.Unmarshal(data, &added)
				}
				if err != nil {
					fail("addTrackingEvent: %v", err)
					break
				}
				mu.Lock()
				acked = append(acked, added.AddTrackingEvent.ID)
				mu.Unlock()
			}
		}
	})

	time.Sleep(1500 * time.Millisecond)
	stopped := instances[victim]
	if err := stopped.Terminate(); err != nil {
		t.Fatal(err)
	}
	if err := stopped.Wait(30 * time.Second); err != nil {
		t.Errorf("the stopped instance: %v\n%s", err, stopped.Stderr())
	}
	mu.Lock()
	readsAtStop := reads
	mu.Unlock()
	time.Sleep(1500 * time.Millisecond)
	stop()
	load.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%s: %d queries (%d retried once), %d events acknowledged, instance %d stopped", b.name, reads, retried, len(acked), victim+1)
	if len(failures) > 0 {
		t.Errorf("%d failed requests:\n%s", len(failures), strings.Join(failures, "\n"))
	}
	if reads <= readsAtStop || len(acked) == 0 {
		t.Errorf("the load did not go on after the instance stopped: %d queries before, %d after; %d events", readsAtStop, reads, len(acked))
	}
	got := sub.wait(t, len(acked))
	if strings.Join(got, ",") != strings.Join(acked, ",") {
		t.Errorf("the subscription received %d events, want the %d acknowledged ones in order:\ngot  %v\nwant %v", len(got), len(acked), got, acked)
	}
	if sub.reconnects() == 0 {
		t.Error("the subscription never had to reconnect: was it on the stopped instance?")
	}
	var committed int
	if err := main.Open(t).QueryRow("SELECT COUNT(*) FROM tracking_events").Scan(&committed); err != nil || committed != len(acked) {
		t.Errorf("%d events committed (%v), %d acknowledged", committed, err, len(acked))
	}
	c.compressedOnce()
}

// compressedOnce: a list the app compresses reaches the client through the
// balancer compressed once, as the app encoded it, for each encoding.
func (c *client) compressedOnce() {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": `{ shipments(first: 50) { edges { node { reference status carrier trackingNumber } } } }`})
	for _, enc := range []string{"gzip", "zstd"} {
		req, err := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
		if err != nil {
			c.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.key)
		// Set by hand, the transport leaves the body as it comes.
		req.Header.Set("Accept-Encoding", enc)
		resp, err := c.http.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			c.t.Fatal(err)
		}
		if got := resp.Header.Values("Content-Encoding"); resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != enc {
			c.t.Errorf("%s through the balancer: HTTP %d, Content-Encoding %q", enc, resp.StatusCode, got)
			continue
		}
		if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
			c.t.Errorf("%s through the balancer: Vary %q", enc, resp.Header.Values("Vary"))
		}
		var plain []byte
		switch enc {
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err == nil {
				plain, err = io.ReadAll(zr)
			}
			if err != nil {
				c.t.Errorf("gzip through the balancer: %v", err)
			}
		case "zstd":
			d, _ := zstd.NewReader(nil)
			plain, err = d.DecodeAll(raw, nil)
			d.Close()
			if err != nil {
				c.t.Errorf("zstd through the balancer: %v", err)
			}
		}
		if !json.Valid(plain) || !bytes.Contains(plain, []byte(`"reference"`)) {
			c.t.Errorf("%s through the balancer: decoded %.200q", enc, plain)
		}
	}
}

func shipmentInput(n int) map[string]any {
	addr := func(name string) map[string]any {
		return map[string]any{"name": name, "line1": "12 rue des Lilas", "city": "Lyon", "postalCode": "69003", "countryCode": "FR"}
	}
	return map[string]any{
		"customerId": "Q3VzdG9tZXI6MQ", "carrier": "UPS", "serviceLevel": "Standard",
		"trackingNumber": fmt.Sprintf("LB%010d", n), "origin": addr("Dispatch"), "destination": addr("Receiving"),
		"parcels": []map[string]any{{"weightGrams": 1200, "lengthMm": 300, "widthMm": 200, "heightMm": 150}},
	}
}

// activeSubscriptions reads shipmentapp_subscriptions_active from s's /metrics.
func activeSubscriptions(s *testutil.Server) float64 {
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		return 0
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var n float64
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "shipmentapp_subscriptions_active") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += v
		}
	}
	return n
}

// client speaks GraphQL over HTTPS to the balancer.
type client struct {
	t    *testing.T
	base string
	key  string
	http *http.Client
}

// do posts a document and returns its data; a transport error, a status
// other than 200 or any GraphQL error is an error.
func (c *client) do(query string, vars map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || len(out.Errors) > 0 {
		return nil, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	return out.Data, nil
}

// subscription follows shipmentEvents through the balancer, reconnecting
// with `after:` whenever its connection ends, as a partner's client does.
type subscription struct {
	mu     sync.Mutex
	ids    []string
	cursor string
	again  int
	last   error
	first  chan struct{}
}

func (c *client) subscribe() *subscription {
	s := &subscription{first: make(chan struct{})}
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := c.follow(ctx, s, func() { once.Do(func() { close(s.first) }) })
			s.mu.Lock()
			s.again++
			s.last = err
			s.mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	}()
	select {
	case <-s.first:
	case <-time.After(15 * time.Second):
		c.t.Fatalf("the subscription did not start: %v", s.err())
	}
	return s
}

func (s *subscription) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *subscription) reconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.again
}

// wait returns the events received once there are n of them, or after 20s.
func (s *subscription) wait(t *testing.T, n int) []string {
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s.mu.Lock()
		got := append([]string(nil), s.ids...)
		s.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				t.Logf("the subscription's last error: %v", s.err())
			}
			return got
		}
	}
}

// follow runs one connection of s until it ends.
func (c *client) follow(ctx context.Context, s *subscription, started func()) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(c.base, "https")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPClient:   &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}},
	})
	if err != nil {
		return err
	}
	defer func() { _ = ws.CloseNow() }()
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return ws.Write(ctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]string{"authorization": "Bearer " + c.key}}); err != nil {
		return err
	}
	s.mu.Lock()
	vars := map[string]any{}
	if s.cursor != "" {
		vars["after"] = s.cursor
	}
	s.mu.Unlock()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		var m struct {
			Type    string
			Payload struct {
				Data struct {
					ShipmentEvents struct {
						Cursor string
						Node   struct{ ID string }
					} `json:"shipmentEvents"`
				}
				Errors []json.RawMessage
			}
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		switch m.Type {
		case "connection_ack":
			if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
				"query":     `subscription($after: Cursor) { shipmentEvents(after: $after) { cursor node { id } } }`,
				"variables": vars,
			}}); err != nil {
				return err
			}
			started()
		case "next":
			if len(m.Payload.Errors) > 0 {
				return fmt.Errorf("subscription error: %s", b)
			}
			e := m.Payload.Data.ShipmentEvents
			s.mu.Lock()
			s.ids = append(s.ids, e.Node.ID)
			s.cursor = e.Cursor
			s.mu.Unlock()
		case "ping":
			if err := send(map[string]any{"type": "pong"}); err != nil {
				return err
			}
		case "error", "complete":
			return fmt.Errorf("subscription ended: %s", b)
		}
	}
}
