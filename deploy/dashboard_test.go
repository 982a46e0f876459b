package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

const (
	dashboardFile = "grafana/dashboards/shipmentapp.json"
	recordingFile = "prometheus/rules/recording.yml"
	alertsFile    = "prometheus/rules/alerts.yml"
	prometheusYML = "prometheus/prometheus.yml"
)

// TestDashboardMetrics: every PromQL expression of the Grafana dashboard
// (panel targets and variable queries) parses with Prometheus's own parser
// and names only metrics the app exports, recording rules of
// deploy/prometheus, or Prometheus's own up; so does every expression of the
// alert and recording rules, where metrics of the other scrape jobs (node,
// mysql, redis, prometheus) are also allowed. What the app exports is read
// from the app itself: its /metrics after a few requests (names and types)
// and the descriptors of its registry (metrics without a series yet).
func TestDashboardMetrics(t *testing.T) {
	c := &metricChecker{
		exported:  appMetrics(t),
		recorded:  recordedNames(t),
		otherJobs: otherJobs(t),
	}
	type tc struct {
		name    string
		expr    string
		appOnly bool   // a dashboard expression: the app's metrics only
		wantErr string // "" when the expression must pass
	}
	var cases []tc
	for _, e := range dashboardExprs(t) {
		cases = append(cases, tc{name: "dashboard/" + e.where, expr: e.expr, appOnly: true})
	}
	for _, e := range ruleExprs(t) {
		cases = append(cases, tc{name: "rules/" + e.where, expr: e.expr})
	}
	if len(cases) < 40 {
		t.Fatalf("only %d expressions found in the dashboard and the rules: is the walk of the JSON broken?", len(cases))
	}
	// The checker itself: each way a panel can name what the app does not
	// export is refused.
	cases = append(cases, []tc{
		{name: "bad/unknown metric", appOnly: true,
			expr: `sum(rate(shipmentapp_http_request_total[5m]))`, wantErr: `"shipmentapp_http_request_total" is not exported by the app`},
		{name: "bad/unknown metric in a rule", appOnly: false,
			expr: `shipmentapp_replica_lag > 30`, wantErr: `"shipmentapp_replica_lag" is not exported by the app`},
		{name: "bad/bucket of a counter", appOnly: true,
			expr: `histogram_quantile(0.9, sum by (le) (rate(shipmentapp_http_requests_total_bucket[5m])))`, wantErr: `"shipmentapp_http_requests_total_bucket" is not exported by the app`},
		{name: "bad/bucket of a summary", appOnly: true,
			expr: `rate(go_gc_duration_seconds_bucket[5m])`, wantErr: `"go_gc_duration_seconds_bucket" is not exported by the app`},
		{name: "bad/unknown recording rule", appOnly: true,
			expr: `job:shipmentapp_http_requests:rate10m`, wantErr: `no recording rule records "job:shipmentapp_http_requests:rate10m"`},
		{name: "bad/another job's metric on the dashboard", appOnly: true,
			expr: `node_load1`, wantErr: `"node_load1" is not exported by the app`},
		{name: "bad/a regexp naming nothing the app exports", appOnly: true,
			expr: `{__name__=~"shipmentapp_nope_.*"}`, wantErr: `matches no metric the app exports`},
		{name: "bad/syntax", appOnly: true,
			expr: `sum by (route) (rate(shipmentapp_http_requests_total[5m])`, wantErr: `parse`},
		{name: "bad/no metric name", appOnly: true,
			expr: `{job="shipmentapp"}`, wantErr: `selects no metric name`},
		// And what must pass, so the bad cases fail for their reason.
		{name: "good/histogram bucket", appOnly: true,
			expr: `histogram_quantile(0.9, sum by (le) (rate(shipmentapp_http_request_duration_seconds_bucket[5m])))`},
		{name: "good/summary sum and count", appOnly: true,
			expr: `rate(go_gc_duration_seconds_sum[5m]) / rate(go_gc_duration_seconds_count[5m])`},
		{name: "good/a metric with no series yet", appOnly: true,
			expr: `sum by (scope) (rate(shipmentapp_rate_limit_rejections_total[5m]))`},
		{name: "good/another job's metric in a rule", appOnly: false,
			expr: `node_load1 > 4`},
	}...)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := c.check(tt.expr, tt.appOnly)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("%s\n%v", tt.expr, err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("%s: accepted, want an error containing %q", tt.expr, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("%s: error %q, want one containing %q", tt.expr, err, tt.wantErr)
			}
		})
	}
}

