//go:build unix

package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// chromiumPath is Debian's chromium (apt-get install chromium); CHROMIUM
// overrides it.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireBrowser skips t (or fails it under REQUIRE_ALL_DATABASES=1) unless
// node, playwright-core (npm ci in the subclient folder) and chromium are
// installed; it returns playground.mjs's path.
func requireBrowser(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("../..", testutil.SubClient)
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json"))
	_, chromeErr := exec.LookPath(chromiumPath())
	if nodeErr == nil && modErr == nil && chromeErr == nil {
		return filepath.Join(dir, "playground.mjs")
	}
	msg := fmt.Sprintf("the playground browser test needs node, playwright-core and chromium (node: %v, playwright-core: %v, chromium: %v; "+
		"run npm ci --prefix %s, install Debian's chromium): SKIPPED", nodeErr, modErr, chromeErr, testutil.SubClient)
	testutil.SkipOrFail(t, msg)
	return ""
}

// playgroundRun is what playground.mjs saw.
type playgroundRun struct {
	OK            bool           `json:"ok"`
	Step          string         `json:"step"`
	Error         string         `json:"error"`
	Result        string         `json:"result"`
	Requests      []string       `json:"requests"`
	Foreign       []string       `json:"foreign"`
	CSPViolations []string       `json:"cspViolations"`
	PageErrors    []string       `json:"pageErrors"`
	Console       []string       `json:"console"`
	Timings       map[string]int `json:"timings"` // milliseconds per step
	// Tabs, Docs, Prompt and Auth: see playground.mjs's --mode.
	Tabs       []string `json:"tabs"`
	Docs       string   `json:"docs"`
	Prompt     string   `json:"prompt"`
	Auth       []string `json:"auth"`
	Stored     []string `json:"stored"`
	screenshot string
}

const playgroundQuery = `{ shipments(first: 5) { edges { node { reference status } } } }`

// usePlayground runs playground.mjs against server with args (its --mode,
// --key, --query), bounded in time: a hung browser fails the test.
func usePlayground(t *testing.T, script, server string, args ...string) playgroundRun {
	t.Helper()
	dir := os.Getenv("PLAYGROUND_SCREENSHOTS") // kept; t.TempDir() is removed after the test
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script, "--url", server,
		"--chromium", chromiumPath(), "--screenshot", shot, "--timeout", "150000"}, args...)...)
	// The browser dies with the script: kill the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	var run playgroundRun
	if jerr := json.Unmarshal(out, &run); jerr != nil {
		t.Fatalf("playground.mjs (%v, after %s): no result (%v): %s %s", err, time.Since(start).Round(time.Second), jerr, out, stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && !run.OK) {
		t.Fatalf("playground.mjs: %v: %s", err, stderr.String())
	}
	run.screenshot = shot
	if os.Getenv("PLAYGROUND_SCREENSHOTS") == "" {
		run.screenshot += " (removed after the test: set PLAYGROUND_SCREENSHOTS=DIR to keep it)"
	}
	t.Logf("playground.mjs: %s, %d requests, steps (ms): %v", time.Since(start).Round(100*time.Millisecond), len(run.Requests), run.Timings)
	return run
}

// offline reports what would break the page for a developer offline or
// behind a strict network: requests to other hosts, CSP violations, errors.
func (r playgroundRun) offline(server string) []string {
	var problems []string
	u, _ := url.Parse(server)
	if len(r.Foreign) > 0 {
		problems = append(problems, fmt.Sprintf("the browser requested other hosts than %s: %q", u.Host, r.Foreign))
	}
	for _, req := range r.Requests {
		_, raw, _ := strings.Cut(req, " ")
		if ru, err := url.Parse(raw); err != nil || (ru.Host != u.Host && ru.Scheme != "data") {
			problems = append(problems, "the browser requested "+raw)
		}
	}
	if len(r.CSPViolations) > 0 {
		problems = append(problems, fmt.Sprintf("the page broke its Content-Security-Policy: %q", r.CSPViolations))
	}
	if len(r.PageErrors) > 0 {
		problems = append(problems, fmt.Sprintf("the page threw: %q", r.PageErrors))
	}
	return problems
}

