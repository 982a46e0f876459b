package netguard

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// countingServer is an httptest server that counts the connections made to
// it and the requests it served.
type countingServer struct {
	*httptest.Server
	conns    atomic.Int64
	requests atomic.Int64
}

// newServer starts a server answering h (200 "ok" when nil) over TLS when
// tls is set (HTTP/2 enabled).
func newServer(t *testing.T, useTLS bool, h http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if h == nil {
			_, _ = io.WriteString(w, "ok")
			return
		}
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// port is the server's port.
func (s *countingServer) port(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// tlsConfig is a config trusting the server's certificate.
func (s *countingServer) tlsConfig() *tls.Config {
	return s.Client().Transport.(*http.Transport).TLSClientConfig
}

func get(ctx context.Context, c *http.Client, raw string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// TestRebinding: the name resolves to a public address when the URL is
// checked and to loopback at delivery; the client looks it up itself, and
// refuses without connecting.
func TestRebinding(t *testing.T) {
	srv := newServer(t, false, nil)
	r := &fakeResolver{answers: map[string][][]netip.Addr{
		"hooks.example.com": {parseAddrs("93.184.215.14"), parseAddrs("127.0.0.1")},
	}}
	p := Policy{AllowHTTP: true, Resolver: r}
	raw := "http://hooks.example.com:" + srv.port(t) + "/hook"
	if _, err := p.CheckURL(context.Background(), raw); err != nil {
		t.Fatalf("CheckURL: %v", err)
	}
	resp, err := get(context.Background(), p.Client(ClientOptions{}), raw)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("the request was sent (%s)", resp.Status)
	}
	var refused *Error
	if !errors.As(err, &refused) {
		t.Fatalf("error %v (%T), want *Error", err, err)
	}
	if want := "the address 127.0.0.1 of hooks.example.com is loopback"; refused.Reason != want {
		t.Errorf("reason %q, want %q", refused.Reason, want)
	}
	if n := r.lookups("hooks.example.com"); n != 2 {
		t.Errorf("%d lookups, want 2 (the check's and the client's own)", n)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Errorf("%d connections to the loopback server, want 0", n)
	}
}

// TestControl: the dialer's last check refuses what Blocked refuses,
// whatever resolved it.
func TestControl(t *testing.T) {
	tests := []struct {
		policy  Policy
		address string
		refused bool
	}{
		{Policy{}, "127.0.0.1:80", true},
		{Policy{}, "[::1]:443", true},
		{Policy{}, "[::ffff:10.0.0.1]:443", true},
		{Policy{}, "169.254.169.254:80", true},
		{Policy{}, "[fe80::1%eth0]:80", true},
		{Policy{}, "not-an-address", true},
		{Policy{}, "93.184.215.14:443", false},
		{Policy{Allowed: loopback}, "127.0.0.1:80", false},
		{Policy{Open: true}, "127.0.0.1:80", false},
	}
	for _, tt := range tests {
		err := tt.policy.control("tcp", tt.address, nil)
		var refused *Error
		if got := errors.As(err, &refused); got != tt.refused {
			t.Errorf("%+v control(%s) = %v, want refused %v", tt.policy, tt.address, err, tt.refused)
		}
	}
}

// TestDialerControl: the client's net.Dialer itself refuses a blocked
// address (the last check, should an address reach it unchecked).
func TestDialerControl(t *testing.T) {
	srv := newServer(t, false, nil)
	d := Policy{}.newDialer(time.Second)
	conn, err := d.net.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err == nil {
		_ = conn.Close()
		t.Fatal("the dialer connected to loopback")
	}
	var refused *Error
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "loopback") {
		t.Fatalf("error %v, want *Error naming loopback", err)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Errorf("%d connections, want 0", n)
	}
}

// TestLoopbackServer: a loopback receiver is reached under Open or when
// loopback is allowed, and refused otherwise.
func TestLoopbackServer(t *testing.T) {
	plain := newServer(t, false, nil)
	secure := newServer(t, true, nil)
	names := resolverOf(map[string][]string{"hooks.example.com": {"127.0.0.1"}, "hooks.other.test": {"127.0.0.1"}})
	tests := []struct {
		name   string
		policy Policy
		raw    string
		tls    bool
		reason string // "" when the request must succeed
		proto  int    // the HTTP major version wanted when it succeeds
	}{
		{"open", Policy{Open: true, AllowHTTP: true}, plain.URL, false, "", 1},
		{"loopback allowed", Policy{Allowed: loopback, AllowHTTP: true}, plain.URL, false, "", 1},
		{"allowed by name", Policy{Allowed: loopback, AllowHTTP: true, Resolver: names}, "http://hooks.example.com:" + plain.port(t) + "/", false, "", 1},
		{"default policy, http", Policy{}, plain.URL, false, "https is required", 0},
		{"http allowed, loopback not", Policy{AllowHTTP: true}, plain.URL, false, "the address 127.0.0.1 is loopback", 0},
		{"default policy, TLS", Policy{}, secure.URL, true, "the address 127.0.0.1 is loopback", 0},
		{"default policy, TLS by name", Policy{Resolver: names}, "https://hooks.example.com:" + secure.port(t) + "/", true, "the address 127.0.0.1 of hooks.example.com is loopback", 0},
		{"TLS loopback allowed", Policy{Allowed: loopback}, secure.URL, true, "", 2},
		// The certificate names *.example.com: the TLS server name is the
		// URL's host, not the address dialled.
		{"TLS by name", Policy{Allowed: loopback, Resolver: names}, "https://hooks.example.com:" + secure.port(t) + "/", true, "", 2},
		{"credentials", Policy{Open: true}, "http://u:p@" + strings.TrimPrefix(plain.URL, "http://"), false, "credentials", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ClientOptions{Timeout: 5 * time.Second}
			if tt.tls {
				o.TLSConfig = secure.tlsConfig()
			}
			c := tt.policy.Client(o)
			defer c.CloseIdleConnections()
			resp, err := get(context.Background(), c, tt.raw)
			if tt.reason != "" {
				if err == nil {
					_ = resp.Body.Close()
					t.Fatalf("the request was sent (%s)", resp.Status)
				}
				var refused *Error
				if !errors.As(err, &refused) {
					t.Fatalf("error %v (%T), want *Error", err, err)
				}
				if !strings.Contains(refused.Reason, tt.reason) {
					t.Fatalf("reason %q, want it to contain %q", refused.Reason, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer resp.Body.Close()
			body, err := ReadLimited(resp.Body, 1024)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Fatalf("got %s %q, want 200 ok", resp.Status, body)
			}
			if resp.ProtoMajor != tt.proto {
				t.Errorf("protocol %s, want HTTP/%d", resp.Proto, tt.proto)
			}
		})
	}
}

// TestTLSVerified: a certificate that does not name the URL's host is
// refused (the TLS check is not switched off, and uses the host).
func TestTLSVerified(t *testing.T) {
	secure := newServer(t, true, nil)
	names := resolverOf(map[string][]string{"hooks.other.test": {"127.0.0.1"}})
	for _, o := range []ClientOptions{
		{TLSConfig: secure.tlsConfig()}, // trusted, but not for this name
		{},                              // the system roots do not trust httptest's
	} {
		c := Policy{Allowed: loopback, Resolver: names}.Client(o)
		resp, err := get(context.Background(), c, "https://hooks.other.test:"+secure.port(t)+"/")
		if err == nil {
			_ = resp.Body.Close()
			t.Fatalf("the request was sent (%s)", resp.Status)
		}
		var certErr *tls.CertificateVerificationError
		if !errors.As(err, &certErr) {
			t.Errorf("error %v, want a certificate verification error", err)
		}
	}
	if n := secure.requests.Load(); n != 0 {
		t.Errorf("%d requests served, want 0", n)
	}
}

// TestNoRedirect: a 302 is the response; its Location is not requested.
func TestNoRedirect(t *testing.T) {
	var followed atomic.Int64
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	resp, err := get(context.Background(), Policy{Allowed: loopback, AllowHTTP: true}.Client(ClientOptions{}), srv.URL+"/hook")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %s, want 302", resp.Status)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestNoProxyFromEnvironment: with HTTP(S)_PROXY set, the client still goes
// straight to the receiver. The receiver is named (the environment's proxy
// is never used for a loopback IP) and the transport's Proxy is checked too,
// since net/http reads the environment once per process.
func TestNoProxyFromEnvironment(t *testing.T) {
	target := newServer(t, false, nil)
	proxy := newServer(t, false, nil)
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	p := Policy{Allowed: loopback, AllowHTTP: true, Resolver: resolverOf(map[string][]string{"hooks.example.com": {"127.0.0.1"}})}
	c := p.Client(ClientOptions{})
	if tr, ok := c.Transport.(*transport); !ok || tr.base.Proxy != nil {
		t.Fatalf("the transport (%T) has a proxy", c.Transport)
	}
	resp, err := get(context.Background(), c, "http://hooks.example.com:"+target.port(t)+"/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if target.requests.Load() != 1 || proxy.requests.Load() != 0 {
		t.Errorf("target served %d, proxy %d; want 1 and 0", target.requests.Load(), proxy.requests.Load())
	}
}

// TestTimeout: a receiver slower than Timeout costs Timeout, then a timeout
// error.
func TestTimeout(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"headers late", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}},
		{"body late", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, false, tt.h)
			c := Policy{Allowed: loopback, AllowHTTP: true}.Client(ClientOptions{Timeout: 200 * time.Millisecond})
			start := time.Now()
			resp, err := get(context.Background(), c, srv.URL)
			if err == nil {
				_, err = ReadLimited(resp.Body, 1024)
				_ = resp.Body.Close()
			}
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("no error from a receiver slower than the timeout")
			}
			var netErr net.Error
			if !errors.As(err, &netErr) || !netErr.Timeout() {
				t.Errorf("error %v, want a timeout", err)
			}
			if elapsed > 3*time.Second {
				t.Errorf("took %v with a 200ms timeout", elapsed)
			}
		})
	}
}

