// Command benchchart reads the result files of bench/run.sh (benchload's
// JSON, one per system, workload and mode, plus idle.json) and writes an SVG
// chart (requests/s at maximum throughput and p99 latency at the fixed
// offered rate, per workload, the systems side by side) and prints a
// Markdown table with the figures and the ratios app/peer and app/ceiling.
//
//	benchchart -dir bench/results/2026-11-29 -svg docs/bench.svg > table.md
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// result is the part of benchload's JSON that is used.
type result struct {
	Settings struct {
		Workload    string  `json:"workload"`
		System      string  `json:"system"`
		Mode        string  `json:"mode"`
		Rate        float64 `json:"rate"`
		Concurrency int     `json:"concurrency"`
		Warmup      string  `json:"warmup"`
		Duration    string  `json:"duration"`
	} `json:"settings"`
	Requests       uint64  `json:"requests"`
	Errors         uint64  `json:"errors"`
	RequestsPerSec float64 `json:"requestsPerSec"`
	Latency        struct {
		P50Ms float64 `json:"p50Ms"`
		P90Ms float64 `json:"p90Ms"`
		P99Ms float64 `json:"p99Ms"`
		MaxMs float64 `json:"maxMs"`
	} `json:"latency"`
	Server *struct {
		PeakRSSBytes    uint64  `json:"peakRssBytes"`
		HWMBytes        uint64  `json:"hwmBytes"`
		CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
	} `json:"server"`
	SQL *struct {
		Source     string  `json:"source"`
		PerRequest float64 `json:"perRequest"`
	} `json:"sql"`
}

// cell is one system's figures for one workload.
type cell struct {
	max, rate *result
}

