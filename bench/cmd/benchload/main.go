// Command benchload is the load generator of make bench (issue 9): a separate
// process that drives one GraphQL server over loopback with one workload for
// a fixed duration after a warm-up, checks every response, and writes one
// JSON file with the figures and the exact settings.
//
//	benchload -target http://127.0.0.1:8080/graphql -workload a -system app \
//	    -mode max -concurrency 32 -warmup 5s -duration 20s \
//	    -key-file bench/.key -pid 1234 -db-pids postgres=2345,mariadb=3456 \
//	    -pgss postgres://root@127.0.0.1:15432/postgres -pgss-user bench_app -out a-max.json
//
// Modes:
//   - max: closed loop, -concurrency workers each sending the next request as
//     soon as the previous one is answered; the figure is the achieved
//     requests/s (latency is reported too, but it is the latency of a
//     saturated server).
//   - rate: open loop at -rate requests/s: send times are scheduled in
//     advance and latency is measured from the scheduled time, so a server
//     that stalls is charged for the requests that queued behind the stall
//     (no coordinated omission). At most -max-inflight requests are
//     outstanding; past that the schedule slips and the slip is counted in
//     the latency.
//
// Workloads: a (nested list), b (one shipment by reference, BENCH-000001 to
// -references at random), c (addTrackingEvent IN_TRANSIT on a few hundred
// in-transit shipments), d (a as an APQ hash over GET, registered once), e
// (mixed: -mix, by default 45 % a, 45 % b, 10 % c). Systems: app (the
// documents of bench/queries/app, the API key of -key-file), peer
// (PostGraphile: bench/queries/postgraphile), ceiling (operationName and
// variables only). c, d and e need -system app.
//
// After the warm-up and after the window, the load waits until every request
// it sent has completed, and the server's counters are read then: their
// deltas hold exactly the window's requests, however loaded the machine.
//
// Server figures come from /proc/PID (and its descendants with -pid-tree):
// peak RSS over the measured window (VmRSS sampled every 100 ms), VmHWM,
// RSS before the warm-up, CPU seconds (utime+stime, and that of reaped
// children) during the window per request. Database figures: the CPU over
// the window of the database processes of -db-pids (each with its
// descendants: a postmaster and its backends), so that the whole system's
// CPU per request is server plus database. Statements per request come from
// pg_stat_statements (-pgss, the calls of role -pgss-user), the app's
// /metrics (shipmentapp_sql_statements_total) or the ceiling's /stats.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Settings are the exact settings of a run, as written to the result.
type Settings struct {
	Target      string            `json:"target"`
	Workload    string            `json:"workload"`
	System      string            `json:"system"`
	Database    string            `json:"database,omitempty"`
	Mode        string            `json:"mode"`
	Rate        float64           `json:"rate,omitempty"`
	Concurrency int               `json:"concurrency"`
	MaxInflight int               `json:"maxInflight,omitempty"`
	Warmup      Duration          `json:"warmup"`
	Duration    Duration          `json:"duration"`
	Timeout     Duration          `json:"timeout"`
	Queries     string            `json:"queries"`
	References  int               `json:"references"`
	RefFormat   string            `json:"refFormat"`
	Statuses    []string          `json:"statuses"`
	Mix         string            `json:"mix,omitempty"`
	EventIDs    int               `json:"eventIds,omitempty"`
	PID         int               `json:"pid,omitempty"`
	PIDTree     bool              `json:"pidTree"`
	DBPIDs      string            `json:"dbPids,omitempty"`
	PGStatURL   string            `json:"pgStatStatementsUrl,omitempty"`
	PGStatUser  string            `json:"pgStatStatementsUser,omitempty"`
	MetricsURL  string            `json:"metricsUrl,omitempty"`
	StatsURL    string            `json:"statsUrl,omitempty"`
	Label       string            `json:"label,omitempty"`
	Seed        uint64            `json:"seed"`
	GoVersion   string            `json:"goVersion"`
	NumCPU      int               `json:"numCPU"`
	GOMAXPROCS  int               `json:"gomaxprocs"`
	Documents   map[string]string `json:"documents"`
}

// Duration marshals as a Go duration string.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Result is the JSON file benchload writes.
type Result struct {
	Settings Settings  `json:"settings"`
	Started  time.Time `json:"started"`
	// WindowStart and WindowEnd bound the measured window (after the warm-up).
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	// Requests completed within the window, OK and failed.
	Requests uint64 `json:"requests"`
	OK       uint64 `json:"ok"`
	Errors   uint64 `json:"errors"`
	// WarmupRequests were sent during the warm-up and discarded.
	WarmupRequests uint64            `json:"warmupRequests"`
	ErrorKinds     map[string]uint64 `json:"errorKinds,omitempty"`
	ErrorSamples   []string          `json:"errorSamples,omitempty"`
	// RequestsPerSec counts successful responses per second of the window.
	RequestsPerSec float64 `json:"requestsPerSec"`
	// OfferedRate is -rate in rate mode; MaxScheduleSlipMs how far the
	// sender fell behind its schedule (the in-flight cap was reached).
	OfferedRate       float64 `json:"offeredRate,omitempty"`
	MaxScheduleSlipMs float64 `json:"maxScheduleSlipMs,omitempty"`
	// Latency of the requests of the window (rate mode: from the scheduled
	// send time), failed ones included.
	Latency  LatencySummary            `json:"latency"`
	PerOp    map[string]LatencySummary `json:"perOperation,omitempty"`
	Server   *ServerFigures            `json:"server,omitempty"`
	Database *DatabaseFigures          `json:"database,omitempty"`
	CPU      *CPUFigures               `json:"cpu,omitempty"`
	SQL      *SQLFigures               `json:"sql,omitempty"`
	Client   ClientFigures             `json:"client"`
}