// TestPlaygroundInABrowser uses /playground as a developer does, in headless
// Chromium: first opened, it is signed in (a development session), its
// documentation explorer holds the schema and its tabs the README's example
// queries, and the first one runs with no typing; then it types the
// development admin key into the Headers pane and a query into the editor,
// clicks run and reads the result pane. Everything the page loads must come
// from the app itself.
func TestPlaygroundInABrowser(t *testing.T) {
	script := requireBrowser(t)
	e := newEnv(t, testutil.SQLite) // development: playground on
	key := e.app.DevAdminKey
	if key == "" {
		t.Fatal("no development admin key was created")
	}
	var refs []string
	for _, carrier := range []string{"UPS", "DHL", "GLS"} {
		refs = append(refs, e.create(createInput(activeCustomer, carrier)).Reference)
	}
	server := e.gql.URL() // a real HTTP listener on 127.0.0.1

	t.Run("opens ready, no typing", func(t *testing.T) {
		run := usePlayground(t, script, server, "--mode", "ready")
		defer func() {
			if t.Failed() {
				t.Logf("screenshot: %s\nrequests: %q\nconsole: %q", run.screenshot, run.Requests, run.Console)
			}
		}()
		if !run.OK {
			t.Fatalf("the playground showed no result: step %q: %s", run.Step, run.Error)
		}
		for _, p := range run.offline(server) {
			t.Error(p)
		}
		for _, want := range exampleNames(t) {
			if !slices.ContainsFunc(run.Tabs, func(tab string) bool { return strings.Contains(tab, want) }) {
				t.Errorf("no tab holds the README's example %s: tabs %q", want, run.Tabs)
			}
		}
		for _, want := range []string{"Query", "Mutation", "Subscription"} {
			if !strings.Contains(run.Docs, want) {
				t.Errorf("the documentation explorer does not show %s:\n%s", want, run.Docs)
			}
		}
		if len(run.Auth) == 0 {
			t.Error("the page sent no request to /graphql")
		}
		for _, a := range run.Auth {
			if !strings.HasPrefix(a, "Bearer "+playground.DevSessionPrefix) {
				t.Errorf("a /graphql request went with %q, not the development session", a)
			}
		}
		shown := shownShipments(t, run.Result)
		for _, ref := range refs {
			if !slices.Contains(shown, ref) {
				t.Errorf("the first tab's result does not show shipment %s (it shows %v):\n%s", ref, shown, run.Result)
			}
		}
	})

	t.Run("development admin key", func(t *testing.T) {
		run := usePlayground(t, script, server, "--key", key, "--query", playgroundQuery)
		defer func() {
			if t.Failed() {
				t.Logf("screenshot: %s\nrequests: %q\nconsole: %q", run.screenshot, run.Requests, run.Console)
			}
		}()
		if !run.OK {
			t.Fatalf("the playground showed no result: step %q: %s", run.Step, run.Error)
		}
		for _, p := range run.offline(server) {
			t.Error(p)
		}
		var result struct {
			Data struct {
				Shipments struct {
					Edges []struct {
						Node struct{ Reference, Status string }
					}
				}
			}
			Errors json.RawMessage
		}
		if err := json.Unmarshal([]byte(run.Result), &result); err != nil {
			t.Fatalf("the result pane does not show JSON (%v):\n%s", err, run.Result)
		}
		var shown, missing []string
		for _, edge := range result.Data.Shipments.Edges {
			shown = append(shown, edge.Node.Reference)
			if edge.Node.Status == "" {
				t.Errorf("shipment %s has no status in the result pane", edge.Node.Reference)
			}
		}
		for _, ref := range refs {
			if !slices.Contains(shown, ref) {
				missing = append(missing, ref)
			}
		}
		switch {
		case result.Errors != nil:
			t.Errorf("the result pane shows errors, not the shipments %v:\n%s", refs, run.Result)
		case len(missing) > 0:
			t.Errorf("the result pane does not show the shipments %v (it shows %v):\n%s", missing, shown, run.Result)
		}
	})

	// The same steps with a key the app does not know: the page shows the
	// refusal and no shipment, so the test above can fail.
	t.Run("unknown key", func(t *testing.T) {
		run := usePlayground(t, script, server, "--key", "sa_unknownkey0000_"+strings.Repeat("x", 43), "--query", playgroundQuery)
		defer func() {
			if t.Failed() {
				t.Logf("screenshot: %s\nconsole: %q", run.screenshot, run.Console)
			}
		}()
		if !run.OK {
			t.Fatalf("the playground showed no result: step %q: %s", run.Step, run.Error)
		}
		for _, p := range run.offline(server) {
			t.Error(p)
		}
		if !strings.Contains(run.Result, `"errors"`) || !strings.Contains(run.Result, "UNAUTHENTICATED") {
			t.Errorf("with an unknown key the result pane should show UNAUTHENTICATED:\n%s", run.Result)
		}
		for _, ref := range refs {
			if strings.Contains(run.Result, ref) {
				t.Errorf("with an unknown key the result pane shows shipment %s:\n%s", ref, run.Result)
			}
		}
	})
}

