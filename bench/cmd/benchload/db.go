package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// dbProc is a database server process (and its descendants: a postmaster's
// backends) whose CPU is counted with the system's.
type dbProc struct {
	name string
	proc proc
}

// parseDBPIDs parses -db-pids: name=pid pairs separated by commas, e.g.
// "postgres=1234,mariadb=5678".
func parseDBPIDs(s, root string) ([]dbProc, error) {
	var out []dbProc
	seen := map[string]bool{}
	for _, item := range splitList(s) {
		name, v, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		pid, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || name == "" || err != nil || pid <= 0 {
			return nil, fmt.Errorf("-db-pids: %q is not name=pid", item)
		}
		if seen[name] {
			return nil, fmt.Errorf("-db-pids: %q twice", name)
		}
		seen[name] = true
		out = append(out, dbProc{name: name, proc: proc{root: root, pid: pid, tree: true}})
	}
	return out, nil
}

// stmtCount is a reading of the database's own statement counters.
type stmtCount struct {
	// TopLevel counts the statements clients sent; Nested those run inside
	// functions (pg_stat_statements.track = all).
	TopLevel, Nested float64
	// Dealloc counts pg_stat_statements' evictions of entries: when it
	// moves during a window, calls were lost and the counts are too low.
	Dealloc float64
}

// stmtReader reads statement counters; pgStat is the real one.
type stmtReader interface {
	read(ctx context.Context) (stmtCount, error)
	close()
}

// pgStat reads pg_stat_statements over its own connection.
type pgStat struct {
	conn *pgx.Conn
	user string
}

// openStmtReader opens the pg_stat_statements reader of -pgss (a variable:
// tests replace it).
var openStmtReader = func(ctx context.Context, url, user string) (stmtReader, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("-pgss: %w", err)
	}
	p := &pgStat{conn: conn, user: user}
	if _, err := p.read(ctx); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	return p, nil
}

// pgStatSQL sums the calls of the statements of one role ($1), or of every
// role but the reader's own when $1 is empty. toplevel is PostgreSQL 14's.
const pgStatSQL = `SELECT
	COALESCE(SUM(s.calls) FILTER (WHERE s.toplevel), 0)::float8,
	COALESCE(SUM(s.calls) FILTER (WHERE NOT s.toplevel), 0)::float8,
	(SELECT dealloc FROM pg_stat_statements_info)::float8
FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
WHERE CASE WHEN $1 = '' THEN r.rolname <> current_user ELSE r.rolname = $1 END`

func (p *pgStat) read(ctx context.Context) (stmtCount, error) {
	var c stmtCount
	err := p.conn.QueryRow(ctx, pgStatSQL, p.user).Scan(&c.TopLevel, &c.Nested, &c.Dealloc)
	if err != nil {
		return c, fmt.Errorf("pg_stat_statements: %w", err)
	}
	return c, nil
}

func (p *pgStat) close() { _ = p.conn.Close(context.Background()) }