// ServerFigures are read from /proc/PID.
type ServerFigures struct {
	PID   int `json:"pid"`
	Procs int `json:"procs"`
	// RSSBeforeBytes is VmRSS before the warm-up (the idle figure when the
	// server has just started and nothing ran yet).
	RSSBeforeBytes uint64 `json:"rssBeforeBytes"`
	// PeakRSSBytes is the largest VmRSS sampled every 100 ms in the window.
	PeakRSSBytes uint64 `json:"peakRssBytes"`
	// HWMBytes is VmHWM at the end: the peak since the process started.
	HWMBytes        uint64  `json:"hwmBytes"`
	RSSSamples      int     `json:"rssSamples"`
	CPUSeconds      float64 `json:"cpuSeconds"`
	CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
	// CPUUtilisation is CPU seconds per wall second (1 = one core busy).
	CPUUtilisation float64 `json:"cpuUtilisation"`
}

// DatabaseFigures are the CPU of the database processes (-db-pids) over the
// window. Systems run one at a time, so the delta is the system's (plus
// whatever else the database served meanwhile: nothing on the bench's
// private PostgreSQL cluster; other clients' statements on a shared
// MariaDB).
type DatabaseFigures struct {
	Processes       map[string]DBProcessFigures `json:"processes"`
	CPUSeconds      float64                     `json:"cpuSeconds"`
	CPUMsPerRequest float64                     `json:"cpuMsPerRequest"`
	CPUUtilisation  float64                     `json:"cpuUtilisation"`
}

// DBProcessFigures are one database process tree's.
type DBProcessFigures struct {
	PID             int     `json:"pid"`
	Procs           int     `json:"procs"`
	CPUSeconds      float64 `json:"cpuSeconds"`
	CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
}

// CPUFigures is the whole system's CPU per request: the server process
// tree's, the database processes', and their sum.
type CPUFigures struct {
	ServerMsPerRequest   float64 `json:"serverMsPerRequest"`
	DatabaseMsPerRequest float64 `json:"databaseMsPerRequest"`
	TotalMsPerRequest    float64 `json:"totalMsPerRequest"`
}

// SQLFigures are statement counts over the window.
type SQLFigures struct {
	// Source is "pg_stat_statements", "metrics" or "stats": where
	// PerRequest comes from. PerRequest counts the statements sent to the
	// main database (not Dolibarr's): pg_stat_statements' top-level calls
	// when given, else the app's counter without target dolibarr, else the
	// ceiling's "main".
	Source     string  `json:"source"`
	Statements float64 `json:"statements"`
	PerRequest float64 `json:"perRequest"`
	// PGStatPerRequest (pg_stat_statements' top-level calls of the
	// system's role), PGStatNestedPerRequest (the statements run inside
	// functions: track = all), MetricsPerRequest (the app's own counter, by
	// target: primary, replica, dolibarr) and StatsPerRequest (the
	// ceiling's /stats) when available.
	PGStatPerRequest       *float64 `json:"pgStatStatementsPerRequest,omitempty"`
	PGStatNestedPerRequest *float64 `json:"pgStatStatementsNestedPerRequest,omitempty"`
	// PGStatDeallocs is how many times pg_stat_statements evicted entries
	// during the window (non-zero: its counts are too low).
	PGStatDeallocs    float64            `json:"pgStatStatementsDeallocs,omitempty"`
	MetricsPerRequest map[string]float64 `json:"metricsPerRequest,omitempty"`
	StatsPerRequest   *float64           `json:"statsPerRequest,omitempty"`
	// StatsMainPerRequest is the ceiling's main-database share.
	StatsMainPerRequest *float64 `json:"statsMainPerRequest,omitempty"`
	// StatsRequests is the ceiling's own request count over the window.
	StatsRequests *float64 `json:"statsRequests,omitempty"`
}

