package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// res is a result as benchload wrote it before issue 17: no database (it
// ran on PostgreSQL), no database CPU.
func res(system, workload, mode string, rps, p99, stmts, cpu float64, rss int) string {
	return `{"settings":{"workload":"` + workload + `","system":"` + system + `","mode":"` + mode + `","rate":100,"concurrency":32,"warmup":"5s","duration":"20s"},
"requests":1000,"errors":0,"requestsPerSec":` + ftoa(rps) + `,"latency":{"p50Ms":1.5,"p99Ms":` + ftoa(p99) + `},
"server":{"peakRssBytes":` + itoa(rss) + `,"cpuMsPerRequest":` + ftoa(cpu) + `},"sql":{"source":"pgcount","perRequest":` + ftoa(stmts) + `}}`
}

// resDB is a result with its database and the database's CPU.
func resDB(db, system, workload, mode string, rps, p99, stmts, cpu, dbCPU float64, rss int) string {
	return `{"settings":{"workload":"` + workload + `","system":"` + system + `","database":"` + db + `","mode":"` + mode + `","rate":100,"concurrency":32,"warmup":"5s","duration":"20s"},
"requests":1000,"errors":0,"requestsPerSec":` + ftoa(rps) + `,"latency":{"p50Ms":1.5,"p99Ms":` + ftoa(p99) + `},
"server":{"peakRssBytes":` + itoa(rss) + `,"cpuMsPerRequest":` + ftoa(cpu) + `},
"database":{"cpuMsPerRequest":` + ftoa(dbCPU) + `},
"cpu":{"serverMsPerRequest":` + ftoa(cpu) + `,"databaseMsPerRequest":` + ftoa(dbCPU) + `,"totalMsPerRequest":` + ftoa(cpu+dbCPU) + `},
"sql":{"source":"metrics","perRequest":` + ftoa(stmts) + `}}`
}