var (
	systems     = []string{"app", "peer", "ceiling"}
	systemNames = map[string]string{"app": "shipmentapp", "peer": "PostGraphile v5", "ceiling": "ceiling"}
	colors      = map[string]string{"app": "#2b6cb0", "peer": "#dd6b20", "ceiling": "#718096"}
	workloads   = []string{"a", "b", "c", "d", "e"}
	wlNames     = map[string]string{"a": "(a) nested list", "b": "(b) by reference", "c": "(c) addTrackingEvent", "d": "(d) nested list, APQ GET", "e": "(e) mixed 90/10"}
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchchart: ")
	dir := flag.String("dir", "", "directory of the result JSON files")
	svgPath := flag.String("svg", "docs/bench.svg", "SVG to write (empty: none)")
	title := flag.String("title", "", "chart title (default: the directory's name)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	cells, idle, err := load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if len(cells) == 0 {
		log.Fatalf("no result in %s", *dir)
	}
	if *title == "" {
		*title = "make bench, " + filepath.Base(filepath.Clean(*dir))
	}
	if *svgPath != "" {
		if err := os.WriteFile(*svgPath, []byte(chart(cells, *title)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	table(os.Stdout, cells, idle)
}

func load(dir string) (map[string]map[string]*cell, map[string]uint64, error) {
	cells := map[string]map[string]*cell{}
	idle := map[string]uint64{}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		if filepath.Base(f) == "idle.json" {
			if err := json.Unmarshal(b, &idle); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f, err)
			}
			continue
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		s := r.Settings
		if s.Workload == "" || s.System == "" {
			continue // not a benchload result
		}
		if cells[s.Workload] == nil {
			cells[s.Workload] = map[string]*cell{}
		}
		c := cells[s.Workload][s.System]
		if c == nil {
			c = &cell{}
			cells[s.Workload][s.System] = c
		}
		if s.Mode == "rate" {
			c.rate = &r
		} else {
			c.max = &r
		}
	}
	return cells, idle, nil
}

func (c *cell) rps() float64 {
	if c == nil || c.max == nil {
		return math.NaN()
	}
	return c.max.RequestsPerSec
}

func (c *cell) p50() float64 {
	if c == nil || c.rate == nil {
		return math.NaN()
	}
	return c.rate.Latency.P50Ms
}

func (c *cell) p99() float64 {
	if c == nil || c.rate == nil {
		return math.NaN()
	}
	return c.rate.Latency.P99Ms
}

func (c *cell) offered() float64 {
	if c == nil || c.rate == nil {
		return math.NaN()
	}
	return c.rate.Settings.Rate
}

// stmts is statements per request at maximum throughput (the longer, busier
// run), else at the fixed rate.
func (c *cell) stmts() float64 {
	for _, r := range c.runs() {
		if r.SQL != nil {
			return r.SQL.PerRequest
		}
	}
	return math.NaN()
}

func (c *cell) runs() []*result {
	var out []*result
	if c == nil {
		return out
	}
	if c.max != nil {
		out = append(out, c.max)
	}
	if c.rate != nil {
		out = append(out, c.rate)
	}
	return out
}

// peakMiB is the largest RSS sampled in either run.
func (c *cell) peakMiB() float64 {
	v := math.NaN()
	for _, r := range c.runs() {
		if r.Server != nil {
			m := float64(r.Server.PeakRSSBytes) / (1 << 20)
			if math.IsNaN(v) || m > v {
				v = m
			}
		}
	}
	return v
}

// cpuMs is server CPU per request at the fixed rate (the server is not
// saturated), else at maximum throughput.
func (c *cell) cpuMs() float64 {
	if c != nil && c.rate != nil && c.rate.Server != nil {
		return c.rate.Server.CPUMsPerRequest
	}
	if c != nil && c.max != nil && c.max.Server != nil {
		return c.max.Server.CPUMsPerRequest
	}
	return math.NaN()
}

func (c *cell) errors() uint64 {
	var n uint64
	for _, r := range c.runs() {
		n += r.Errors
	}
	return n
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func table(w io.Writer, cells map[string]map[string]*cell, idle map[string]uint64) {
	fmt.Fprintln(w, "| workload | system | requests/s (max) | fixed rate (req/s) | p50 ms | p99 ms | statements/request | peak RSS MiB | CPU ms/request | errors |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, wl := range workloads {
		for _, sys := range systems {
			c := cells[wl][sys]
			if c == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", wlNames[wl], systemNames[sys],
				num(c.rps(), 0), num(c.offered(), 0), num(c.p50(), 2), num(c.p99(), 2), num(c.stmts(), 2),
				num(c.peakMiB(), 1), num(c.cpuMs(), 3), c.errors())
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios (shipmentapp / other; requests/s: higher is better, the rest: lower is better):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | versus | requests/s | p99 | statements/request | peak RSS | CPU/request |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: |")
	for _, wl := range workloads {
		app := cells[wl]["app"]
		if app == nil {
			continue
		}
		for _, sys := range systems[1:] {
			o := cells[wl][sys]
			if o == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", wlNames[wl], systemNames[sys],
				ratio(app.rps(), o.rps()), ratio(app.p99(), o.p99()), ratio(app.stmts(), o.stmts()),
				ratio(app.peakMiB(), o.peakMiB()), ratio(app.cpuMs(), o.cpuMs()))
		}
	}
	if len(idle) > 0 {
		fmt.Fprintln(w)
		var parts []string
		for _, sys := range systems {
			if v, ok := idle[sys]; ok {
				parts = append(parts, fmt.Sprintf("%s %.1f MiB", systemNames[sys], float64(v)/(1<<20)))
			}
		}
		fmt.Fprintf(w, "Idle RSS after start: %s.\n", strings.Join(parts, ", "))
	}
	// The targets of issue 9.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets:")
	fmt.Fprintln(w)
	a := cells["a"]["app"]
	check := func(ok bool, known bool) string {
		switch {
		case !known:
			return "not measured"
		case ok:
			return "met"
		default:
			return "**missed**"
		}
	}
	fmt.Fprintf(w, "- p99 of (a) at half the maximum throughput under 25 ms: %s ms — %s\n", num(a.p99(), 2), check(a.p99() < 25, !math.IsNaN(a.p99())))
	var peak float64 = math.NaN()
	for _, wl := range workloads {
		if v := cells[wl]["app"].peakMiB(); !math.IsNaN(v) && (math.IsNaN(peak) || v > peak) {
			peak = v
		}
	}
	fmt.Fprintf(w, "- peak RSS under load under 150 MiB: %s MiB — %s\n", num(peak, 1), check(peak < 150, !math.IsNaN(peak)))
	iv, ok := idle["app"]
	fmt.Fprintf(w, "- idle RSS after start under 40 MiB: %s MiB — %s\n", num(float64(iv)/(1<<20), 1), check(float64(iv) < 40<<20, ok))
	d := cells["d"]["app"]
	fmt.Fprintf(w, "- (d) less server CPU per request than (a): %s vs %s ms — %s\n", num(d.cpuMs(), 3), num(a.cpuMs(), 3),
		check(d.cpuMs() < a.cpuMs(), !math.IsNaN(d.cpuMs()) && !math.IsNaN(a.cpuMs())))
}

// chart draws two panels of grouped bars: requests/s at maximum throughput
// and p99 at the fixed rate, per workload, one bar per system.
func chart(cells map[string]map[string]*cell, title string) string {
	var wls []string
	for _, wl := range workloads {
		if len(cells[wl]) > 0 {
			wls = append(wls, wl)
		}
	}
	const (
		panelW, panelH = 560, 300
		left, top      = 70, 60
		gap            = 90
		barW           = 22
	)
	width := left + 2*panelW + gap + 30
	height := top + panelH + 110
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	// legend
	x := left
	for _, sys := range systems {
		fmt.Fprintf(&b, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="45">%s</text>`+"\n", x, colors[sys], x+16, systemNames[sys])
		x += 150
	}
	panel := func(x0 int, label string, val func(*cell) float64, prec int) {
		maxV := 0.0
		for _, wl := range wls {
			for _, sys := range systems {
				if v := val(cells[wl][sys]); !math.IsNaN(v) && v > maxV {
					maxV = v
				}
			}
		}
		if maxV == 0 {
			maxV = 1
		}
		step := niceStep(maxV / 5)
		axisMax := math.Ceil(maxV/step) * step
		y0 := top + panelH
		// axes and grid
		for v := 0.0; v <= axisMax+step/2; v += step {
			y := float64(y0) - v/axisMax*panelH
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e2e8f0"/>`, x0, y, x0+panelW, y)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-6, y+4, trimNum(v))
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#000"/>`, x0, top, x0, y0)
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#000"/>`+"\n", x0, y0, x0+panelW, y0)
		fmt.Fprintf(&b, `<text transform="translate(%d,%d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", x0-50, top+panelH/2, html.EscapeString(label))
		groupW := float64(panelW) / float64(max(len(wls), 1))
		for i, wl := range wls {
			gx := float64(x0) + groupW*float64(i)
			cx := gx + groupW/2
			start := cx - float64(len(systems)*barW)/2
			for j, sys := range systems {
				v := val(cells[wl][sys])
				bx := start + float64(j*barW)
				if math.IsNaN(v) {
					continue
				}
				h := v / axisMax * panelH
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
					bx+1, float64(y0)-h, barW-2, h, colors[sys], systemNames[sys], wlNames[wl], num(v, prec))
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", bx+barW/2, float64(y0)-h-3, num(v, prec))
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", cx, y0+18, html.EscapeString(wlNames[wl]))
		}
	}
	panel(left, "requests/s at maximum throughput (higher is better)", (*cell).rps, 0)
	panel(left+panelW+gap, "p99 ms at half the app's maximum (lower is better)", (*cell).p99, 1)
	// settings footnote
	var notes []string
	for _, wl := range wls {
		for _, sys := range systems {
			if c := cells[wl][sys]; c != nil && c.max != nil {
				s := c.max.Settings
				notes = append(notes, fmt.Sprintf("closed loop C=%d, %s after %s warm-up; p99 open loop at a fixed rate", s.Concurrency, s.Duration, s.Warmup))
				break
			}
		}
		if len(notes) > 0 {
			break
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#4a5568">%s</text>`+"\n", left, top+panelH+50, html.EscapeString(notes[0]))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceStep rounds a raw grid step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// sortedKeys is used by tests.
func sortedKeys(m map[string]map[string]*cell) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