// ClientFigures describe the load generator itself.
type ClientFigures struct {
	CPUSeconds      float64 `json:"cpuSeconds"`
	CPUMsPerRequest float64 `json:"cpuMsPerRequest"`
	// Affinity is the CPU list the generator may run on (taskset).
	Affinity string `json:"affinity,omitempty"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchload: ")
	var s Settings
	var warmup, duration, timeout time.Duration
	var statuses, keyFile, out string
	flag.StringVar(&s.Target, "target", "http://127.0.0.1:8080/graphql", "GraphQL endpoint URL")
	flag.StringVar(&s.Workload, "workload", "a", "a (nested list), b (by reference), c (addTrackingEvent), d (a as APQ hash over GET), e (mixed)")
	flag.StringVar(&s.System, "system", "app", "app, peer (PostGraphile) or ceiling")
	flag.StringVar(&s.Database, "database", "", "the main database the system runs on (postgres, mariadb), copied to the result")
	flag.StringVar(&s.Mode, "mode", "max", "max (closed loop) or rate (open loop at -rate)")
	flag.Float64Var(&s.Rate, "rate", 100, "requests/s in rate mode")
	flag.IntVar(&s.Concurrency, "concurrency", 32, "workers in max mode")
	flag.IntVar(&s.MaxInflight, "max-inflight", 512, "outstanding requests at most in rate mode")
	flag.DurationVar(&warmup, "warmup", 5*time.Second, "warm-up, discarded")
	flag.DurationVar(&duration, "duration", 20*time.Second, "measured window")
	flag.DurationVar(&timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.StringVar(&keyFile, "key-file", "", "file holding the app's API key (sent as Authorization: Bearer; app only)")
	flag.IntVar(&s.PID, "pid", 0, "server process to sample in /proc (0: none)")
	flag.BoolVar(&s.PIDTree, "pid-tree", true, "sum the server process and its descendants (a start script's node)")
	flag.StringVar(&s.DBPIDs, "db-pids", "", "database processes whose CPU (with their descendants') is counted, name=pid,... (e.g. postgres=2345,mariadb=3456)")
	flag.StringVar(&s.PGStatURL, "pgss", "", "PostgreSQL URL to read pg_stat_statements from (statements per request)")
	flag.StringVar(&s.PGStatUser, "pgss-user", "", "with -pgss: the role whose statements are counted (default: every role but the reader's)")
	flag.StringVar(&s.MetricsURL, "metrics-url", "", "the app's /metrics (default for -system app: the target's /metrics; \"off\" to skip)")
	flag.StringVar(&s.StatsURL, "stats-url", "", "the ceiling's /stats (default for -system ceiling: the target's /stats; \"off\" to skip)")
	flag.StringVar(&s.Queries, "queries", "bench/queries", "directory of the app/ and postgraphile/ documents")
	flag.IntVar(&s.References, "references", 10000, "workload b: references BENCH-000001 to this")
	flag.StringVar(&s.RefFormat, "ref-format", "BENCH-%06d", "workload b: fmt format of a reference from its number")
	flag.StringVar(&statuses, "statuses", "IN_TRANSIT,OUT_FOR_DELIVERY", "workload a: the statuses variable")
	flag.StringVar(&s.Mix, "mix", "a=45,b=45,c=10", "workload e: weights of the workloads mixed")
	flag.IntVar(&s.EventIDs, "event-ids", 300, "workloads c, e: in-transit shipments to add events to")
	flag.StringVar(&s.Label, "label", "", "free text copied to the result")
	flag.Uint64Var(&s.Seed, "seed", 1, "random seed (references, mix)")
	flag.StringVar(&out, "out", "", "result JSON file (default: stdout)")
	flag.Parse()
	s.Warmup, s.Duration, s.Timeout = Duration(warmup), Duration(duration), Duration(timeout)
	s.Statuses = splitList(statuses)
	s.GoVersion, s.NumCPU, s.GOMAXPROCS = runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0)
	if s.Mode != "rate" {
		s.MaxInflight = 0
		s.Rate = 0
	}
	key := ""
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			log.Fatal(err)
		}
		key = strings.TrimSpace(string(b))
	}
	ctx := context.Background()
	res, err := Run(ctx, s, key)
	if err != nil {
		log.Fatal(err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	b = append(b, '\n')
	if out == "" {
		_, _ = os.Stdout.Write(b)
	} else if err := os.WriteFile(out, b, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s %s/%s %s: %.1f req/s ok, %d errors, p50 %.2f ms, p99 %.2f ms%s",
		s.Label, s.System, s.Workload, s.Mode, res.RequestsPerSec, res.Errors, res.Latency.P50Ms, res.Latency.P99Ms, serverLine(res))
	if res.OK == 0 {
		os.Exit(1)
	}
}

func serverLine(r *Result) string {
	var b strings.Builder
	if r.Server != nil {
		fmt.Fprintf(&b, ", peak RSS %.1f MiB, CPU %.3f ms/req", float64(r.Server.PeakRSSBytes)/(1<<20), r.Server.CPUMsPerRequest)
	}
	if r.CPU != nil {
		fmt.Fprintf(&b, " + database %.3f = %.3f ms/req", r.CPU.DatabaseMsPerRequest, r.CPU.TotalMsPerRequest)
	}
	if r.SQL != nil {
		fmt.Fprintf(&b, ", %.2f statements/req (%s)", r.SQL.PerRequest, r.SQL.Source)
	}
	return b.String()
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

// --- requests -------------------------------------------------------------

// op builds the requests of one workload.
type op struct {
	name  string
	build func(seq uint64, rnd *rand.Rand) (*http.Request, error)
}

type gqlBody struct {
	Query         string         `json:"query,omitempty"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

var opNameRE = regexp.MustCompile(`(?m)^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)`)

// readDocument reads a document and its operation name.
func readDocument(path string) (doc, name string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	doc = string(b)
	m := opNameRE.FindStringSubmatch(doc)
	if m == nil {
		return "", "", fmt.Errorf("%s: no named operation", path)
	}
	return doc, m[1], nil
}

// client sends requests and checks the answers.
type client struct {
	s      Settings
	key    string
	http   *http.Client
	target string
}

func (c *client) post(ctx context.Context, body gqlBody) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.target, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	c.auth(req)
	return req, nil
}

