package testutil

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback that a test controls to inject network
// faults between the app and a real server: Cut (the server is gone:
// connections closed, new ones refused), Blackhole (half-open: connections
// stay open and new ones are accepted, but no byte moves either way), Delay
// (every chunk forwarded late) and Restore.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	// blackhole holds every byte (and new connections' dials) until Restore.
	blackhole bool
	delay     time.Duration
	// changed is closed (and replaced) whenever the fault changes, to wake
	// the copies waiting on a blackhole.
	changed chan struct{}
	faults  int
	// cutAfter arms CutAfter.
	cutAfter []byte
}

// NewProxy forwards a new loopback port to target; it is closed when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: map[net.Conn]struct{}{}, changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Host and Port of Addr.
func (p *Proxy) Host() string { h, _ := splitAddr(p.addr); return h }

// Port of Addr.
func (p *Proxy) Port() int { _, n := splitAddr(p.addr); return n }

// Faults is how many faults (Cut, Blackhole, Delay) were injected.
func (p *Proxy) Faults() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

// track registers c, unless the proxy was cut meanwhile.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// pass waits while the proxy is a blackhole and returns the delay to apply,
// or false when c was closed meanwhile (a cut).
func (p *Proxy) pass(c net.Conn) (time.Duration, bool) {
	for {
		p.mu.Lock()
		_, open := p.conns[c]
		hole, delay, changed := p.blackhole, p.delay, p.changed
		p.mu.Unlock()
		if !open {
			return 0, false
		}
		if !hole {
			return delay, true
		}
		<-changed
	}
}

func (p *Proxy) pipe(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	defer p.untrack(c)
	// Accepted, but not forwarded while blackholed: the client sees a
	// connection that never answers.
	if _, ok := p.pass(c); !ok {
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(up) {
		_ = c.Close()
		_ = up.Close()
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn, toServer bool) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				delay, ok := p.pass(src)
				if !ok {
					return
				}
				if toServer && p.trips(buf[:n]) {
					_, _ = dst.Write(buf[:n])
					p.Cut()
					return
				}
				if delay > 0 {
					time.Sleep(delay)
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go cp(up, c, true)
	go cp(c, up, false)
	<-done
	_ = c.Close()
	_ = up.Close()
}

// notify wakes the copies waiting on a change; p.mu is held.
func (p *Proxy) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Cut closes every connection and refuses new ones, as a stopped server would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
		p.faults++
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.blackhole, p.delay = false, 0
	p.notify()
}

// CutAfter arms a cut for the next chunk a client sends that contains
// pattern: the chunk reaches the server, then the proxy cuts (as Cut) before
// any answer gets back. The server did what it was asked (a COMMIT, say) and
// the client never hears it: an ambiguous outcome it must not take for a
// failure.
func (p *Proxy) CutAfter(pattern []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAfter = bytes.Clone(pattern)
}

// trips reports whether chunk sets off the armed CutAfter; if so, it holds
// every answer (a blackhole) until the cut.
func (p *Proxy) trips(chunk []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutAfter == nil || !bytes.Contains(chunk, p.cutAfter) {
		return false
	}
	p.cutAfter = nil
	p.blackhole = true
	p.notify()
	return true
}

// Blackhole stops forwarding in both directions without closing anything:
// open connections go silent and new ones are accepted but never reach the
// server (a half-open connection, a partition, a hung server). Bytes sent
// meanwhile are delivered after Restore, as TCP would retransmit them.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = true
	p.faults++
	p.notify()
}

// Delay forwards every chunk of bytes, either way, d late (0: no delay).
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
	if d > 0 {
		p.faults++
	}
	p.notify()
}

// Restore ends every fault: connections flow again without delay, and after
// a Cut the proxy accepts again on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	p.blackhole, p.delay = false, 0
	p.notify()
	cut := p.ln == nil
	p.mu.Unlock()
	if !cut {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		p.t.Fatalf("restore proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
