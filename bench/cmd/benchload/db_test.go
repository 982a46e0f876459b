package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPGStat reads pg_stat_statements of a real server: TEST_PGSS_URL, a
// superuser's URL of a PostgreSQL server with pg_stat_statements loaded and
// track = all (bench/run.sh's private cluster is one: BENCH_PGDATA keeps
// it). It sends statements as another role and checks they are counted for
// that role only, nested ones apart.
func TestPGStat(t *testing.T) {
	url := os.Getenv("TEST_PGSS_URL")
	if url == "" {
		t.Skip("TEST_PGSS_URL is not set (a server with pg_stat_statements loaded)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`,
		`DROP ROLE IF EXISTS benchload_pgss_test`,
		`CREATE ROLE benchload_pgss_test LOGIN`,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP ROLE IF EXISTS benchload_pgss_test`) })

	r, err := openStmtReader(ctx, url, "benchload_pgss_test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	before, err := r.read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User = "benchload_pgss_test"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	// 5 statements of the role, one of which runs a nested one; the
	// admin's own statements are not the role's.
	if _, err := c.Exec(ctx, `CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END $$`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var n int
		if err := c.QueryRow(ctx, `SELECT $1::int + 1`, i).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Exec(ctx, `SELECT pg_temp.f()`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	after, err := r.read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.TopLevel - before.TopLevel; d != 5 {
		t.Errorf("top-level statements: %v, want 5", d)
	}
	if d := after.Nested - before.Nested; d < 1 {
		t.Errorf("nested statements: %v, want at least 1 (track = all?)", d)
	}
}