func TestChartAndTable(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "app-a-max.json", res("app", "a", "max", 400, 30, 5, 4, 90<<20))
	write(t, dir, "app-a-rate.json", res("app", "a", "rate", 200, 12, 5, 3, 80<<20))
	write(t, dir, "peer-a-max.json", res("peer", "a", "max", 200, 40, 1, 8, 120<<20))
	write(t, dir, "peer-a-rate.json", res("peer", "a", "rate", 200, 24, 1, 6, 110<<20))
	write(t, dir, "ceiling-a-max.json", res("ceiling", "a", "max", 800, 10, 2, 1, 20<<20))
	write(t, dir, "app-d-rate.json", res("app", "d", "rate", 200, 11, 5, 2.5, 81<<20))
	write(t, dir, "idle.json", `{"app": 31457280, "peer": 83886080}`)
	write(t, dir, "notes.json", `{"other": 1}`)
	cells, idle, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sortedKeys(cells["postgres"]), ","); got != "a,d" || len(cells) != 1 {
		t.Fatalf("workloads %s, databases %d", got, len(cells))
	}
	var out bytes.Buffer
	table(&out, cells, idle)
	s := out.String()
	for _, want := range []string{
		"| PostgreSQL | (a) nested list | shipmentapp | 400 | 100 | 1.50 | 12.00 | 5.00 | 90.0 | 3.000 | – | – | 0 |",
		"| PostgreSQL | (a) nested list | PostGraphile v5 | 2.00× | 0.50× | 5.00× | 0.75× | 0.50× | – |",
		"| PostgreSQL | (a) nested list | ceiling | 0.50× | – |",
		"Idle RSS after start on PostgreSQL: shipmentapp 30.0 MiB, PostGraphile v5 80.0 MiB.",
		"(a) at least 1.5× PostGraphile's requests/s: 2.00× — met",
		"(a) at least 0.6× the ceiling's requests/s: 0.50× — **missed**",
		"p99 of (a) under 10 ms at the fixed rate (half of PostGraphile's maximum when it ran): 12.00 ms — **missed**",
		"(d) less server CPU per request than (a) at one rate: 2.500 vs 3.000 ms — met",
		"(a) at most 3 statements per request with Dolibarr's: 5.00 on the main database (+1 on Dolibarr) — **missed**",
		"idle RSS after start under 40 MiB: 30.0 MiB — met",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	svg := chart(cells, "test <run>")
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("SVG is not well-formed XML: %v", err)
	}
	for _, want := range []string{"requests/s at maximum throughput", "test &lt;run&gt;", ">400<", ">800<", ">12.0<", "shipmentapp"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

// Results of issue 17: PostgreSQL and MariaDB rows, the database's CPU and
// the whole system's, idle RSS by database.
func TestTableWithDatabases(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "postgres-app-a-max.json", resDB("postgres", "app", "a", "max", 400, 30, 3, 4, 2, 90<<20))
	write(t, dir, "postgres-app-a-rate.json", resDB("postgres", "app", "a", "rate", 200, 12, 3, 3, 1.5, 80<<20))
	write(t, dir, "postgres-peer-a-rate.json", resDB("postgres", "peer", "a", "rate", 200, 24, 1, 2, 4, 110<<20))
	write(t, dir, "mariadb-app-a-max.json", resDB("mariadb", "app", "a", "max", 300, 30, 4, 5, 2, 95<<20))
	write(t, dir, "mariadb-app-a-rate.json", resDB("mariadb", "app", "a", "rate", 200, 14, 4, 4, 2, 85<<20))
	write(t, dir, "mariadb-ceiling-a-rate.json", resDB("mariadb", "ceiling", "a", "rate", 200, 7, 1, 1, 1, 20<<20))
	write(t, dir, "mariadb-app-c-rate.json", resDB("mariadb", "app", "c", "rate", 100, 9, 9, 3, 3, 70<<20))
	write(t, dir, "idle.json", `{"postgres": {"app": 31457280}, "mariadb": {"app": 32505856, "ceiling": 10485760}}`)
	cells, idle, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	table(&out, cells, idle)
	s := out.String()
	for _, want := range []string{
		"| PostgreSQL | (a) nested list | shipmentapp | 400 | 100 | 1.50 | 12.00 | 3.00 | 90.0 | 3.000 | 1.500 | 4.500 | 0 |",
		"| PostgreSQL | (a) nested list | PostGraphile v5 | – | 100 | 1.50 | 24.00 | 1.00 | 110.0 | 2.000 | 4.000 | 6.000 | 0 |",
		"| MariaDB | (a) nested list | shipmentapp | 300 | 100 | 1.50 | 14.00 | 4.00 | 95.0 | 4.000 | 2.000 | 6.000 | 0 |",
		"| MariaDB | (a) nested list | PostGraphile v5 | no MariaDB support |",
		"| MariaDB | (a) nested list | ceiling | – | 100 | 1.50 | 7.00 |",
		"| MariaDB | (c) addTrackingEvent | shipmentapp |",
		"| PostgreSQL | (a) nested list | PostGraphile v5 | – | 0.50× | 3.00× | 0.82× | 1.50× | 0.75× |",
		"| MariaDB | (a) nested list | ceiling | – | 2.00× | 4.00× | 4.75× | 4.00× | 3.00× |",
		"Idle RSS after start on PostgreSQL: shipmentapp 30.0 MiB.",
		"Idle RSS after start on MariaDB: shipmentapp 31.0 MiB, ceiling 10.0 MiB.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "| MariaDB | (c) addTrackingEvent | PostGraphile") {
		t.Errorf("no MariaDB row for PostGraphile's (c): it never runs (c)\n%s", s)
	}
	svg := chart(cells, "run")
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("SVG is not well-formed XML: %v", err)
	}
	for _, want := range []string{"shipmentapp (MariaDB)", "ceiling (MariaDB)", "url(#mariadb-app)", "server + database", ">4.50<", ">6.00<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for raw, want := range map[float64]float64{0.3: 0.5, 1: 1, 1.1: 2, 37: 50, 180: 200, 0: 1} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
}
