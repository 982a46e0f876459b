// Command benchchart reads the result files of bench/run.sh (benchload's
// JSON, one per database, system, workload and mode, plus idle.json) and
// writes an SVG chart (requests/s at maximum throughput, p99 latency at the
// fixed offered rate and the whole system's CPU per request, server and
// database, per workload, the systems on each database side by side) and
// prints a Markdown table with the figures and the ratios app/peer and
// app/ceiling on each database.
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
		Database    string  `json:"database"`
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
	Database *struct {
		CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
	} `json:"database"`
	CPU *struct {
		ServerMsPerRequest   float64 `json:"serverMsPerRequest"`
		DatabaseMsPerRequest float64 `json:"databaseMsPerRequest"`
		TotalMsPerRequest    float64 `json:"totalMsPerRequest"`
	} `json:"cpu"`
	SQL *struct {
		Source     string  `json:"source"`
		PerRequest float64 `json:"perRequest"`
	} `json:"sql"`
}

// cell is one system's figures for one workload.
type cell struct {
	max, rate *result
}

// cells holds the figures by database, workload and system.
type cells map[string]map[string]map[string]*cell

var (
	databases   = []string{"postgres", "mariadb"}
	dbNames     = map[string]string{"postgres": "PostgreSQL", "mariadb": "MariaDB"}
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
	cs, idle, err := load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if len(cs) == 0 {
		log.Fatalf("no result in %s", *dir)
	}
	if *title == "" {
		*title = "make bench, " + filepath.Base(filepath.Clean(*dir))
	}
	if *svgPath != "" {
		if err := os.WriteFile(*svgPath, []byte(chart(cs, *title)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	table(os.Stdout, cs, idle)
}

// load reads the results of dir. A result without a database (before issue
// 17) ran on PostgreSQL; idle.json is {"postgres": {"app": bytes, ...},
// "mariadb": {...}} or, before, {"app": bytes, ...} (PostgreSQL).
func load(dir string) (cells, map[string]map[string]uint64, error) {
	cs := cells{}
	idle := map[string]map[string]uint64{}
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
				flat := map[string]uint64{}
				if err2 := json.Unmarshal(b, &flat); err2 != nil {
					return nil, nil, fmt.Errorf("%s: %w", f, err)
				}
				idle = map[string]map[string]uint64{"postgres": flat}
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
		if s.Database == "" {
			s.Database = "postgres"
		}
		if cs[s.Database] == nil {
			cs[s.Database] = map[string]map[string]*cell{}
		}
		if cs[s.Database][s.Workload] == nil {
			cs[s.Database][s.Workload] = map[string]*cell{}
		}
		c := cs[s.Database][s.Workload][s.System]
		if c == nil {
			c = &cell{}
			cs[s.Database][s.Workload][s.System] = c
		}
		if s.Mode == "rate" {
			c.rate = &r
		} else {
			c.max = &r
		}
	}
	return cs, idle, nil
}

// get returns the cell of a database, workload and system (nil: none).
func (cs cells) get(db, wl, sys string) *cell { return cs[db][wl][sys] }

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

// cpuRun is the run whose CPU per request is reported: the fixed rate (the
// server is not saturated), else the maximum throughput.
func (c *cell) cpuRun() *result {
	if c != nil && c.rate != nil && c.rate.Server != nil {
		return c.rate
	}
	if c != nil && c.max != nil && c.max.Server != nil {
		return c.max
	}
	return nil
}

// cpuMs is the server's CPU per request.
func (c *cell) cpuMs() float64 {
	if r := c.cpuRun(); r != nil {
		return r.Server.CPUMsPerRequest
	}
	return math.NaN()
}

// dbCPUMs is the database processes' CPU per request, in the same run.
func (c *cell) dbCPUMs() float64 {
	if r := c.cpuRun(); r != nil && r.Database != nil {
		return r.Database.CPUMsPerRequest
	}
	return math.NaN()
}

// totalCPUMs is the whole system's: server plus database.
func (c *cell) totalCPUMs() float64 {
	if r := c.cpuRun(); r != nil && r.CPU != nil {
		return r.CPU.TotalMsPerRequest
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

// noPeer is the systems without MariaDB support, and why.
var noPeer = map[string]string{"peer": "no MariaDB support"}

func table(w io.Writer, cs cells, idle map[string]map[string]uint64) {
	fmt.Fprintln(w, "| database | workload | system | requests/s (max) | fixed rate (req/s) | p50 ms | p99 ms | statements/request | peak RSS MiB | server CPU ms/request | database CPU ms/request | whole-system CPU ms/request | errors |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, db := range databases {
		for _, wl := range workloads {
			if len(cs[db][wl]) == 0 {
				continue
			}
			for _, sys := range systems {
				c := cs.get(db, wl, sys)
				if c == nil {
					// Say why PostGraphile has no row on MariaDB where the
					// others ran (a) or (b).
					if why, ok := noPeer[sys]; ok && db == "mariadb" && (wl == "a" || wl == "b") {
						fmt.Fprintf(w, "| %s | %s | %s | %s | | | | | | | | | |\n", dbNames[db], wlNames[wl], systemNames[sys], why)
					}
					continue
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", dbNames[db], wlNames[wl], systemNames[sys],
					num(c.rps(), 0), num(c.offered(), 0), num(c.p50(), 2), num(c.p99(), 2), num(c.stmts(), 2),
					num(c.peakMiB(), 1), num(c.cpuMs(), 3), num(c.dbCPUMs(), 3), num(c.totalCPUMs(), 3), c.errors())
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios (shipmentapp / other on the same database; requests/s: higher is better, the rest: lower is better):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| database | workload | versus | requests/s | p99 | statements/request | peak RSS | server CPU/request | whole-system CPU/request |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, db := range databases {
		for _, wl := range workloads {
			app := cs.get(db, wl, "app")
			if app == nil {
				continue
			}
			for _, sys := range systems[1:] {
				o := cs.get(db, wl, sys)
				if o == nil {
					continue
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", dbNames[db], wlNames[wl], systemNames[sys],
					ratio(app.rps(), o.rps()), ratio(app.p99(), o.p99()), ratio(app.stmts(), o.stmts()),
					ratio(app.peakMiB(), o.peakMiB()), ratio(app.cpuMs(), o.cpuMs()), ratio(app.totalCPUMs(), o.totalCPUMs()))
			}
		}
	}
	for _, db := range databases {
		if len(idle[db]) == 0 {
			continue
		}
		var parts []string
		for _, sys := range systems {
			if v, ok := idle[db][sys]; ok {
				parts = append(parts, fmt.Sprintf("%s %.1f MiB", systemNames[sys], float64(v)/(1<<20)))
			}
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Idle RSS after start on %s: %s.\n", dbNames[db], strings.Join(parts, ", "))
	}
	// The targets of issue 17, on PostgreSQL (where PostGraphile runs).
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets of issue 17 (PostgreSQL runs):")
	fmt.Fprintln(w)
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
	known := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) {
				return false
			}
		}
		return true
	}
	a, pa, ca := cs.get("postgres", "a", "app"), cs.get("postgres", "a", "peer"), cs.get("postgres", "a", "ceiling")
	b, pb := cs.get("postgres", "b", "app"), cs.get("postgres", "b", "peer")
	fmt.Fprintf(w, "- (a) at least 1.5× PostGraphile's requests/s: %s — %s\n", ratio(a.rps(), pa.rps()), check(a.rps() >= 1.5*pa.rps(), known(a.rps(), pa.rps())))
	fmt.Fprintf(w, "- (a) at least 0.6× the ceiling's requests/s: %s — %s\n", ratio(a.rps(), ca.rps()), check(a.rps() >= 0.6*ca.rps(), known(a.rps(), ca.rps())))
	fmt.Fprintf(w, "- (a) less whole-system CPU per request than PostGraphile: %s vs %s ms — %s\n", num(a.totalCPUMs(), 3), num(pa.totalCPUMs(), 3),
		check(a.totalCPUMs() < pa.totalCPUMs(), known(a.totalCPUMs(), pa.totalCPUMs())))
	fmt.Fprintf(w, "- (b) at least 1.5× PostGraphile's requests/s: %s — %s\n", ratio(b.rps(), pb.rps()), check(b.rps() >= 1.5*pb.rps(), known(b.rps(), pb.rps())))
	fmt.Fprintf(w, "- p99 of (a) under 10 ms at the fixed rate (half of PostGraphile's maximum when it ran): %s ms — %s\n", num(a.p99(), 2), check(a.p99() < 10, known(a.p99())))
	d := cs.get("postgres", "d", "app")
	fmt.Fprintf(w, "- (d) less server CPU per request than (a) at one rate: %s vs %s ms — %s\n", num(d.cpuMs(), 3), num(a.cpuMs(), 3),
		check(d.cpuMs() < a.cpuMs(), known(d.cpuMs(), a.cpuMs())))
	fmt.Fprintf(w, "- (d) at least (a)'s requests/s: %s vs %s — %s\n", num(d.rps(), 0), num(a.rps(), 0), check(d.rps() >= a.rps(), known(d.rps(), a.rps())))
	fmt.Fprintf(w, "- (a) at most 3 statements per request with Dolibarr's: %s on the main database (+1 on Dolibarr) — %s\n", num(a.stmts(), 2), check(a.stmts()+1 <= 3.05, known(a.stmts())))
	var peak float64 = math.NaN()
	for _, wl := range workloads {
		if v := cs.get("postgres", wl, "app").peakMiB(); !math.IsNaN(v) && (math.IsNaN(peak) || v > peak) {
			peak = v
		}
	}
	fmt.Fprintf(w, "- peak RSS under load under 120 MiB: %s MiB — %s\n", num(peak, 1), check(peak < 120, !math.IsNaN(peak)))
	iv, ok := idle["postgres"]["app"]
	fmt.Fprintf(w, "- idle RSS after start under 40 MiB: %s MiB — %s\n", num(float64(iv)/(1<<20), 1), check(float64(iv) < 40<<20, ok))
}

// series is one bar per workload: a system on a database.
type series struct {
	db, sys string
}

func (s series) name() string {
	if s.db == "postgres" {
		return systemNames[s.sys]
	}
	return systemNames[s.sys] + " (" + dbNames[s.db] + ")"
}

// fill is the system's colour; on MariaDB its bars are hatched.
func (s series) fill() string {
	if s.db == "postgres" {
		return colors[s.sys]
	}
	return "url(#mariadb-" + s.sys + ")"
}

// chart draws three panels of grouped bars: requests/s at maximum
// throughput, p99 at the fixed rate, and the whole system's CPU per request
// at the fixed rate (server, and stacked on it the database), per workload,
// one bar per system and database.
func chart(cs cells, title string) string {
	var wls []string
	for _, wl := range workloads {
		for _, db := range databases {
			if len(cs[db][wl]) > 0 {
				wls = append(wls, wl)
				break
			}
		}
	}
	var ss []series
	for _, db := range databases {
		for _, sys := range systems {
			for _, wl := range wls {
				if cs.get(db, wl, sys) != nil {
					ss = append(ss, series{db, sys})
					break
				}
			}
		}
	}
	const (
		panelW, panelH = 420, 300
		left, top      = 70, 80
		gap            = 90
	)
	width := left + 3*panelW + 2*gap + 30
	height := top + panelH + 110
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	b.WriteString("<defs>")
	for _, sys := range systems {
		fmt.Fprintf(&b, `<pattern id="mariadb-%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="%s"/><rect width="2" height="6" fill="#fff" fill-opacity="0.6"/></pattern>`, sys, colors[sys])
	}
	b.WriteString("</defs>\n")
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	// legend
	x := left
	for _, s := range ss {
		fmt.Fprintf(&b, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="45">%s</text>`+"\n", x, s.fill(), x+16, html.EscapeString(s.name()))
		x += 40 + 7*len(s.name())
	}
	fmt.Fprintf(&b, `<text x="%d" y="64" fill="#4a5568">CPU panel: the server's CPU (full bar colour) with the database's stacked on it (pale)</text>`+"\n", left)
	// panel draws one panel; val gives the bar's height, part (optional)
	// the lower, solid part of a stacked bar.
	panel := func(x0 int, label string, val, part func(*cell) float64, prec int) {
		maxV := 0.0
		for _, wl := range wls {
			for _, s := range ss {
				if v := val(cs.get(s.db, wl, s.sys)); !math.IsNaN(v) && v > maxV {
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
		barW := math.Min(22, (groupW-8)/float64(max(len(ss), 1)))
		for i, wl := range wls {
			gx := float64(x0) + groupW*float64(i)
			cx := gx + groupW/2
			start := cx - float64(len(ss))*barW/2
			for j, s := range ss {
				c := cs.get(s.db, wl, s.sys)
				v := val(c)
				bx := start + float64(j)*barW
				if math.IsNaN(v) {
					continue
				}
				h := v / axisMax * panelH
				tip := fmt.Sprintf("%s, %s: %s", s.name(), wlNames[wl], num(v, prec))
				if part != nil {
					// stacked: the whole bar pale, its lower part solid
					p := part(c)
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.35"><title>%s ms (database %s)</title></rect>`,
						bx+1, float64(y0)-h, barW-2, h, s.fill(), html.EscapeString(tip), num(v-p, prec))
					if !math.IsNaN(p) {
						ph := p / axisMax * panelH
						fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: server %s ms</title></rect>`,
							bx+1, float64(y0)-ph, barW-2, ph, s.fill(), html.EscapeString(s.name()), num(p, prec))
					}
				} else {
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
						bx+1, float64(y0)-h, barW-2, h, s.fill(), html.EscapeString(tip))
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%s</text>`+"\n", bx+barW/2, float64(y0)-h-3, num(v, prec))
			}
			// The group's label is the workload's letter: the names
			// are in the key below the panels.
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">(%s)</text>`+"\n", cx, y0+18, html.EscapeString(wl))
		}
	}
	panel(left, "requests/s at maximum throughput (higher is better)", (*cell).rps, nil, 0)
	panel(left+panelW+gap, "p99 ms at half the app's maximum (lower is better)", (*cell).p99, nil, 1)
	total := func(c *cell) float64 {
		if v := c.totalCPUMs(); !math.IsNaN(v) {
			return v
		}
		return c.cpuMs() // results without database figures
	}
	panel(left+2*(panelW+gap), "CPU ms/request, server + database (lower is better)", total, (*cell).cpuMs, 2)
	// workload key and settings footnote
	var key []string
	for _, wl := range wls {
		key = append(key, wlNames[wl])
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", left, top+panelH+45, html.EscapeString(strings.Join(key, " · ")))
	for _, wl := range wls {
		for _, s := range ss {
			if c := cs.get(s.db, wl, s.sys); c != nil && c.max != nil {
				st := c.max.Settings
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#4a5568">%s</text>`+"\n", left, top+panelH+65,
					html.EscapeString(fmt.Sprintf("closed loop C=%d, %s after %s warm-up; p99 and CPU open loop at a fixed rate", st.Concurrency, st.Duration, st.Warmup)))
				b.WriteString("</svg>\n")
				return b.String()
			}
		}
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
