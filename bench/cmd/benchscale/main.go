// Command benchscale holds the steps of make bench-scale (issue 17, "Cost as
// the data grows", bench/scale.sh) that the load generator does not:
//
//	benchscale cursor -target URL -key-file F [-skip 100000] [-pg DSN]
//	    prints the cursor of the -skip'th edge of workload (a)'s ordering
//	    (where statusIn, newest first). With -pg, the cursor is built as the
//	    API builds it (entgql: the row's id and its created_at) from the
//	    row at that position in the database, then checked against the API:
//	    the page after it must start with the next row. Without -pg, the
//	    API's own edge cursors are walked page by page (a thousand pages
//	    for 100,000 edges, each dearer than the last: see
//	    docs/BENCHMARKS.md). When the ordering holds fewer edges, the cursor
//	    50 edges before its end (the deepest full page); stderr says which
//	    position.
//	benchscale deepdoc -queries bench/queries -cursor C -out DIR
//	    writes DIR/app/nested-list.graphql: (a)'s document with after: C,
//	    the deep page, for benchload -queries DIR.
//	benchscale table -dir DIR
//	    prints the results of bench/scale.sh in DIR side by side (markdown).
//	benchscale explain -target URL -key-file F -deep-queries DIR -pg DSN -log FILE -who ROLE@DB
//	    sends workloads (a), (b) and the deep page to an app whose every
//	    statement the server logs (log_min_duration_statement = 0 for
//	    ROLE in DB), reads the statements and their parameters back from the
//	    server log FILE, runs EXPLAIN (FORMAT JSON) on each with its
//	    parameters and fails if a plan reads shipments, tracking_events or
//	    files with a Seq Scan, or if a statement of (a), (b) or the deep page
//	    counts rows of them (they select no totalCount). Then the same for
//	    (a)'s filter with totalCount selected: its COUNT must use an index.
//
// The statements are those the running app sends, not a copy of its SQL:
// the read path may change and the check follows it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/jackc/pgx/v5"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchscale: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: benchscale cursor|deepdoc|explain [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	target := fs.String("target", "http://127.0.0.1:8080/graphql", "the app's GraphQL endpoint")
	keyFile := fs.String("key-file", "bench/.key", "file holding an API key of the app")
	queries := fs.String("queries", "bench/queries", "directory of the app/ documents")
	statuses := fs.String("statuses", "IN_TRANSIT,OUT_FOR_DELIVERY", "workload (a)'s statuses variable (benchload's default)")
	skip := fs.Int("skip", 100000, "cursor: edges to skip")
	cursor := fs.String("cursor", "", "deepdoc: the cursor")
	out := fs.String("out", "", "deepdoc: directory to write; explain: JSON report file")
	deep := fs.String("deep-queries", "", "explain: directory deepdoc wrote")
	pgDSN := fs.String("pg", "", "explain: URL of the database to run EXPLAIN on; cursor: of the database to build the cursor from")
	logFile := fs.String("log", "", "explain: the PostgreSQL server log")
	who := fs.String("who", "", "explain: ROLE@DB of the logged app, as the log line prefix (%u@%d) shows them")
	dir := fs.String("dir", "", "table: the results directory")
	refs := fs.Int("references", 10000, "explain: workload (b) references BENCH-000001 to this")
	if err := fs.Parse(os.Args[2:]); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	st := splitList(*statuses)
	var err error
	switch os.Args[1] {
	case "cursor":
		var c string
		if *pgDSN != "" {
			c, err = build(ctx, newClient(*target, *keyFile), *pgDSN, st, *skip)
		} else {
			c, err = walk(ctx, newClient(*target, *keyFile), st, *skip)
		}
		if err == nil {
			fmt.Println(c)
		}
	case "table":
		err = table(os.Stdout, *dir)
	case "deepdoc":
		err = deepDoc(*queries, *cursor, *out)
	case "explain":
		if *pgDSN == "" || *logFile == "" || *who == "" || *deep == "" {
			log.Fatal("explain needs -pg, -log, -who and -deep-queries")
		}
		err = explain(ctx, newClient(*target, *keyFile), explainSettings{
			queries: *queries, deep: *deep, statuses: st, references: *refs,
			pg: *pgDSN, log: *logFile, who: *who, out: *out,
		})
	default:
		log.Fatalf("unknown step %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type client struct {
	url, key string
	http     *http.Client
}

func newClient(url, keyFile string) *client {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	return &client{url: url, key: strings.TrimSpace(string(b)), http: &http.Client{Timeout: time.Minute}}
}

// do posts a document and decodes data into out; an answer with errors is
// an error.
func (c *client) do(ctx context.Context, doc string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != http.StatusOK || len(r.Errors) > 0 || len(r.Data) == 0 || string(r.Data) == "null" {
		return fmt.Errorf("HTTP %d: %.400s", resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// walkDoc pages through workload (a)'s ordering and filter
// (bench/queries/app/nested-list.graphql): statusIn, CREATED_AT DESC.
const walkDoc = `query Walk($statuses: [ShipmentStatus!], $after: Cursor) {
  shipments(first: 100, after: $after, where: { statusIn: $statuses }, orderBy: [{ field: CREATED_AT, direction: DESC }]) {
    edges { cursor }
    pageInfo { hasNextPage endCursor }
  }
}`

// walk returns the cursor of the skip'th edge (1-based) of (a)'s ordering,
// as the API gives it, or of the edge 50 before the end (the start of the
// deepest full page) when there are not that many.
func walk(ctx context.Context, c *client, statuses []string, skip int) (string, error) {
	var after any
	var cursors []string
	for len(cursors) < skip {
		var r struct {
			Shipments struct {
				Edges []struct {
					Cursor string `json:"cursor"`
				} `json:"edges"`
				PageInfo struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"shipments"`
		}
		if err := c.do(ctx, walkDoc, map[string]any{"statuses": statuses, "after": after}, &r); err != nil {
			return "", fmt.Errorf("walk at %d: %w", len(cursors), err)
		}
		for _, e := range r.Shipments.Edges {
			cursors = append(cursors, e.Cursor)
		}
		if !r.Shipments.PageInfo.HasNextPage || len(r.Shipments.Edges) == 0 {
			break
		}
		after = r.Shipments.PageInfo.EndCursor
	}
	at := min(skip, len(cursors)-50)
	if at < 1 {
		return "", fmt.Errorf("walk: only %d edges", len(cursors))
	}
	log.Printf("cursor of edge %d of %s", at, map[bool]string{true: "the ordering", false: fmt.Sprint(len(cursors))}[len(cursors) >= skip])
	return cursors[at-1], nil
}

// build returns the cursor of the skip'th edge of (a)'s ordering made as
// the API makes it (ent/gql_pagination.go, toCursor: the id and the values
// of the order fields) from the row at that position, after checking with
// the API that the page after it starts with the row after it.
func build(ctx context.Context, c *client, dsn string, statuses []string, skip int) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(ctx) }()
	var total int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM shipments WHERE status = ANY($1)`, statuses).Scan(&total); err != nil {
		return "", err
	}
	at := min(skip, total-50)
	if at < 1 {
		return "", fmt.Errorf("cursor: only %d edges", total)
	}
	// The ordering of (a): CREATED_AT DESC, then the id tiebreak ascending.
	rows, err := conn.Query(ctx, `SELECT id, created_at, reference FROM shipments WHERE status = ANY($1)
		ORDER BY created_at DESC, id OFFSET $2 LIMIT 2`, statuses, at-1)
	if err != nil {
		return "", err
	}
	type row struct {
		id  int
		at  time.Time
		ref string
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.at, &x.ref)
	})
	if err != nil || len(got) != 2 {
		return "", fmt.Errorf("cursor: rows %d and %d: %v", at, at+1, err)
	}
	var buf bytes.Buffer
	entgql.Cursor[int]{ID: got[0].id, Value: []any{got[0].at}}.MarshalGQL(&buf)
	var cursor string
	if err := json.Unmarshal(buf.Bytes(), &cursor); err != nil {
		return "", err
	}
	var r struct {
		Shipments struct {
			Edges []struct {
				Node struct {
					Reference string `json:"reference"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"shipments"`
	}
	if err := c.do(ctx, checkDoc, map[string]any{"statuses": statuses, "after": cursor}, &r); err != nil {
		return "", fmt.Errorf("cursor: check: %w", err)
	}
	if len(r.Shipments.Edges) != 1 || r.Shipments.Edges[0].Node.Reference != got[1].ref {
		return "", fmt.Errorf("cursor: the API's page after edge %d starts with %+v, not %s", at, r.Shipments.Edges, got[1].ref)
	}
	log.Printf("cursor of edge %d of %d (built; the API's next edge is %s, as in the database)", at, total, got[1].ref)
	return cursor, nil
}

// checkDoc asks for the first edge after a cursor in (a)'s ordering.
const checkDoc = `query Check($statuses: [ShipmentStatus!], $after: Cursor) {
  shipments(first: 1, after: $after, where: { statusIn: $statuses }, orderBy: [{ field: CREATED_AT, direction: DESC }]) {
    edges { node { reference } }
  }
}`

var shipmentsArgs = regexp.MustCompile(`\bshipments\(`)

// deepDoc writes out/app/nested-list.graphql: (a)'s document whose
// shipments field starts after cursor.
func deepDoc(queries, cursor, out string) error {
	if cursor == "" || out == "" {
		return errors.New("deepdoc needs -cursor and -out")
	}
	b, err := os.ReadFile(filepath.Join(queries, "app", "nested-list.graphql"))
	if err != nil {
		return err
	}
	doc, err := withAfter(string(b), cursor)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "app"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "app", "nested-list.graphql"), []byte(doc), 0o644)
}

func withAfter(doc, cursor string) (string, error) {
	if len(shipmentsArgs.FindAllStringIndex(doc, -1)) != 1 {
		return "", errors.New("deepdoc: the document has no single shipments( field")
	}
	lit, err := json.Marshal(cursor) // a GraphQL string literal too: base64 needs no escape
	if err != nil {
		return "", err
	}
	return shipmentsArgs.ReplaceAllLiteralString(doc, "shipments(after: "+string(lit)+", "), nil
}

// ---- explain ----

type explainSettings struct {
	queries, deep string
	statuses      []string
	references    int
	pg, log, who  string
	out           string
}

// Statement is one distinct statement the app ran, with the parameters of
// its first execution, and what EXPLAIN said of it.
type Statement struct {
	Phase      string          `json:"phase"` // the requests that ran it
	SQL        string          `json:"sql"`
	Params     []*string       `json:"params"`
	Executions int             `json:"executions"`
	Plan       json.RawMessage `json:"plan,omitempty"`
	Scans      []string        `json:"scans"`
	Problems   []string        `json:"problems,omitempty"`
	// Read-only statements are also run under EXPLAIN ANALYZE (after the
	// check, a warm cache): rows their scans read (returned by the scan
	// node or removed by its filter), rows the statement returned, time.
	RowsRead     float64  `json:"rowsRead,omitempty"`
	RowsReturned float64  `json:"rowsReturned,omitempty"`
	ExecutionMs  float64  `json:"executionMs,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
}

func explain(ctx context.Context, c *client, s explainSettings) error {
	load := func(dir, file string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, "app", file))
		return string(b), err
	}
	a, err := load(s.queries, "nested-list.graphql")
	if err != nil {
		return err
	}
	b, err := load(s.queries, "by-reference.graphql")
	if err != nil {
		return err
	}
	deep, err := load(s.deep, "nested-list.graphql")
	if err != nil {
		return err
	}
	aVars := map[string]any{"statuses": s.statuses}
	var reqs []request
	for range 3 {
		reqs = append(reqs, request{"a", a, aVars}, request{"deep", deep, aVars})
	}
	for _, n := range []int{1, 42, s.references / 2, s.references} {
		reqs = append(reqs, request{"b", b, map[string]any{"reference": fmt.Sprintf("BENCH-%06d", n)}})
	}
	stmts, err := capture(ctx, c, s, "a, b, deep", reqs)
	if err != nil {
		return err
	}
	// The workloads select no totalCount: a statement that counts rows of
	// the big tables is a count nobody asked for.
	for _, st := range stmts {
		if counts.MatchString(st.SQL) && watched.MatchString(st.SQL) {
			st.Problems = append(st.Problems, "counts rows, yet the workloads select no totalCount")
		}
	}
	// Then totalCount, asked for: its statements must use an index too.
	counted, err := capture(ctx, c, s, "totalCount", []request{{"totalCount", countDoc, aVars}})
	if err != nil {
		return err
	}
	stmts = append(stmts, counted...)
	conn, err := pgx.Connect(ctx, s.pg)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	// The plan the statement gets with these parameters.
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_custom_plan"); err != nil {
		return err
	}
	failed := 0
	for i, st := range stmts {
		if !explainable.MatchString(stripComments(st.SQL)) {
			// pgx's liveness check ("-- ping"), BEGIN, COMMIT...: no plan.
			fmt.Printf("skip %2d [%s] (%d runs) %s\n", i+1, st.Phase, st.Executions, short(st.SQL, 150))
			st.Scans = []string{"not a plannable statement"}
			continue
		}
		plan, err := explainOne(ctx, conn, st)
		if err != nil {
			return fmt.Errorf("explain %q: %w", st.SQL, err)
		}
		st.Plan = plan
		var problems []string
		st.Scans, problems, err = checkPlan(plan)
		if err != nil {
			return err
		}
		st.Problems = append(st.Problems, problems...)
		verdict := "ok  "
		if len(st.Problems) > 0 {
			verdict = "FAIL"
			failed++
		}
		if readOnly.MatchString(st.SQL) && !writes.MatchString(st.SQL) {
			if err := analyzeOne(ctx, conn, st); err != nil {
				return fmt.Errorf("explain analyze %q: %w", st.SQL, err)
			}
		}
		fmt.Printf("%s %2d [%s] (%d runs) %s\n       %s\n", verdict, i+1, st.Phase, st.Executions, short(st.SQL, 150), strings.Join(st.Scans, "; "))
		if st.ExecutionMs > 0 {
			fmt.Printf("       analyze: %.0f rows read for %.0f returned, %.2f ms\n", st.RowsRead, st.RowsReturned, st.ExecutionMs)
		}
		for _, p := range st.Problems {
			fmt.Printf("       problem: %s\n", p)
		}
		for _, w := range st.Warnings {
			fmt.Printf("       warning: %s\n", w)
		}
	}
	if s.out != "" {
		b, err := json.MarshalIndent(stmts, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(s.out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	warned := 0
	for _, st := range stmts {
		if len(st.Warnings) > 0 {
			warned++
		}
	}
	fmt.Printf("%d distinct statements, %d with a problem, %d with a warning\n", len(stmts), failed, warned)
	if failed > 0 {
		return fmt.Errorf("%d of %d statements fail the check", failed, len(stmts))
	}
	return nil
}

var (
	counts  = regexp.MustCompile(`(?i)\bcount\s*\(`)
	watched = regexp.MustCompile(`(?i)\b(shipments|tracking_events|files)\b`)
	// The three tables no plan may read with a sequential scan.
	big = map[string]bool{"shipments": true, "tracking_events": true, "files": true}
)

func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

type request struct {
	name, doc string
	vars      map[string]any
}

// countDoc selects (a)'s totalCount: the one request of the check that
// asks for a count.
const countDoc = `query Count($statuses: [ShipmentStatus!]) {
  shipments(first: 1, where: { statusIn: $statuses }, orderBy: [{ field: CREATED_AT, direction: DESC }]) { totalCount }
}`

// capture sends reqs and returns the distinct statements the server logged
// for s.who meanwhile.
func capture(ctx context.Context, c *client, s explainSettings, phase string, reqs []request) ([]*Statement, error) {
	fi, err := os.Stat(s.log)
	if err != nil {
		return nil, err
	}
	from := fi.Size()
	for _, r := range reqs {
		if err := c.do(ctx, r.doc, r.vars, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
	}
	// The server writes its log as it goes; give it a moment.
	time.Sleep(time.Second)
	f, err := os.Open(s.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, err
	}
	stmts, err := parseLog(f, s.who)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("%s: no statement of %s in %s: is log_min_duration_statement = 0 set for it (ALTER ROLE ... IN DATABASE ... SET)?", phase, s.who, s.log)
	}
	for _, st := range stmts {
		st.Phase = phase
	}
	return stmts, nil
}

// stripComments drops the -- comments of a statement.
func stripComments(sql string) string {
	var sb strings.Builder
	for line := range strings.Lines(sql) {
		if i := strings.Index(line, "--"); i >= 0 && !strings.Contains(line[:i], "'") {
			line = line[:i]
		}
		sb.WriteString(line)
	}
	return strings.TrimSpace(sb.String())
}

var (
	// Statements EXPLAIN takes.
	explainable = regexp.MustCompile(`(?is)^(SELECT|WITH|INSERT|UPDATE|DELETE|VALUES)\b`)
	readOnly    = regexp.MustCompile(`(?is)^\s*(SELECT|WITH)\b`)
	writes      = regexp.MustCompile(`(?i)\b(INSERT|UPDATE|DELETE|MERGE|FOR\s+UPDATE|FOR\s+SHARE)\b`)
)

// readWarn: a statement that reads more than this many rows per row it
// returns (and over a thousand) gets a warning: an index serves it badly.
const readWarn = 100

// analyzeOne runs a read-only statement under EXPLAIN (ANALYZE) and
// records how many rows its scans read against how many it returned.
func analyzeOne(ctx context.Context, conn *pgx.Conn, st *Statement) error {
	var plan []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE benchscale_q"+st.args(), pgx.QueryExecModeSimpleProtocol).Scan(&plan); err != nil {
		return err
	}
	var top []struct {
		Plan          map[string]any `json:"Plan"`
		ExecutionTime float64        `json:"Execution Time"`
	}
	if err := json.Unmarshal(plan, &top); err != nil || len(top) != 1 {
		return fmt.Errorf("plan: %v", err)
	}
	num := func(n map[string]any, k string) float64 { f, _ := n[k].(float64); return f }
	var visit func(n map[string]any)
	visit = func(n map[string]any) {
		if _, ok := n["Relation Name"]; ok {
			loops := max(num(n, "Actual Loops"), 1)
			st.RowsRead += (num(n, "Actual Rows") + num(n, "Rows Removed by Filter")) * loops
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				if m, ok := k.(map[string]any); ok {
					visit(m)
				}
			}
		}
	}
	visit(top[0].Plan)
	st.RowsReturned = num(top[0].Plan, "Actual Rows")
	st.ExecutionMs = top[0].ExecutionTime
	if st.RowsRead > 1000 && st.RowsRead > readWarn*max(st.RowsReturned, 1) {
		st.Warnings = append(st.Warnings, fmt.Sprintf("reads %.0f rows for %.0f returned", st.RowsRead, st.RowsReturned))
	}
	return nil
}

// args is the EXECUTE argument list of the statement's parameters.
func (st *Statement) args() string {
	if len(st.Params) == 0 {
		return ""
	}
	lits := make([]string, len(st.Params))
	for i, p := range st.Params {
		if p == nil {
			lits[i] = "NULL"
		} else {
			lits[i] = "'" + strings.ReplaceAll(*p, "'", "''") + "'"
		}
	}
	return "(" + strings.Join(lits, ", ") + ")"
}

func explainOne(ctx context.Context, conn *pgx.Conn, st *Statement) (json.RawMessage, error) {
	if _, err := conn.Exec(ctx, "DEALLOCATE ALL"); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "PREPARE benchscale_q AS "+st.SQL); err != nil {
		return nil, err
	}
	q := "EXPLAIN (FORMAT JSON) EXECUTE benchscale_q" + st.args()
	var plan []byte
	if err := conn.QueryRow(ctx, q, pgx.QueryExecModeSimpleProtocol).Scan(&plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// checkPlan lists the scans of an EXPLAIN (FORMAT JSON) output and the
// problems: a Seq Scan on one of the big tables.
func checkPlan(plan []byte) (scans, problems []string, err error) {
	var top []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &top); err != nil {
		return nil, nil, fmt.Errorf("plan: %w", err)
	}
	var visit func(n map[string]any)
	visit = func(n map[string]any) {
		typ, _ := n["Node Type"].(string)
		rel, _ := n["Relation Name"].(string)
		idx, _ := n["Index Name"].(string)
		switch {
		case rel != "":
			d := typ + " on " + rel
			if idx != "" {
				d += " using " + idx
			}
			scans = append(scans, d)
			if typ == "Seq Scan" && big[rel] {
				problems = append(problems, "Seq Scan on "+rel)
			}
		case idx != "": // a Bitmap Index Scan under its Bitmap Heap Scan
			scans = append(scans, typ+" using "+idx)
		case typ == "Sort" || typ == "Incremental Sort":
			keys, _ := n["Sort Key"].([]any)
			scans = append(scans, fmt.Sprintf("%s by %v", typ, keys))
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				if m, ok := k.(map[string]any); ok {
					visit(m)
				}
			}
		}
	}
	for _, t := range top {
		visit(t.Plan)
	}
	return scans, problems, nil
}