func (c *client) auth(req *http.Request) {
	if c.key != "" && c.s.System == "app" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
}

// gqlResponse is the part of a response that is checked.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// checkError is a failed check; Kind groups failures in the result.
type checkError struct {
	Kind   string
	Detail string
}

func (e *checkError) Error() string { return e.Kind + ": " + e.Detail }

// check verifies one response: HTTP 200, JSON, no errors, and data an
// object whose every root field is non-null.
func check(status int, body []byte) (*gqlResponse, error) {
	if status != http.StatusOK {
		return nil, &checkError{"http " + strconv.Itoa(status), trunc(body)}
	}
	var r gqlResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &checkError{"bad json", trunc(body)}
	}
	if len(r.Errors) > 0 {
		code := "errors"
		if c, ok := r.Errors[0].Extensions["code"].(string); ok {
			code = "errors " + c
		}
		return nil, &checkError{code, trunc(body)}
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &data); err != nil || len(data) == 0 {
		return nil, &checkError{"empty data", trunc(body)}
	}
	for k, v := range data {
		if len(v) == 0 || string(v) == "null" {
			return nil, &checkError{"null " + k, trunc(body)}
		}
	}
	return &r, nil
}

func trunc(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// do sends one request and checks its answer.
func (c *client) do(req *http.Request) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &checkError{"transport", err.Error()}
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, &checkError{"transport", err.Error()}
	}
	if _, err := check(resp.StatusCode, body); err != nil {
		return body, err
	}
	return body, nil
}

