package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A piece of a real server log (log_min_duration_statement = 0, Debian's
// log_line_prefix), another session's lines interleaved.
const serverLog = `2026-12-05 20:01:02.100 UTC [700] app@scale LOG:  duration: 0.050 ms  parse stmtcache_1: SELECT "shipments"."id" FROM "shipments" WHERE "status" IN ($1, $2)
	ORDER BY "created_at" DESC LIMIT 51
2026-12-05 20:01:02.101 UTC [700] app@scale LOG:  duration: 0.040 ms  bind stmtcache_1: SELECT "shipments"."id" FROM "shipments" WHERE "status" IN ($1, $2)
	ORDER BY "created_at" DESC LIMIT 51
2026-12-05 20:01:02.101 UTC [700] app@scale DETAIL:  parameters: $1 = 'IN_TRANSIT', $2 = 'OUT_FOR_DELIVERY'
2026-12-05 20:01:02.102 UTC [701] root@other LOG:  duration: 9.000 ms  statement: SELECT count(*) FROM shipments
2026-12-05 20:01:02.103 UTC [700] app@scale LOG:  duration: 1.200 ms  execute stmtcache_1: SELECT "shipments"."id" FROM "shipments" WHERE "status" IN ($1, $2)
	ORDER BY "created_at" DESC LIMIT 51
2026-12-05 20:01:02.103 UTC [700] app@scale DETAIL:  parameters: $1 = 'IN_TRANSIT', $2 = 'OUT_FOR_DELIVERY'
2026-12-05 20:01:02.200 UTC [702] app@scale LOG:  duration: 0.300 ms  execute <unnamed>: SELECT * FROM "files" WHERE "name" = $1 AND "x" = $2
2026-12-05 20:01:02.200 UTC [702] app@scale DETAIL:  parameters: $1 = 'it''s, $2 = ''', $2 = NULL
2026-12-05 20:01:03.103 UTC [700] app@scale LOG:  duration: 1.100 ms  execute stmtcache_1: SELECT "shipments"."id" FROM "shipments" WHERE "status" IN ($1, $2)
	ORDER BY "created_at" DESC LIMIT 51
2026-12-05 20:01:03.103 UTC [700] app@scale DETAIL:  parameters: $1 = 'DELIVERED', $2 = 'OUT_FOR_DELIVERY'
2026-12-05 20:01:04.000 UTC [700] app@scale LOG:  duration: 0.010 ms  statement: SELECT 1
`

func TestParseLog(t *testing.T) {
	stmts, err := parseLog(strings.NewReader(serverLog), "app@scale")
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("%d statements, want 3: %+v", len(stmts), stmts)
	}
	s := stmts[0]
	if !strings.HasSuffix(s.SQL, "IN ($1, $2)\nORDER BY \"created_at\" DESC LIMIT 51") || s.Executions != 2 {
		t.Errorf("first statement %q, %d executions", s.SQL, s.Executions)
	}
	if len(s.Params) != 2 || *s.Params[0] != "IN_TRANSIT" || *s.Params[1] != "OUT_FOR_DELIVERY" {
		t.Errorf("first statement's parameters: %v", s.Params)
	}
	f := stmts[1]
	if len(f.Params) != 2 || *f.Params[0] != "it's, $2 = '" || f.Params[1] != nil {
		t.Errorf("quoted parameters: %v", f.Params)
	}
	if stmts[2].SQL != "SELECT 1" || stmts[2].Params != nil {
		t.Errorf("simple query: %+v", stmts[2])
	}
	for _, st := range stmts {
		if strings.Contains(st.SQL, "count(") {
			t.Errorf("another role's statement was read: %q", st.SQL)
		}
	}
}

func TestParseParamsRejects(t *testing.T) {
	for _, s := range []string{"$2 = 'a'", "$1 = 'a", "$1 = 12"} {
		if _, err := parseParams(s); err == nil {
			t.Errorf("parseParams(%q): no error", s)
		}
	}
}

func TestCheckPlan(t *testing.T) {
	ok := `[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Index Scan", "Relation Name": "shipments", "Index Name": "shipment_created_at_id"},
		{"Node Type": "Seq Scan", "Relation Name": "sequences"}]}}]`
	scans, problems, err := checkPlan([]byte(ok))
	if err != nil || len(problems) != 0 || len(scans) != 2 || scans[0] != "Index Scan on shipments using shipment_created_at_id" || scans[1] != "Seq Scan on sequences" {
		t.Errorf("checkPlan(ok) = %q, %q, %v", scans, problems, err)
	}
	bad := `[{"Plan": {"Node Type": "Hash Join", "Plans": [{"Node Type": "Index Scan", "Relation Name": "shipments"},
		{"Node Type": "Hash", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "tracking_events"}]}]}}]`
	_, problems, err = checkPlan([]byte(bad))
	if err != nil || len(problems) != 1 || problems[0] != "Seq Scan on tracking_events" {
		t.Errorf("checkPlan(bad) problems %q, %v", problems, err)
	}
}

func TestWithAfter(t *testing.T) {
	doc := "query NestedList($statuses: [ShipmentStatus!]) {\n  shipments(first: 50, where: { statusIn: $statuses }) { edges { node { id } } }\n}"
	got, err := withAfter(doc, "gqFpzQPo")
	if err != nil || !strings.Contains(got, `shipments(after: "gqFpzQPo", first: 50,`) {
		t.Errorf("withAfter: %q, %v", got, err)
	}
	if _, err := withAfter("query X { shipment(reference: \"a\") { id } }", "c"); err == nil {
		t.Error("withAfter of a document without shipments(: no error")
	}
}

func TestTable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("small-a-max.json", `{"requestsPerSec": 200, "latency": {"p50Ms": 10, "p99Ms": 30}, "server": {"cpuMsPerRequest": 4}, "sql": {"perRequest": 3}}`)
	write("large-a-max.json", `{"requestsPerSec": 150, "errors": 2, "latency": {"p50Ms": 12.5, "p99Ms": 40}, "server": {"cpuMsPerRequest": 5}, "sql": {"perRequest": 3}}`)
	var sb strings.Builder
	if err := table(&sb, dir); err != nil {
		t.Fatal(err)
	}
	want := "| a | max | 200.0 | 150.0 | 0.75 | 10.0 | 12.5 | 30.0 | 40.0 | 4.00 | 5.00 | 3.00 | 3.00 | 2 |"
	if !strings.Contains(sb.String(), want) {
		t.Errorf("table:\n%s\nwant the row %s", sb.String(), want)
	}
	if strings.Count(sb.String(), "\n") != 3 {
		t.Errorf("table: want a header, a rule and one row:\n%s", sb.String())
	}
	if err := table(&sb, t.TempDir()); err == nil {
		t.Error("table of an empty directory: no error")
	}
}

func TestExplainable(t *testing.T) {
	for sql, want := range map[string]bool{
		"-- ping":                         false,
		"BEGIN":                           false,
		"SELECT 1":                        true,
		"-- a comment\nSELECT id FROM x":  true,
		"  with q as (select 1) select *": true,
		"UPDATE sequences SET value = 1":  true,
	} {
		if got := explainable.MatchString(stripComments(sql)); got != want {
			t.Errorf("explainable(%q) = %v", sql, got)
		}
	}
}
