package testutil_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// echoServer echoes every connection back until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes msg on c and reads it back within d.
func roundTrip(c net.Conn, msg string, d time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustEcho(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if got, err := roundTrip(c, msg, 2*time.Second); err != nil || got != msg {
		t.Fatalf("echo %q: got %q, %v", msg, got, err)
	}
}

func TestProxyCut(t *testing.T) {
	p := testutil.NewProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	mustEcho(t, c, "hello")

	p.Cut()
	if _, err := roundTrip(c, "x", 2*time.Second); err == nil {
		t.Fatal("an open connection survived the cut")
	}
	if c2, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		_ = c2.Close()
		t.Fatal("a new connection was accepted while cut")
	}

	p.Restore()
	mustEcho(t, dial(t, p.Addr()), "again")
	if p.Faults() != 1 {
		t.Errorf("faults %d, want 1", p.Faults())
	}
}

func TestProxyBlackhole(t *testing.T) {
	p := testutil.NewProxy(t, echoServer(t))
	open := dial(t, p.Addr())
	mustEcho(t, open, "before")

	p.Blackhole()
	// An open connection goes silent; it is not closed.
	if _, err := roundTrip(open, "held", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("open connection through a blackhole: %v, want a timeout", err)
	}
	// A new connection is accepted (half-open) and never answered.
	fresh := dial(t, p.Addr())
	if _, err := roundTrip(fresh, "new!", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("new connection through a blackhole: %v, want a timeout", err)
	}

	// Restored, what was held is delivered, in order.
	p.Restore()
	buf := make([]byte, len("held"))
	_ = open.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(open, buf); err != nil || string(buf) != "held" {
		t.Fatalf("held bytes after restore: %q, %v", buf, err)
	}
	_ = fresh.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(fresh, buf); err != nil || string(buf) != "new!" {
		t.Fatalf("held bytes of the new connection after restore: %q, %v", buf, err)
	}
	mustEcho(t, open, "after")
	mustEcho(t, fresh, "after")
}

func TestProxyCutWhileBlackholed(t *testing.T) {
	p := testutil.NewProxy(t, echoServer(t))
	open := dial(t, p.Addr())
	mustEcho(t, open, "before")
	p.Blackhole()
	fresh := dial(t, p.Addr())
	p.Cut()
	for name, c := range map[string]net.Conn{"open": open, "accepted while blackholed": fresh} {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s connection not closed by the cut: %v", name, err)
		}
	}
	p.Restore()
	mustEcho(t, dial(t, p.Addr()), "back")
}

func TestProxyDelay(t *testing.T) {
	p := testutil.NewProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	mustEcho(t, c, "warm")

	const d = 150 * time.Millisecond
	p.Delay(d)
	start := time.Now()
	mustEcho(t, c, "slow")
	// Once each way.
	if took := time.Since(start); took < 2*d {
		t.Fatalf("round trip with %s of delay took %s", d, took)
	}
	// A deadline shorter than the delay expires.
	if _, err := roundTrip(c, "late", d); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("round trip under a short deadline: %v", err)
	}
	_ = c.Close()

	p.Restore()
	c = dial(t, p.Addr())
	start = time.Now()
	mustEcho(t, c, "fast")
	if took := time.Since(start); took >= d {
		t.Fatalf("round trip after restore took %s", took)
	}
}