// TestDashboardShape: the dashboard is provisionable as it is: a stable uid,
// the datasource and instance variables, every panel on the datasource
// variable, unique panel ids, every variable it uses defined.
func TestDashboardShape(t *testing.T) {
	d := readDashboard(t)
	if d.UID != "shipmentapp" || d.Title == "" {
		t.Errorf("uid %q, title %q: want uid shipmentapp and a title (links and the provisioning name it)", d.UID, d.Title)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, want := range []string{"datasource", "job", "instance"} {
		if !vars[want] {
			t.Errorf("no template variable %q", want)
		}
	}
	ids := map[int]string{}
	for _, p := range d.allPanels() {
		if prev, ok := ids[p.ID]; ok {
			t.Errorf("panels %q and %q share the id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" || p.Type == "text" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q uses datasource %q, want the variable ${datasource}", p.Title, p.Datasource.UID)
		}
		for _, tg := range p.Targets {
			for _, m := range grafanaVar.FindAllStringSubmatch(tg.Expr, -1) {
				if name := varName(m[0]); !vars[name] && !strings.HasPrefix(name, "__") {
					t.Errorf("panel %q uses $%s, which the dashboard does not define", p.Title, name)
				}
			}
		}
	}
}

// appMetrics starts the app the way serve does (SQLite; the metric names do
// not depend on the driver), sends a few requests, and returns the name and
// type of everything it exports: the families of /metrics, and the
// registry's descriptors for the metrics that have no series yet (a vector
// without a label set, such as the rate-limit rejections), whose type is "".
func appMetrics(t *testing.T) map[string]string {
	t.Helper()
	b := testutil.All()[0]
	testutil.Require(t, b)
	cfg := testutil.Config(t, testutil.NewDatabase(t, b), testutil.NewDolibarr(t, b))
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	t.Cleanup(a.Close)
	if a.DevAdminKey == "" {
		t.Fatal("no development admin key")
	}
	gql := testutil.NewClient(t, a.Handler).As(a.DevAdminKey)
	gql.MustData(`query Dashboard { shipments(first: 1) { totalCount } }`, nil, nil)
	gql.MustFail(`{ nope }`, nil, "GRAPHQL_VALIDATION_FAILED")
	resp := gql.Raw(http.MethodGet, "/metrics", "", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(resp.Raw))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]string{}
	for name, f := range families {
		out[name] = strings.ToLower(f.GetType().String())
	}
	descs := make(chan *prometheus.Desc)
	go func() {
		a.Registry.Describe(descs)
		close(descs)
	}()
	for d := range descs {
		name, err := descName(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := out[name]; !ok {
			out[name] = ""
		}
	}
	// Sanity: the families a scrape always has.
	for name, typ := range map[string]string{
		"shipmentapp_http_requests_total": "counter", "shipmentapp_http_request_duration_seconds": "histogram",
		"go_goroutines": "gauge", "go_gc_duration_seconds": "summary",
	} {
		if out[name] != typ {
			t.Fatalf("the app exports %s as %q, want %q", name, out[name], typ)
		}
	}
	return out
}

// descFQName reads the fully-qualified name out of a descriptor: client_golang
// has no accessor for it, and String() prints it first.
var descFQName = regexp.MustCompile(`^Desc\{fqName: ("(?:[^"\\]|\\.)*")`)

func descName(d *prometheus.Desc) (string, error) {
	m := descFQName.FindStringSubmatch(d.String())
	if m == nil {
		return "", fmt.Errorf("cannot read the metric name of %s", d)
	}
	return strconv.Unquote(m[1])
}

// metricChecker tells whether an expression names only what exists.
type metricChecker struct {
	exported  map[string]string // name -> type ("" when it has no series yet)
	recorded  map[string]bool   // names recorded by the rules
	otherJobs []string          // scrape jobs other than the app's: their metrics are prefixed job_
}

var promql = parser.NewParser(parser.Options{})

// check parses expr and returns every metric name in it that does not exist.
// appOnly (the dashboard) allows only the app's metrics, recording rules and
// up; the rules may also use the metrics of the other scrape jobs.
func (c *metricChecker) check(expr string, appOnly bool) error {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	var errs []error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if err := c.selector(vs, appOnly); err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	return errors.Join(errs...)
}

func (c *metricChecker) selector(vs *parser.VectorSelector, appOnly bool) error {
	var nameMatcher *labels.Matcher
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel {
			nameMatcher = m
		}
	}
	switch {
	case nameMatcher == nil:
		return fmt.Errorf("%s selects no metric name", vs)
	case nameMatcher.Type == labels.MatchEqual:
		return c.name(nameMatcher.Value, appOnly)
	case nameMatcher.Type == labels.MatchRegexp:
		// Another job's metrics when the expression is a rule's and the
		// pattern's literal prefix is that job's; otherwise it must match
		// something the app exports.
		if !appOnly && c.otherJob(nameMatcher.Prefix()) {
			return nil
		}
		for name := range c.exported {
			if nameMatcher.Matches(name) {
				return nil
			}
		}
		return fmt.Errorf("%s matches no metric the app exports", nameMatcher)
	default:
		return fmt.Errorf("%s: a negative metric-name matcher names nothing checkable", nameMatcher)
	}
}

// name checks one metric name.
func (c *metricChecker) name(name string, appOnly bool) error {
	if name == "up" { // Prometheus's own, per target
		return nil
	}
	if strings.Contains(name, ":") {
		if !c.recorded[name] {
			return fmt.Errorf("no recording rule records %q (%s)", name, recordingFile)
		}
		return nil
	}
	if _, ok := c.exported[name]; ok {
		return nil
	}
	// A histogram's series are name_bucket, name_sum and name_count; a
	// summary's name_sum and name_count (and name itself, by quantile).
	for suffix, types := range map[string][]string{
		"_bucket": {"histogram", "gauge_histogram"},
		"_sum":    {"histogram", "gauge_histogram", "summary"},
		"_count":  {"histogram", "gauge_histogram", "summary"},
	} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		typ, exported := c.exported[base]
		if exported && typ == "" {
			return fmt.Errorf("%q: %s has no series after the test's requests, so its type is unknown: send a request that records it", name, base)
		}
		if slices.Contains(types, typ) {
			return nil
		}
	}
	if !appOnly && c.otherJob(name) {
		return nil
	}
	return fmt.Errorf("%q is not exported by the app", name)
}

