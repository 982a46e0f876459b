package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

// FreeAddr returns a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
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
