package testutil

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
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
)

// Binary builds the shipmentapp command into a temporary directory of t and
// returns its path. Tests of what only a real process shows (signals, exit
// codes, a load balancer in front) run it.
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "shipmentapp")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/shipmentapp/shipmentapp")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// FreeAddr returns a loopback address nothing listens on (yet), on a
// port of freePort's.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

// freePort returns a loopback port nobody listens on, outside the usual
// ephemeral range so that no outgoing connection takes it while the
// service is stopped.
func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 20000 + mrand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = ln.Close()
			return port
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

// Server is a `shipmentapp serve` process.
type Server struct {
	// Addr is where it listens.
	Addr string
	Cmd  *exec.Cmd

	keys chan string

	stderr lockedBuffer
	exited chan struct{} // closed when the process has exited, with exit set
	exit   error
}

// StartServer runs bin serve on a free loopback port with the environment
// env (over this process's), waits until /readyz answers 200, and kills it at
// the end of t if it is still running.
func StartServer(t testing.TB, bin string, env ...string) *Server {
	t.Helper()
	s := &Server{Addr: FreeAddr(t), exited: make(chan struct{})}
	s.Cmd = exec.Command(bin, "serve")
	s.Cmd.Env = append(append(os.Environ(), "APP_ADDR="+s.Addr), env...)
	s.Cmd.Stderr = &s.stderr
	stdout, err := s.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Cmd.Process.Kill()
		<-s.exited
	})
	s.keys = make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "sa_") {
				select {
				case s.keys <- line:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		// Reading stdout to its end comes before Wait (os/exec's rule).
		s.exit = s.Cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for s.Status("/readyz") != http.StatusOK {
		select {
		case <-s.exited:
			t.Fatalf("the server exited before it was ready (%v):\n%s", s.exit, s.Stderr())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server was not ready within a minute:\n%s", s.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// AdminKey returns the development admin key the server printed at its first
// start (development, no key in the database yet).
func (s *Server) AdminKey(t testing.TB) string {
	t.Helper()
	select {
	case k := <-s.keys:
		return k
	case <-time.After(10 * time.Second):
		t.Fatalf("no admin key printed:\n%s", s.Stderr())
		return ""
	}
}

// URL returns the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Status returns the status of GET path, 0 when the server does not answer.
func (s *Server) Status(path string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(s.URL() + path)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Stderr returns what the process logged so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Terminate sends SIGTERM.
func (s *Server) Terminate() error { return s.Cmd.Process.Signal(syscall.SIGTERM) }

// Kill sends SIGKILL: the process dies at once, in the middle of whatever
// it was doing, as in a crash or an OOM kill (Wait then returns its error).
func (s *Server) Kill() error { return s.Cmd.Process.Signal(syscall.SIGKILL) }

// PID returns the process ID of the server (an instance names itself by it,
// in webhook leases for one).
func (s *Server) PID() int { return s.Cmd.Process.Pid }

// Wait waits up to timeout for the process to exit and returns its error
// (nil for exit status 0).
func (s *Server) Wait(timeout time.Duration) error {
	select {
	case <-s.exited:
		return s.exit
	case <-time.After(timeout):
		return fmt.Errorf("still running after %s", timeout)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// RequireCommands returns the paths of the programs names (looked up on
// PATH, then in the sbin directories and Go's bin directory), skipping t
// loudly (failing it under REQUIRE_ALL_DATABASES=1) when one is missing.
func RequireCommands(t testing.TB, names ...string) map[string]string {
	t.Helper()
	home, _ := os.UserHomeDir()
	dirs := []string{"/usr/sbin", "/usr/local/sbin", os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(home, "go", "bin")}
	paths := map[string]string{}
	var missing []string
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			paths[name] = p
			continue
		}
		for _, d := range dirs {
			if p := filepath.Join(d, name); d != "" && isExecutable(p) {
				paths[name] = p
				break
			}
		}
		if paths[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return paths
	}
	SkipOrFail(t, fmt.Sprintf("%s not installed (scripts/services.sh installs them): this test is SKIPPED", strings.Join(missing, ", ")))
	return nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// SelfSignedCert writes a self-signed certificate for 127.0.0.1 and
// localhost, valid for a day, into dir: cert.pem, key.pem, and both in
// bundle.pem (HAProxy's format). It returns their paths in that order.
func SelfSignedCert(t testing.TB, dir string) (cert, key, bundle string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	cert, key, bundle = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "bundle.pem")
	for p, b := range map[string][]byte{cert: certPEM, key: keyPEM, bundle: append(append([]byte{}, certPEM...), keyPEM...)} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, bundle
}

// Run runs the shipmentapp command bin with args and env (plus a data
// directory of t's) and returns its output; a failure fails t.
func Run(t testing.TB, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), env...), "APP_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("shipmentapp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// MigrateAndAdminKey prepares a release as an operator does: migrations
// applied by `shipmentapp migrate up`, then an ADMIN key made by
// `shipmentapp apikey create`, whose secret it returns.
func MigrateAndAdminKey(t testing.TB, bin string, env []string, name string) string {
	t.Helper()
	Run(t, bin, env, "migrate", "up")
	key := regexp.MustCompile(`sa_[A-Za-z0-9_-]+`).FindString(Run(t, bin, env, "apikey", "create", "--name", name, "--role", "ADMIN"))
	if key == "" {
		t.Fatal("shipmentapp apikey create printed no key")
	}
	return key
}