// TestPlaygroundInABrowserProduction: where the playground is on outside
// development, the page asks for an API key in a form, shows no error and
// sends nothing before one is typed; with the key typed into the form, the
// first tab runs.
func TestPlaygroundInABrowserProduction(t *testing.T) {
	script := requireBrowser(t)
	gql, key := productionPlayground(t)
	server := gql.URL()

	t.Run("the prompt", func(t *testing.T) {
		run := usePlayground(t, script, server, "--mode", "prompt")
		defer func() {
			if t.Failed() {
				t.Logf("screenshot: %s\nrequests: %q\nconsole: %q", run.screenshot, run.Requests, run.Console)
			}
		}()
		if !run.OK {
			t.Fatalf("the playground did not ask for a key: step %q: %s", run.Step, run.Error)
		}
		for _, p := range run.offline(server) {
			t.Error(p)
		}
		if !strings.Contains(run.Prompt, "API key") {
			t.Errorf("the form does not ask for an API key:\n%s", run.Prompt)
		}
		for _, bad := range []string{"UNAUTHENTICATED", "rror"} {
			if strings.Contains(run.Prompt, bad) {
				t.Errorf("the page shows %q before anything was typed:\n%s", bad, run.Prompt)
			}
		}
	})

	t.Run("a key typed into the form", func(t *testing.T) {
		run := usePlayground(t, script, server, "--mode", "prompt", "--key", key)
		defer func() {
			if t.Failed() {
				t.Logf("screenshot: %s\nrequests: %q\nconsole: %q", run.screenshot, run.Requests, run.Console)
			}
		}()
		if !run.OK {
			t.Fatalf("the playground showed no result: step %q: %s", run.Step, run.Error)
		}
		for _, p := range run.offline(server) {
			t.Error(p)
		}
		for _, a := range run.Auth {
			if !strings.HasPrefix(a, "Bearer sa_") {
				t.Errorf("a /graphql request went with %q, not the key typed", a)
			}
		}
		if !strings.Contains(run.Result, `"shipments"`) || strings.Contains(run.Result, `"errors"`) {
			t.Errorf("the first tab did not run with the key typed:\n%s", run.Result)
		}
		if run.Stored == nil || len(run.Stored) > 0 {
			t.Errorf("the page stored %q in the browser, with \"remember\" not ticked", run.Stored)
		}
	})
}

// exampleNames are the operation names of the README's example queries.
func exampleNames(t *testing.T) []string {
	t.Helper()
	examples, err := playground.Examples()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range examples {
		if m := regexp.MustCompile(`^(?:query|mutation|subscription)\s+(\w+)`).FindStringSubmatch(e.Query); m != nil {
			names = append(names, m[1])
		}
	}
	if len(names) != len(examples) {
		t.Fatalf("every example needs an operation name, its tab's title: %d named of %d", len(names), len(examples))
	}
	return names
}

// shownShipments are the references of a shipments connection in a result
// pane; it fails t on errors.
func shownShipments(t *testing.T, pane string) []string {
	t.Helper()
	var result struct {
		Data struct {
			Shipments struct {
				Edges []struct {
					Node struct{ Reference string }
				}
			}
		}
		Errors json.RawMessage
	}
	if err := json.Unmarshal([]byte(pane), &result); err != nil {
		t.Fatalf("the result pane does not show JSON (%v):\n%s", err, pane)
	}
	if result.Errors != nil {
		t.Errorf("the result pane shows errors:\n%s", pane)
	}
	var refs []string
	for _, e := range result.Data.Shipments.Edges {
		refs = append(refs, e.Node.Reference)
	}
	return refs
}
