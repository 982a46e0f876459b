package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is a `shipmentapp serve` running in this process.
type served struct {
	url      string // the URL of the start-up line
	urlFrom  string // where it came from
	listen   string // the address bound
	adminKey string
}

var (
	servingLine   = regexp.MustCompile(`msg=serving .*`)
	servingURL    = regexp.MustCompile(`\burl=(\S+)`)
	servingFrom   = regexp.MustCompile(`\burl_from=("[^"]*"|\S+)`)
	servingListen = regexp.MustCompile(`\blisten=(\S+)`)
	servingGQL    = regexp.MustCompile(`\bgraphql=http://(\S+)/graphql`)
	adminKeyLine  = regexp.MustCompile(`(?m)^(sa_\S+)$`)
	pngSignature  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	sampleUpload  = append(append([]byte(nil), pngSignature...), bytes.Repeat([]byte{0x42}, 3000)...)
	serveEnvBasic = []string{"APP_ENV=development", "LOG_LEVEL=info", "DEMO_SEED=false", "REDIS_HOST=", "CACHE_DRIVER=memory"}
)

// startServe runs the serve command as main does, with env set, until the
// test ends, and returns what its start-up line says.
func startServe(t *testing.T, env ...string) served {
	t.Helper()
	t.Setenv("APP_DATA_DIR", t.TempDir())
	// Nothing else set: no APP_URL from the environment the test runs in.
	t.Setenv("APP_URL", "")
	_ = os.Unsetenv("APP_URL")
	for _, kv := range append(append([]string(nil), serveEnvBasic...), env...) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var out, errOut syncBuffer
	cmd := newRootCmd(&out, &errOut)
	cmd.SetArgs([]string{"serve"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if line := servingLine.FindString(errOut.String()); line != "" {
			field := func(re *regexp.Regexp) string {
				if m := re.FindStringSubmatch(line); m != nil {
					return strings.Trim(m[1], `"`)
				}
				return ""
			}
			s := served{url: field(servingURL), urlFrom: field(servingFrom), listen: field(servingListen)}
			if s.listen == "" {
				s.listen = field(servingGQL) // before the line said listen=
			}
			if k := adminKeyLine.FindStringSubmatch(out.String()); k != nil {
				s.adminKey = k[1]
			}
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited before serving: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no start-up line within 90s:\n%s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gqlPost posts a GraphQL request to base with the admin key.
func gqlPost(t *testing.T, base, key, contentType string, body []byte, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Apollo-Require-Preflight", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 || resp.StatusCode != http.StatusOK {
		t.Fatalf("graphql: %d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatal(err)
	}
}

// uploadFile creates a shipment on the server at base and uploads a file to
// it, returning the file's url.
func uploadFile(t *testing.T, base, key string) string {
	t.Helper()
	addr := map[string]any{"name": "A", "line1": "1 rue", "city": "Lyon", "postalCode": "69001", "countryCode": "FR"}
	create, _ := json.Marshal(map[string]any{
		"query": `mutation($in: CreateShipmentInput!) { createShipment(input: $in) { id } }`,
		"variables": map[string]any{"in": map[string]any{
			"customerId": "Q3VzdG9tZXI6MQ", "carrier": "DHL", "serviceLevel": "Express", "origin": addr, "destination": addr,
			"parcels": []any{map[string]any{"weightGrams": 1200, "lengthMm": 300, "widthMm": 200, "heightMm": 100}},
		}},
	})
	var sh struct{ CreateShipment struct{ ID string } }
	gqlPost(t, base, key, "application/json", create, &sh)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($s: ID!, $f: Upload!) { uploadShipmentFile(shipmentId: $s, kind: LABEL, file: $f) { url(expiresIn: 600) } }`,
		"variables": map[string]any{"s": sh.CreateShipment.ID, "f": nil},
	})
	body, ct := testutil.Multipart(t,
		testutil.Part{Name: "operations", Body: ops},
		testutil.Part{Name: "map", Body: []byte(`{"0": ["variables.f"]}`)},
		testutil.Part{Name: "0", FileName: "label.png", ContentType: "image/png", Body: sampleUpload})
	var up struct{ UploadShipmentFile struct{ URL string } }
	gqlPost(t, base, key, ct, body, &up)
	return up.UploadShipmentFile.URL
}

// TestServeURLFollowsListenAddress: without APP_URL, serve's public URL is
// the address it listens on (issue 18, defect 1): File.url links point there
// and download, and a websocket from the server's own origin is accepted,
// while a foreign origin is still refused. With APP_URL, links follow
// APP_URL, and a page served by the server itself may still open a websocket
// (browsers' same-origin rule).
func TestServeURLFollowsListenAddress(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		wantURL func(listen string) string
		urlFrom string
	}{
		{"APP_ADDR only", []string{"APP_ADDR=127.0.0.1:0"},
			func(listen string) string { return "http://" + listen }, "listen address (APP_URL not set)"},
		{"APP_ADDR with a wildcard host", []string{"APP_ADDR=0.0.0.0:0"},
			func(listen string) string { _, port, _ := net.SplitHostPort(listen); return "http://127.0.0.1:" + port }, "listen address (APP_URL not set)"},
		{"APP_URL set", []string{"APP_ADDR=127.0.0.1:0", "APP_URL=https://api.example.com"},
			func(string) string { return "https://api.example.com" }, "APP_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServe(t, tc.env...)
			_, port, err := net.SplitHostPort(s.listen)
			if err != nil || port == "0" || port == "8080" {
				t.Fatalf("listening on %q: want the port chosen for port 0", s.listen)
			}
			if want := tc.wantURL(s.listen); s.url != want || s.urlFrom != tc.urlFrom {
				t.Errorf("start-up line: url=%s url_from=%q, want %s from %q", s.url, s.urlFrom, want, tc.urlFrom)
			}
			if s.adminKey == "" {
				t.Fatal("no development admin key printed")
			}
			// The server itself is on the loopback address of its port.
			local := "http://127.0.0.1:" + port

			link := uploadFile(t, local, s.adminKey)
			if want := tc.wantURL(s.listen); !strings.HasPrefix(link, want+"/files/") {
				t.Errorf("File.url = %s, want a link under %s", link, want)
			}
			if tc.urlFrom != "APP_URL" {
				// The link itself downloads the file.
				resp, err := http.Get(link)
				if err != nil {
					t.Errorf("download %s: %v", link, err)
				} else {
					got, _ := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK || !bytes.Equal(got, sampleUpload) {
						t.Errorf("download %s: %d, %d bytes", link, resp.StatusCode, len(got))
					}
				}
			}

			origins := []struct {
				server, origin string
				ok             bool
			}{
				{local, local, true}, // the page the server itself serves
				{"http://localhost:" + port, "http://localhost:" + port, true}, // the same, by another name
				{local, "https://127.0.0.1:" + port, false},                    // another scheme is another origin
				{local, "http://127.0.0.1:1", false},                           // another port is another origin
				{local, "http://localhost:" + port, false},                     // another host is another origin
				{local, "https://evil.example", false},
				{local, "null", false},
			}
			if tc.urlFrom == "APP_URL" {
				origins = append(origins, struct {
					server, origin string
					ok             bool
				}{local, "https://api.example.com", true})
			}
			for _, o := range origins {
				ws, resp, err := testutil.DialWS(t, o.server, "graphql-transport-ws", http.Header{"Origin": {o.origin}})
				switch {
				case o.ok && err != nil:
					t.Errorf("websocket to %s from %s refused: %v", o.server, o.origin, err)
				case o.ok:
					ws.Init(map[string]any{"authorization": "Bearer " + s.adminKey})
				case err == nil || resp == nil || resp.StatusCode != http.StatusForbidden:
					t.Errorf("websocket to %s from %s: want 403, got %v %v", o.server, o.origin, resp, err)
				}
			}
		})
	}
}

// TestProbeFollowsConfig: probe's default target is the listen address of
// the configuration the server runs with (APP_ADDR, or app_addr in the
// --config file; a wildcard host is this host), not a fixed 127.0.0.1:8080.
func TestProbeFollowsConfig(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/livez" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	t.Setenv("APP_ADDR", "")
	_ = os.Unsetenv("APP_ADDR")
	t.Setenv("APP_CONFIG", "")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string
	}{
		{"APP_ADDR", map[string]string{"APP_ADDR": "127.0.0.1:" + port}, ""},
		{"APP_ADDR with a wildcard host", map[string]string{"APP_ADDR": "0.0.0.0:" + port}, ""},
		{"app_addr in the config file", nil, "app_addr: 127.0.0.1:" + port + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := []string{"probe", "live"}
			if tc.file != "" {
				p := filepath.Join(dir, "config.yaml")
				if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append([]string{"--config", p}, args...)
			}
			if out, err := run(t, args...); err != nil || !strings.Contains(out, "/livez 200") {
				t.Errorf("probe live: %v\n%s", err, out)
			}
		})
	}
}
