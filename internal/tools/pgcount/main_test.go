package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestCounts(t *testing.T) {
	b := testutil.All()[2]
	testutil.Require(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := &Proxy{Target: net.JoinHostPort(b.Host, fmt.Sprint(b.Port))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, ln) }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()

	host, port, _ := net.SplitHostPort(ln.Addr().String())
	// sslmode=prefer: pgx asks for TLS first, the proxy answers 'N'.
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s@%s:%s/postgres?sslmode=prefer", b.User, host, port))
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()

	count := func() Counts {
		t.Helper()
		res, err := http.Get(srv.URL + "/count")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = res.Body.Close() }()
		var c Counts
		if err := json.NewDecoder(res.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	reset := func() {
		t.Helper()
		res, err := http.Post(srv.URL+"/reset", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if c := count(); c != (Counts{}) {
			t.Fatalf("after reset: %+v", c)
		}
	}
	reset() // whatever pgx sent while connecting

	// Simple protocol: one 'Q' each.
	for range 3 {
		var n int
		if err := conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1 {
			t.Fatalf("simple query: %d, %v", n, err)
		}
	}
	if c := count(); c.Statements != 3 || c.Simple != 3 || c.Extended != 0 {
		t.Fatalf("3 simple queries counted as %+v", c)
	}
	// One 'Q' with two statements counts once.
	if _, err := conn.Exec(ctx, "SELECT 1; SELECT 2"); err != nil {
		t.Fatal(err)
	}
	if c := count(); c.Statements != 4 {
		t.Fatalf("after a multi-statement Q: %+v", c)
	}

	reset()
	// Extended protocol: the first run prepares (Parse/Describe, no Execute),
	// every run executes once.
	for i := range 5 {
		var n int
		if err := conn.QueryRow(ctx, "SELECT $1::int + 1", i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("extended query: %d, %v", n, err)
		}
	}
	if c := count(); c.Statements != 5 || c.Extended != 5 || c.Simple != 0 {
		t.Fatalf("5 extended queries counted as %+v", c)
	}
	// A batch: three Executes in one round trip.
	reset()
	batch := &pgx.Batch{}
	for i := range 3 {
		batch.Queue("SELECT $1::int", i)
	}
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	if c := count(); c.Statements != 3 || c.Extended != 3 {
		t.Fatalf("a batch of 3 counted as %+v", c)
	}
	// A transaction: begin and commit are statements too.
	reset()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT $1::int", 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if c := count(); c.Statements != 3 {
		t.Fatalf("begin, select, commit counted as %+v", c)
	}
	// pgx's liveness check is a ping, not a statement.
	reset()
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if c := count(); c.Statements != 0 || c.Pings != 1 {
		t.Fatalf("a ping counted as %+v", c)
	}

	// The server's answers pass through untouched: an error comes back intact.
	if _, err := conn.Exec(ctx, "SELECT * FROM no_such_table_pgcount"); err == nil {
		t.Fatal("no error for a missing table")
	}
	var s string
	if err := conn.QueryRow(ctx, "SELECT repeat('x', 100000)").Scan(&s); err != nil || len(s) != 100000 {
		t.Fatalf("large row: %d bytes, %v", len(s), err)
	}
	_ = conn.Close(ctx)
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