// otherJob reports whether name is prefixed by the name of another scrape
// job (node_, mysql_, redis_, prometheus_): exporters namespace their metrics.
func (c *metricChecker) otherJob(name string) bool {
	for _, j := range c.otherJobs {
		if strings.HasPrefix(name, j+"_") {
			return true
		}
	}
	return false
}

// otherJobs are the scrape jobs of prometheus.yml other than the app's.
func otherJobs(t *testing.T) []string {
	t.Helper()
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, prometheusYML, &cfg)
	var jobs []string
	for _, s := range cfg.ScrapeConfigs {
		if s.JobName != "shipmentapp" {
			jobs = append(jobs, s.JobName)
		}
	}
	if len(jobs) == len(cfg.ScrapeConfigs) {
		t.Fatalf("%s has no job shipmentapp", prometheusYML)
	}
	return jobs
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func recordedNames(t *testing.T) map[string]bool {
	t.Helper()
	var f ruleFile
	readYAML(t, recordingFile, &f)
	out := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out[r.Record] = true
			}
		}
	}
	return out
}

type located struct{ where, expr string }

// ruleExprs are the expressions of the alert and recording rules.
func ruleExprs(t *testing.T) []located {
	t.Helper()
	var out []located
	for _, file := range []string{recordingFile, alertsFile} {
		var f ruleFile
		readYAML(t, file, &f)
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				out = append(out, located{where: g.Name + "/" + r.Record + r.Alert, expr: r.Expr})
			}
		}
	}
	return out
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// dashboard is what the tests read of a Grafana dashboard.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"` // a string, or {query: string} in newer schemas
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func readDashboard(t *testing.T) *dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return &d
}

// grafanaVar matches Grafana's variable syntaxes: $name, ${name},
// ${name:format} and [[name]].
var grafanaVar = regexp.MustCompile(`\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]+\]\]`)

func varName(ref string) string {
	ref = strings.Trim(ref, "${}[]")
	name, _, _ := strings.Cut(ref, ":")
	return name
}

// promqlOf turns a Grafana expression into PromQL: the interval variables
// become durations, the others a regular expression matching anything (they
// stand in label matchers).
func promqlOf(expr string) string {
	return grafanaVar.ReplaceAllStringFunc(expr, func(ref string) string {
		if strings.HasPrefix(varName(ref), "__") { // $__rate_interval, $__interval, $__range
			return "5m"
		}
		return ".+"
	})
}

// labelValues matches the Prometheus datasource's variable queries
// label_values(selector, label) and query_result(expr).
var (
	labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
	queryResult = regexp.MustCompile(`^\s*query_result\((.*)\)\s*$`)
)

// dashboardExprs are the PromQL expressions of the dashboard: each panel
// target, and each query variable's selector or expression.
func dashboardExprs(t *testing.T) []located {
	t.Helper()
	d := readDashboard(t)
	var out []located
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		var expr string
		if m := labelValues.FindStringSubmatch(q); m != nil {
			expr = m[1]
		} else if m := queryResult.FindStringSubmatch(q); m != nil {
			expr = m[1]
		} else {
			t.Errorf("variable %s: query %q is neither label_values(selector, label) nor query_result(expr)", v.Name, q)
			continue
		}
		out = append(out, located{where: "variable " + v.Name, expr: promqlOf(expr)})
	}
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			out = append(out, located{where: fmt.Sprintf("%s/%s", p.Title, tg.RefID), expr: promqlOf(tg.Expr)})
		}
	}
	return out
}
