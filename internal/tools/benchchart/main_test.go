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

func res(system, workload, mode string, rps, p99, stmts, cpu float64, rss int) string {
	return `{"settings":{"workload":"` + workload + `","system":"` + system + `","mode":"` + mode + `","rate":100,"concurrency":32,"warmup":"5s","duration":"20s"},
"requests":1000,"errors":0,"requestsPerSec":` + ftoa(rps) + `,"latency":{"p50Ms":1.5,"p99Ms":` + ftoa(p99) + `},
"server":{"peakRssBytes":` + itoa(rss) + `,"cpuMsPerRequest":` + ftoa(cpu) + `},"sql":{"source":"pgcount","perRequest":` + ftoa(stmts) + `}}`
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
	if got := strings.Join(sortedKeys(cells), ","); got != "a,d" {
		t.Fatalf("workloads %s", got)
	}
	var out bytes.Buffer
	table(&out, cells, idle)
	s := out.String()
	for _, want := range []string{
		"| (a) nested list | shipmentapp | 400 | 100 | 1.50 | 12.00 | 5.00 | 90.0 | 3.000 | 0 |",
		"| (a) nested list | PostGraphile v5 | 2.00× | 0.50× | 5.00× | 0.75× | 0.50× |",
		"| (a) nested list | ceiling | 0.50× | – |",
		"Idle RSS after start: shipmentapp 30.0 MiB, PostGraphile v5 80.0 MiB.",
		"p99 of (a) at half the maximum throughput under 25 ms: 12.00 ms — met",
		"(d) less server CPU per request than (a): 2.500 vs 3.000 ms — met",
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

func TestNiceStep(t *testing.T) {
	for raw, want := range map[float64]float64{0.3: 0.5, 1: 1, 1.1: 2, 37: 50, 180: 200, 0: 1} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
}