// TestDNSFailureIsNotARefusal: a name that does not resolve at delivery is
// an ordinary error (it may resolve on the next attempt).
func TestDNSFailureIsNotARefusal(t *testing.T) {
	c := Policy{AllowHTTP: true, Resolver: resolverOf(nil)}.Client(ClientOptions{})
	_, err := get(context.Background(), c, "http://gone.example.com/")
	if !errors.Is(err, errNoSuchHost) {
		t.Fatalf("error %v, want the resolver's", err)
	}
	var refused *Error
	if errors.As(err, &refused) {
		t.Fatalf("a lookup failure is an *Error: %v", err)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadLimited(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	tests := []struct {
		name     string
		body     []byte
		n        int
		want     int // bytes returned
		consumed int // bytes read from the reader
	}{
		{"empty", nil, 1024, 0, 0},
		{"short", []byte("hello"), 1024, 5, 5},
		{"exact", big[:1024], 1024, 1024, 1024},
		{"longer, drained", big[:10000], 1024, 1024, 10000},
		{"much longer, drain bounded", big, 1024, 1024, 1024 + 64<<10},
		{"zero", []byte("hello"), 0, 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &countingReader{r: bytes.NewReader(tt.body)}
			got, err := ReadLimited(r, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.body[:tt.want]) {
				t.Errorf("got %d bytes, want the first %d", len(got), tt.want)
			}
			if r.n != tt.consumed {
				t.Errorf("read %d bytes, want %d", r.n, tt.consumed)
			}
		})
	}
}

func TestReadLimitedErrors(t *testing.T) {
	boom := errors.New("boom")
	got, err := ReadLimited(io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 10)
	if !errors.Is(err, boom) || string(got) != "ab" {
		t.Errorf("ReadLimited = %q, %v; want \"ab\" and the reader's error", got, err)
	}
	// An error after the kept bytes only stops the draining.
	got, err = ReadLimited(io.MultiReader(strings.NewReader("abcd"), iotest.ErrReader(boom)), 2)
	if err != nil || string(got) != "ab" {
		t.Errorf("ReadLimited = %q, %v; want \"ab\" and no error", got, err)
	}
	if _, err := ReadLimited(strings.NewReader("x"), -1); err == nil {
		t.Error("a negative limit is accepted")
	}
}