// buildOps returns the operations of the workload (several for e, with
// their weights in table: op index per slot).
func (c *client) buildOps(ctx context.Context) (ops []op, table []int, err error) {
	s := &c.s
	s.Documents = map[string]string{}
	dir := filepath.Join(s.Queries, "app")
	if s.System == "peer" {
		dir = filepath.Join(s.Queries, "postgraphile")
	}
	load := func(file string) (string, string, error) {
		p := filepath.Join(dir, file)
		doc, name, err := readDocument(p)
		if err != nil {
			if s.System == "ceiling" {
				return "", defaultNames[file], nil
			}
			return "", "", err
		}
		s.Documents[name] = p
		if s.System == "ceiling" {
			return "", name, nil // the ceiling takes the operation name only
		}
		return doc, name, nil
	}
	statuses := s.Statuses
	nested := func() (op, error) {
		doc, name, err := load("nested-list.graphql")
		if err != nil {
			return op{}, err
		}
		vars := map[string]any{"statuses": statuses}
		return op{name: "a", build: func(uint64, *rand.Rand) (*http.Request, error) {
			return c.post(ctx, gqlBody{Query: doc, OperationName: name, Variables: vars})
		}}, nil
	}
	byRef := func() (op, error) {
		doc, name, err := load("by-reference.graphql")
		if err != nil {
			return op{}, err
		}
		n, format := s.References, s.RefFormat
		if format == "" {
			format = "BENCH-%06d"
		}
		return op{name: "b", build: func(_ uint64, rnd *rand.Rand) (*http.Request, error) {
			ref := fmt.Sprintf(format, 1+rnd.IntN(n))
			return c.post(ctx, gqlBody{Query: doc, OperationName: name, Variables: map[string]any{"reference": ref}})
		}}, nil
	}
	addEvent := func() (op, error) {
		if s.System != "app" {
			return op{}, errors.New("workload c is for -system app only")
		}
		doc, name, err := load("add-event.graphql")
		if err != nil {
			return op{}, err
		}
		ids, err := c.inTransitIDs(ctx, s.EventIDs)
		if err != nil {
			return op{}, err
		}
		var last atomic.Int64 // microseconds, strictly increasing
		return op{name: "c", build: func(seq uint64, _ *rand.Rand) (*http.Request, error) {
			now := time.Now().UnixMicro()
			for {
				l := last.Load()
				if now <= l {
					now = l + 1
				}
				if last.CompareAndSwap(l, now) {
					break
				}
				now = time.Now().UnixMicro()
			}
			at := time.UnixMicro(now).UTC().Format(time.RFC3339Nano)
			vars := map[string]any{
				"id": ids[seq%uint64(len(ids))],
				"in": map[string]any{
					"status": "IN_TRANSIT", "occurredAt": at, "description": "benchload scan",
					"location": map[string]any{"city": "Lyon", "countryCode": "FR"},
				},
			}
			return c.post(ctx, gqlBody{Query: doc, OperationName: name, Variables: vars})
		}}, nil
	}
	apq := func() (op, error) {
		if s.System != "app" {
			return op{}, errors.New("workload d is for -system app only")
		}
		doc, name, err := load("nested-list.graphql")
		if err != nil {
			return op{}, err
		}
		sum := sha256.Sum256([]byte(doc))
		pq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		vars := map[string]any{"statuses": statuses}
		// Register once: the full document with its hash.
		req, err := c.post(ctx, gqlBody{Query: doc, OperationName: name, Variables: vars, Extensions: pq})
		if err != nil {
			return op{}, err
		}
		if _, err := c.do(req); err != nil {
			return op{}, fmt.Errorf("APQ registration: %w", err)
		}
		ext, _ := json.Marshal(pq)
		vb, _ := json.Marshal(vars)
		q := url.Values{"extensions": {string(ext)}, "variables": {string(vb)}, "operationName": {name}}
		u := c.target + "?" + q.Encode()
		if strings.Contains(c.target, "?") {
			u = c.target + "&" + q.Encode()
		}
		// The hash alone must now be known (a miss would be
		// PERSISTED_QUERY_NOT_FOUND, counted as an error anyway).
		return op{name: "d", build: func(uint64, *rand.Rand) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Accept", "application/json")
			req.Header.Set("GraphQL-Require-Preflight", "1")
			c.auth(req)
			return req, nil
		}}, nil
	}
	builders := map[string]func() (op, error){"a": nested, "b": byRef, "c": addEvent, "d": apq}
	if s.Workload != "e" {
		b, ok := builders[s.Workload]
		if !ok {
			return nil, nil, fmt.Errorf("unknown workload %q", s.Workload)
		}
		o, err := b()
		if err != nil {
			return nil, nil, err
		}
		return []op{o}, []int{0}, nil
	}
	if s.System != "app" {
		return nil, nil, errors.New("workload e is for -system app only")
	}
	weights, err := parseMix(s.Mix)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range weights {
		b, ok := builders[w.name]
		if !ok {
			return nil, nil, fmt.Errorf("mix: unknown workload %q", w.name)
		}
		o, err := b()
		if err != nil {
			return nil, nil, err
		}
		for range w.weight {
			table = append(table, len(ops))
		}
		ops = append(ops, o)
	}
	// A fixed shuffle, so the mix is exact over every len(table) requests
	// and reads and writes interleave.
	rand.New(rand.NewPCG(s.Seed, 7)).Shuffle(len(table), func(i, j int) { table[i], table[j] = table[j], table[i] })
	return ops, table, nil
}

// defaultNames are the ceiling's operation names when no document is found.
var defaultNames = map[string]string{
	"nested-list.graphql":  "NestedList",
	"by-reference.graphql": "ShipmentByReference",
}

type mixWeight struct {
	name   string
	weight int
}

