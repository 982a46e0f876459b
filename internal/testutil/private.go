//go:build linux

package testutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
)

// Private servers: processes owned by one test, which may stop them for
// real (the process is terminated) and start them again on the same port and
// data, without touching the shared services of scripts/services.sh. They
// are stopped when the test ends, and killed if the test binary dies.

// Service is a server process run by a test.
type Service struct {
	Name string
	// Dir holds the server's data and its log (Name.log).
	Dir   string
	addr  string
	argv  []string
	env   []string
	ready func(ctx context.Context) error // nil when the server answers

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// newService prepares a service on a free loopback port, in a directory of
// its own; the caller sets argv. It is stopped when t ends.
func newService(t testing.TB, name string) *Service {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Service{Name: name, Dir: dir, addr: FreeAddr(t)}
	s.ready = func(ctx context.Context) error { return dialTCP(ctx, s.addr) }
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop %s: %v", s.Name, err)
		}
	})
	return s
}

func dialTCP(ctx context.Context, addr string) error {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err == nil {
		_ = c.Close()
	}
	return err
}

// Addr is the service's host:port.
func (s *Service) Addr() string { return s.addr }

// Host of Addr.
func (s *Service) Host() string { h, _ := splitAddr(s.addr); return h }

// Port of Addr.
func (s *Service) Port() int { _, n := splitAddr(s.addr); return n }

// Start starts the process (unless it runs) and waits until it answers.
func (s *Service) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Stop sends the process SIGTERM and waits for it to exit.
func (s *Service) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("stop %s: %v", s.Name, err)
	}
}

func (s *Service) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(s.logPath(), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Killed with the test binary (a panic, a -timeout): never left running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", s.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		err := s.ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("%s exited while starting (%v); its log:\n%s", s.Name, cmd.ProcessState, s.logTail())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("%s did not answer on %s within 60s (%v); its log:\n%s", s.Name, s.addr, err, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Service) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("still running 60s after SIGTERM: killed")
	}
}

func (s *Service) logPath() string { return filepath.Join(s.Dir, s.Name+".log") }

// logTail is the end of the service's log, for failure messages.
func (s *Service) logTail() string {
	b, _ := os.ReadFile(s.logPath())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// startAll starts services in parallel.
func startAll(t testing.TB, services ...*Service) {
	t.Helper()
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() { errs[i] = s.start() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// MariaDBServer is a private mariadbd: root without a password over TCP.
type MariaDBServer struct {
	*Service
}

// Backend is the server as a backend for NewDatabase, NewDolibarr and
// CreateDatabase.
func (m *MariaDBServer) Backend() Backend {
	b := MariaDB
	b.Name = m.Name + "@" + m.addr // Reachable caches by name
	b.Host, b.Port = m.Host(), m.Port()
	return b
}

// NewMariaDBServers starts n private MariaDB servers in parallel, each with
// its own port and data directory, small buffers and no binary log. The
// data directory is created once (mariadb-install-db takes seconds) and
// copied.
func NewMariaDBServers(t testing.TB, n int) []*MariaDBServer {
	t.Helper()
	bin := RequireCommands(t, "mariadbd", "mariadb-install-db")
	small := []string{"--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M"}
	var user []string
	if os.Geteuid() == 0 {
		user = []string{"--user=root"} // mariadbd refuses to run as root otherwise
	}
	template := filepath.Join(t.TempDir(), "datadir")
	install := append([]string{"--no-defaults", "--datadir=" + template, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve"}, append(user, small...)...)
	if out, err := exec.Command(bin["mariadb-install-db"], install...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	servers := make([]*MariaDBServer, n)
	services := make([]*Service, n)
	for i := range servers {
		s := newService(t, fmt.Sprintf("mariadb-%d", i+1))
		data := filepath.Join(s.Dir, "data")
		if out, err := exec.Command("cp", "-a", template, data).CombinedOutput(); err != nil {
			t.Fatalf("copy the data directory: %v\n%s", err, out)
		}
		sock := filepath.Join(s.Dir, "sock")
		if len(sock) > 100 { // a unix socket path has at most 107 bytes
			sock = filepath.Join(os.TempDir(), fmt.Sprintf("sa-mariadb-%d.sock", s.Port()))
		}
		s.argv = append([]string{bin["mariadbd"], "--no-defaults", "--datadir=" + data,
			"--port=" + strconv.Itoa(s.Port()), "--bind-address=127.0.0.1", "--socket=" + sock,
			"--pid-file=" + filepath.Join(s.Dir, "pid"), "--log-error=" + s.logPath(),
			"--skip-name-resolve", "--skip-log-bin", "--innodb-use-native-aio=0",
			"--innodb-flush-log-at-trx-commit=2", "--max-connections=100",
			"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"}, append(user, small...)...)
		m := &MariaDBServer{Service: s}
		s.ready = func(ctx context.Context) error {
			if err := dialTCP(ctx, s.addr); err != nil {
				return err
			}
			admin, err := adminDB(m.Backend())
			if err != nil {
				return err
			}
			defer func() { _ = admin.Close() }()
			return admin.PingContext(ctx)
		}
		servers[i], services[i] = m, s
	}
	startAll(t, services...)
	return servers
}

// CreateDatabase creates the database name on b (a private server:
// nothing drops it) and applies the migrations of the main database, as a
// replica of a database of that name would have them.
func CreateDatabase(t testing.TB, b Backend, name string) Database {
	t.Helper()
	admin, err := adminDB(b)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close() }()
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s on %s: %v", name, b.Name, err)
	}
	d := Database{Backend: b, Name: name}
	m, err := migrate.New(d.Open(t), config.DriverMySQL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate %s on %s: %v", name, b.Name, err)
	}
	return d
}

// NewRedisServer starts a private Redis without persistence.
func NewRedisServer(t testing.TB) *Service {
	t.Helper()
	bin := RequireCommands(t, "redis-server")
	s := newService(t, "redis")
	s.argv = []string{bin["redis-server"], "--port", strconv.Itoa(s.Port()), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", s.Dir}
	s.ready = func(ctx context.Context) error {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return err
		}
		defer func() { _ = c.Close() }()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			return fmt.Errorf("redis answers %q to PING (%v)", line, err)
		}
		return nil
	}
	s.Start(t)
	return s
}

// NewS3Server starts a private versitygw over its own directory, with the
// credentials of S3(), creates a bucket on it (NewBucket) and returns the
// configuration entries that select the bucket.
func NewS3Server(t testing.TB) (*Service, []string) {
	t.Helper()
	bin := RequireCommands(t, "versitygw")
	_, access, secret := S3()
	s := newService(t, "versitygw")
	data := filepath.Join(s.Dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	s.argv = []string{bin["versitygw"], "--port", s.addr, "posix", data}
	s.env = []string{"ROOT_ACCESS_KEY_ID=" + access, "ROOT_SECRET_ACCESS_KEY=" + secret}
	s.Start(t)
	// NewBucket uses the server of TEST_S3_ENDPOINT; no other test runs
	// meanwhile (t.Setenv refuses parallel tests).
	t.Setenv("TEST_S3_ENDPOINT", "http://"+s.addr)
	return s, NewBucket(t)
}
