// Command pgcount is a TCP proxy for the PostgreSQL wire protocol that counts
// the statements clients send, to compare statements per request across
// systems (issue 9) the same way whatever their driver:
//
//	go run ./internal/tools/pgcount -listen 127.0.0.1:15432 -target 127.0.0.1:5432 -http 127.0.0.1:15433
//	curl -s -XPOST 127.0.0.1:15433/reset; ...; curl -s 127.0.0.1:15433/count
//
// A statement is a simple-query message ('Q', which may hold several
// statements separated by semicolons: it counts once) or an Execute message
// of the extended protocol ('E'). pgx's liveness check ("-- ping", sent by
// database/sql's session reset after a second idle) is counted apart, as
// pings. An SSLRequest or GSSENCRequest is answered 'N' (plain text);
// everything else passes through untouched.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("pgcount: ")
	listen := flag.String("listen", "127.0.0.1:15432", "address clients connect to")
	target := flag.String("target", "127.0.0.1:5432", "the PostgreSQL server")
	httpAddr := flag.String("http", "127.0.0.1:15433", "address of GET /count and POST /reset")
	verbose := flag.Bool("v", false, "log every counted statement")
	flag.Parse()
	p := &Proxy{Target: *target, Verbose: *verbose}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		srv := &http.Server{Addr: *httpAddr, Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second}
		log.Fatal(srv.ListenAndServe())
	}()
	log.Printf("proxying %s -> %s; counts at http://%s/count", *listen, *target, *httpAddr)
	log.Fatal(p.Serve(context.Background(), ln))
}

// Proxy counts the statements that pass through it.
type Proxy struct {
	Target  string
	Verbose bool

	statements, simple, extended, pings atomic.Int64
}

// Counts is what GET /count answers.
type Counts struct {
	Statements int64 `json:"statements"`
	Simple     int64 `json:"simple"`
	Extended   int64 `json:"extended"`
	Pings      int64 `json:"pings"`
}

// Counts returns the counts since the last reset.
func (p *Proxy) Counts() Counts {
	return Counts{Statements: p.statements.Load(), Simple: p.simple.Load(), Extended: p.extended.Load(), Pings: p.pings.Load()}
}

// Reset sets the counts to zero.
func (p *Proxy) Reset() {
	p.statements.Store(0)
	p.simple.Store(0)
	p.extended.Store(0)
	p.pings.Store(0)
}

// Handler serves GET /count and POST /reset.
func (p *Proxy) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Counts())
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		p.Reset()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Counts())
	})
	return mux
}

// Serve accepts connections on ln until ctx ends or ln fails.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() {
			if err := p.handle(c); err != nil && p.Verbose {
				log.Printf("connection %s: %v", c.RemoteAddr(), err)
			}
		})
	}
}

const (
	sslRequest    = 80877103
	gssencRequest = 80877104
	cancelRequest = 80877102
	maxStartup    = 10000
)

func (p *Proxy) handle(client net.Conn) error {
	defer func() { _ = client.Close() }()
	br := bufio.NewReaderSize(client, 64<<10)
	// Untyped startup-phase messages: SSL/GSS negotiation, then the startup
	// message or a cancel request.
	var startup []byte
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[:4]))
		if n < 8 || n > maxStartup {
			return fmt.Errorf("bad startup length %d", n)
		}
		code := binary.BigEndian.Uint32(hdr[4:])
		if code == sslRequest || code == gssencRequest {
			if _, err := client.Write([]byte{'N'}); err != nil {
				return err
			}
			continue
		}
		startup = make([]byte, n)
		copy(startup, hdr[:])
		if _, err := io.ReadFull(br, startup[8:]); err != nil {
			return err
		}
		break
	}
	server, err := net.DialTimeout("tcp", p.Target, 10*time.Second)
	if err != nil {
		return err
	}
	defer func() { _ = server.Close() }()
	if _, err := server.Write(startup); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(startup[4:8]) == cancelRequest {
		_, _ = io.Copy(io.Discard, server)
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(client, server)
		// The server hung up: unblock the client side.
		_ = client.Close()
		done <- err
	}()
	err = p.pump(br, server)
	_ = server.Close()
	<-done
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// pump forwards the client's typed messages to the server, counting them,
// and flushes whenever the client has nothing more buffered.
func (p *Proxy) pump(br *bufio.Reader, server net.Conn) error {
	bw := bufio.NewWriterSize(server, 64<<10)
	var hdr [5]byte
	var body []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
		if n < 0 {
			return fmt.Errorf("bad message length %d", n+4)
		}
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		switch hdr[0] {
		case 'Q':
			text := string(body)
			if len(text) > 0 && text[len(text)-1] == 0 {
				text = text[:len(text)-1]
			}
			if text == "-- ping" || text == ";" {
				p.pings.Add(1)
			} else {
				p.statements.Add(1)
				p.simple.Add(1)
				if p.Verbose {
					log.Printf("Q %s", text)
				}
			}
		case 'E':
			p.statements.Add(1)
			p.extended.Add(1)
		case 'P':
			if p.Verbose {
				log.Printf("P %q", body)
			}
		}
		if _, err := bw.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := bw.Write(body); err != nil {
			return err
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
	}
}