func parseMix(s string) ([]mixWeight, error) {
	var out []mixWeight
	for _, p := range splitList(s) {
		k, v, ok := strings.Cut(p, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 0 || n > 1000 {
			return nil, fmt.Errorf("mix: %q is not name=weight", p)
		}
		if n > 0 {
			out = append(out, mixWeight{strings.TrimSpace(k), n})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("mix: empty")
	}
	return out, nil
}

const idsQuery = `query BenchInTransit($after: Cursor, $first: Int) {
  shipments(first: $first, after: $after, where: { statusIn: [IN_TRANSIT] }, orderBy: [{ field: CREATED_AT, direction: DESC }]) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`

// inTransitIDs fetches up to n in-transit shipments' global IDs.
func (c *client) inTransitIDs(ctx context.Context, n int) ([]string, error) {
	var ids []string
	var after any
	for len(ids) < n {
		req, err := c.post(ctx, gqlBody{Query: idsQuery, OperationName: "BenchInTransit",
			Variables: map[string]any{"after": after, "first": min(100, n-len(ids))}})
		if err != nil {
			return nil, err
		}
		body, err := c.do(req)
		if err != nil {
			return nil, fmt.Errorf("fetching in-transit shipments: %w", err)
		}
		var r struct {
			Data struct {
				Shipments struct {
					Edges []struct {
						Node struct {
							ID string `json:"id"`
						} `json:"node"`
					} `json:"edges"`
					PageInfo struct {
						HasNextPage bool    `json:"hasNextPage"`
						EndCursor   *string `json:"endCursor"`
					} `json:"pageInfo"`
				} `json:"shipments"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, err
		}
		for _, e := range r.Data.Shipments.Edges {
			ids = append(ids, e.Node.ID)
		}
		pi := r.Data.Shipments.PageInfo
		if !pi.HasNextPage || pi.EndCursor == nil {
			break
		}
		after = *pi.EndCursor
	}
	if len(ids) == 0 {
		return nil, errors.New("no IN_TRANSIT shipment to add events to")
	}
	return ids, nil
}

// --- the run ----------------------------------------------------------------

// recorder collects the outcomes of the window.
type recorder struct {
	hist    *Histogram
	perOp   []*Histogram
	ok      atomic.Uint64
	errs    atomic.Uint64
	warm    atomic.Uint64
	mu      sync.Mutex
	kinds   map[string]uint64
	samples []string
}

func (r *recorder) fail(err error) {
	r.errs.Add(1)
	kind, detail := "error", err.Error()
	var ce *checkError
	if errors.As(err, &ce) {
		kind, detail = ce.Kind, ce.Detail
	}
	r.mu.Lock()
	r.kinds[kind]++
	if len(r.samples) < 5 {
		r.samples = append(r.samples, kind+": "+detail)
	}
	r.mu.Unlock()
}

// Run performs one benchmark run.
func Run(ctx context.Context, s Settings, key string) (*Result, error) {
	if s.Mode != "max" && s.Mode != "rate" {
		return nil, fmt.Errorf("unknown mode %q", s.Mode)
	}
	if s.Mode == "rate" && s.Rate <= 0 {
		return nil, errors.New("rate mode needs -rate > 0")
	}
	if s.Concurrency < 1 {
		s.Concurrency = 1
	}
	if s.Mode == "rate" && s.MaxInflight < 1 {
		s.MaxInflight = 1
	}
	switch s.System {
	case "app", "peer", "ceiling":
	default:
		return nil, fmt.Errorf("unknown system %q", s.System)
	}
	conns := s.Concurrency
	if s.Mode == "rate" {
		conns = s.MaxInflight
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		// Identity answers from every system: the app compresses when asked
		// (HTTP_COMPRESSION) and the peer and the ceiling do not, so asking
		// would compare different work. BenchmarkCompression measures it.
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	c := &client{s: s, key: key, target: s.Target,
		http: &http.Client{Transport: tr, Timeout: time.Duration(s.Timeout)}}
	if c.s.MetricsURL == "" && s.System == "app" {
		c.s.MetricsURL = siblingURL(s.Target, "/metrics")
	}
	if c.s.StatsURL == "" && s.System == "ceiling" {
		c.s.StatsURL = siblingURL(s.Target, "/stats")
	}
	ops, table, err := c.buildOps(ctx)
	if err != nil {
		return nil, err
	}
	s = c.s
	rec := &recorder{hist: NewHistogram(), kinds: map[string]uint64{}}
	for range ops {
		rec.perOp = append(rec.perOp, NewHistogram())
	}
	res := &Result{Settings: s, Started: time.Now().UTC()}
	if s.Mode == "rate" {
		res.OfferedRate = s.Rate
	}

	var pr *proc
	if s.PID > 0 {
		pr = &proc{root: "/proc", pid: s.PID, tree: s.PIDTree}
		before, err := pr.read()
		if err != nil {
			return nil, fmt.Errorf("server process: %w", err)
		}
		res.Server = &ServerFigures{PID: s.PID, RSSBeforeBytes: before.Mem.RSS}
	}
	self := proc{root: "/proc", pid: os.Getpid()}
	dbs, err := parseDBPIDs(s.DBPIDs, "/proc")
	if err != nil {
		return nil, err
	}
	for _, d := range dbs {
		if _, err := d.proc.read(); err != nil {
			return nil, fmt.Errorf("database process %s: %w", d.name, err)
		}
	}
	var stmts stmtReader
	if s.PGStatURL != "" {
		if stmts, err = openStmtReader(ctx, s.PGStatURL, s.PGStatUser); err != nil {
			return nil, err
		}
		defer stmts.close()
	}

	// The counters are read between the phases, with no request in flight:
	// the warm-up runs, every request it sent completes, the counters are
	// read, then the window runs, every request it sent completes, and they
	// are read again. So the statements and CPU in the deltas are exactly
	// those of the window's requests, however loaded the machine (reading
	// them while requests were in flight counted some requests without their
	// statements, or statements without their requests).
	type counters struct {
		at      time.Time
		proc    sample
		procErr error
		self    sample
		dbs     []sample
		dbErr   error
		pgss    *stmtCount
		metrics map[string]float64
		stats   *ceilingStats
	}
	read := func() counters {
		k := counters{at: time.Now()}
		if pr != nil {
			k.proc, k.procErr = pr.read()
		}
		k.self, _ = self.read()
		for _, d := range dbs {
			sm, err := d.proc.read()
			if err != nil && k.dbErr == nil {
				k.dbErr = fmt.Errorf("database process %s: %w", d.name, err)
			}
			k.dbs = append(k.dbs, sm)
		}
		if stmts != nil {
			if v, err := stmts.read(ctx); err == nil {
				k.pgss = &v
			} else {
				log.Printf("%v", err)
			}
		}
		if s.MetricsURL != "" && s.MetricsURL != "off" {
			if m, err := fetchMetrics(ctx, c.http, s.MetricsURL); err == nil {
				k.metrics = m
			} else {
				log.Printf("metrics: %v", err)
			}
		}
		if s.StatsURL != "" && s.StatsURL != "off" {
			if st, err := fetchStats(ctx, c.http, s.StatsURL); err == nil {
				k.stats = &st
			} else {
				log.Printf("stats: %v", err)
			}
		}
		return k
	}

	var windowRequests atomic.Uint64
	// record files one outcome of a phase ending at until; sent is when it
	// was (scheduled to be) sent.
	record := func(warm bool, until time.Time, opIdx int, sent, done time.Time, err error) {
		if warm {
			rec.warm.Add(1)
			return
		}
		windowRequests.Add(1)
		if s.Mode == "max" && done.After(until) {
			return // closed loop: only what completed in the window
		}
		lat := done.Sub(sent)
		rec.hist.Record(lat)
		rec.perOp[opIdx].Record(lat)
		if err != nil {
			rec.fail(err)
		} else {
			rec.ok.Add(1)
		}
	}
	var seq atomic.Uint64
	send := func(warm bool, until time.Time, rnd *rand.Rand, sent time.Time) {
		n := seq.Add(1) - 1
		idx := table[n%uint64(len(table))]
		req, err := ops[idx].build(n, rnd)
		if err == nil {
			_, err = c.do(req)
		}
		record(warm, until, idx, sent, time.Now(), err)
	}

	// phase sends from from until until and returns once every request it
	// sent has completed; it returns the largest schedule slip (rate mode).
	rnd := rand.New(rand.NewPCG(s.Seed, 99))
	phase := func(warm bool, from, until time.Time) time.Duration {
		var maxSlip time.Duration
		var wg sync.WaitGroup
		if s.Mode == "max" {
			for w := range s.Concurrency {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(s.Seed, uint64(w)+100+uint64(from.UnixNano())))
					for {
						now := time.Now()
						if !now.Before(until) {
							return
						}
						send(warm, until, r, now)
					}
				}()
			}
			wg.Wait()
			return 0
		}
		interval := time.Duration(float64(time.Second) / s.Rate)
		sem := make(chan struct{}, s.MaxInflight)
		var rndMu sync.Mutex
		for i := int64(0); ; i++ {
			sched := from.Add(time.Duration(i) * interval)
			if !sched.Before(until) {
				break
			}
			if d := time.Until(sched); d > 0 {
				time.Sleep(d)
			}
			sem <- struct{}{}
			if slip := time.Since(sched); slip > maxSlip {
				maxSlip = slip
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rndMu.Lock()
				r := rand.New(rand.NewPCG(rnd.Uint64(), rnd.Uint64()))
				rndMu.Unlock()
				send(warm, until, r, sched)
			}()
		}
		wg.Wait()
		return maxSlip
	}

	start := time.Now()
	phase(true, start, start.Add(time.Duration(s.Warmup)))
	k0 := read()
	t0 := time.Now()
	t1 := t0.Add(time.Duration(s.Duration))
	res.WindowStart, res.WindowEnd = t0.UTC(), t1.UTC()
	// RSS every 100 ms during the window.
	var peakRSS uint64
	var rssSamples int
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for now := range tick.C {
			if now.After(t1) {
				return
			}
			if pr != nil {
				if sm, err := pr.read(); err == nil {
					rssSamples++
					peakRSS = max(peakRSS, sm.Mem.RSS)
				}
			}
		}
	}()
	maxSlip := phase(false, t0, t1)
	<-samplerDone
	k1 := read()

	res.OK, res.Errors, res.WarmupRequests = rec.ok.Load(), rec.errs.Load(), rec.warm.Load()
	res.Requests = res.OK + res.Errors
	if len(rec.kinds) > 0 {
		res.ErrorKinds, res.ErrorSamples = rec.kinds, rec.samples
	}
	window := k1.at.Sub(k0.at).Seconds()
	if window <= 0 {
		window = time.Duration(s.Duration).Seconds()
	}
	res.RequestsPerSec = round3(float64(res.OK) / time.Duration(s.Duration).Seconds())
	res.MaxScheduleSlipMs = ms(maxSlip)
	res.Latency = rec.hist.Summary()
	if len(ops) > 1 {
		res.PerOp = map[string]LatencySummary{}
		for i, o := range ops {
			res.PerOp[o.name] = rec.perOp[i].Summary()
		}
	}
	perReq := float64(windowRequests.Load())
	if perReq == 0 {
		perReq = 1
	}
	if res.Server != nil {
		if k0.procErr != nil || k1.procErr != nil {
			return nil, fmt.Errorf("server process vanished: %v %v", k0.procErr, k1.procErr)
		}
		sv := res.Server
		sv.Procs = k1.proc.Procs
		sv.PeakRSSBytes = max(peakRSS, k0.proc.Mem.RSS, k1.proc.Mem.RSS)
		sv.HWMBytes = k1.proc.Mem.HWM
		sv.RSSSamples = rssSamples
		sv.CPUSeconds = round3(k1.proc.CPU - k0.proc.CPU)
		sv.CPUMsPerRequest = round3(sv.CPUSeconds * 1000 / perReq)
		sv.CPUUtilisation = round3(sv.CPUSeconds / window)
	}
	if len(dbs) > 0 {
		if k0.dbErr != nil || k1.dbErr != nil {
			return nil, fmt.Errorf("database process vanished: %v %v", k0.dbErr, k1.dbErr)
		}
		db := &DatabaseFigures{Processes: map[string]DBProcessFigures{}}
		var total float64
		for i, d := range dbs {
			sec := k1.dbs[i].CPU - k0.dbs[i].CPU
			total += sec
			db.Processes[d.name] = DBProcessFigures{PID: d.proc.pid, Procs: k1.dbs[i].Procs,
				CPUSeconds: round3(sec), CPUMsPerRequest: round3(sec * 1000 / perReq)}
		}
		db.CPUSeconds = round3(total)
		db.CPUMsPerRequest = round3(total * 1000 / perReq)
		db.CPUUtilisation = round3(total / window)
		res.Database = db
	}
	if res.Server != nil && res.Database != nil {
		srv := (k1.proc.CPU - k0.proc.CPU) * 1000 / perReq
		dbMs := res.Database.CPUSeconds * 1000 / perReq
		res.CPU = &CPUFigures{ServerMsPerRequest: res.Server.CPUMsPerRequest, DatabaseMsPerRequest: res.Database.CPUMsPerRequest,
			TotalMsPerRequest: round3(srv + dbMs)}
	}
	res.Client.CPUSeconds = round3(k1.self.CPU - k0.self.CPU)
	res.Client.CPUMsPerRequest = round3(res.Client.CPUSeconds * 1000 / perReq)
	res.Client.Affinity = affinity()

	sql := &SQLFigures{}
	if k0.pgss != nil && k1.pgss != nil {
		d := k1.pgss.TopLevel - k0.pgss.TopLevel
		v, nested := round3(d/perReq), round3((k1.pgss.Nested-k0.pgss.Nested)/perReq)
		sql.PGStatPerRequest, sql.PGStatNestedPerRequest = &v, &nested
		sql.PGStatDeallocs = k1.pgss.Dealloc - k0.pgss.Dealloc
		if sql.PGStatDeallocs > 0 {
			log.Printf("pg_stat_statements evicted entries %v times during the window: its counts are too low (raise pg_stat_statements.max)", sql.PGStatDeallocs)
		}
		sql.Source, sql.Statements, sql.PerRequest = "pg_stat_statements", d, v
	}
	if k0.metrics != nil && k1.metrics != nil {
		sql.MetricsPerRequest = map[string]float64{}
		var total, main float64
		for t, v := range k1.metrics {
			d := v - k0.metrics[t]
			total += d
			if t != "dolibarr" {
				main += d
			}
			sql.MetricsPerRequest[t] = round3(d / perReq)
		}
		sql.MetricsPerRequest["total"] = round3(total / perReq)
		if sql.Source == "" {
			sql.Source, sql.Statements, sql.PerRequest = "metrics", main, round3(main/perReq)
		}
	}
	if k0.stats != nil && k1.stats != nil {
		d := k1.stats.Statements - k0.stats.Statements
		v := round3(d / perReq)
		sql.StatsPerRequest = &v
		r := k1.stats.Requests - k0.stats.Requests
		sql.StatsRequests = &r
		main := k1.stats.Main - k0.stats.Main
		mv := round3(main / perReq)
		sql.StatsMainPerRequest = &mv
		if sql.Source == "" {
			sql.Source, sql.Statements, sql.PerRequest = "stats", main, mv
		}
	}
	if sql.Source != "" {
		res.SQL = sql
	}
	return res, nil
}

func round3(v float64) float64 {
	return float64(int64(v*1000+0.5)) / 1000
}

// siblingURL replaces target's path with path.
func siblingURL(target, path string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	u.Path, u.RawQuery = path, ""
	return u.String()
}

func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

type ceilingStats struct {
	Requests   float64 `json:"requests"`
	Statements float64 `json:"statements"`
	Main       float64 `json:"main"`
}

func fetchStats(ctx context.Context, hc *http.Client, u string) (ceilingStats, error) {
	var st ceilingStats
	err := getJSON(ctx, hc, u, &st)
	return st, err
}

// fetchMetrics sums shipmentapp_sql_statements_total by its target label.
func fetchMetrics(ctx context.Context, hc *http.Client, u string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseStatementMetrics(string(b))
}

var targetLabelRE = regexp.MustCompile(`target="([^"]*)"`)

func parseStatementMetrics(text string) (map[string]float64, error) {
	const name = "shipmentapp_sql_statements_total"
	out := map[string]float64{}
	found := false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // another metric with this prefix
		}
		target := "all"
		if m := targetLabelRE.FindStringSubmatch(rest); m != nil {
			target = m[1]
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: %q: %w", line, err)
		}
		out[target] += v
		found = true
	}
	if !found {
		return nil, errors.New("metrics: no " + name)
	}
	return out, nil
}

// affinity returns the CPU list this process may run on.
func affinity() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
