// Package examples_test builds and runs the example clients of examples/
// against a started server, as a frontend team would run them.
package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// tsDir is the TypeScript example, from this package's directory; make test
// runs npm ci there.
const tsDir = "typescript"

// tsModules are the packages the test runs (codegen, tsc, tsx) or the
// client imports.
var tsModules = []string{"@graphql-codegen/cli", "@graphql-codegen/client-preset", "@urql/core", "typescript", "tsx"}

// requireTypeScript skips t (or fails it under REQUIRE_ALL_DATABASES=1, as in
// CI) unless node, npm and the example's modules are installed.
func requireTypeScript(t *testing.T) {
	t.Helper()
	var missing []string
	for _, cmd := range []string{"node", "npm"} {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = append(missing, cmd)
		}
	}
	for _, m := range tsModules {
		if _, err := os.Stat(filepath.Join(tsDir, "node_modules", m, "package.json")); err != nil {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		testutil.SkipOrFail(t, fmt.Sprintf("the TypeScript example needs node, npm and its modules (missing: %s; "+
			"run npm ci --prefix examples/typescript): SKIPPED", strings.Join(missing, ", ")))
	}
}

// TestTypeScriptClient generates the example's typed documents and its
// persisted-documents.json from api/schema.graphql (npm run codegen),
// type-checks it (tsc) and runs it against a started server: first as is
// (documents sent in full), then against a server that runs only trusted
// documents (PERSISTED_QUERIES=allowlist) with the manifest imported by
// shipmentapp persisted import, the client sending document IDs alone.
func TestTypeScriptClient(t *testing.T) {
	requireTypeScript(t)
	bin := testutil.Binary(t)
	work := copyExample(t)
	npm(t, work, nil, "run", "--silent", "codegen")
	npm(t, work, nil, "run", "--silent", "typecheck")
	manifest := filepath.Join(work, "src", "gql", "persisted-documents.json")
	checkManifest(t, manifest)

	t.Run("documents", func(t *testing.T) {
		env, key := serverEnv(t, bin)
		srv := testutil.StartServer(t, bin, env...)
		rec := newRecorder(t, srv.URL())
		steps := runClient(t, work, rec.url, key, false)
		checkWalk(t, steps)
		if got := adHocOf(t, steps); !got.OK {
			t.Errorf("an ad-hoc query without the allowlist: %+v", got)
		}
		checkDefaults(t, rec.requests())
		// The documents went in full (what the allowlist run must not do).
		for _, r := range rec.requests() {
			if r.documentID != "" || r.query == "" {
				t.Errorf("%s %s: documentId %q, query %q: want the document", r.method, r.target, r.documentID, r.query)
			}
		}
	})

	t.Run("allowlist", func(t *testing.T) {
		env, key := serverEnv(t, bin, "PERSISTED_QUERIES=allowlist")
		out := testutil.Run(t, bin, env, "persisted", "import", manifest)
		if !strings.Contains(out, "imported 4 operation(s)") {
			t.Fatalf("shipmentapp persisted import: %s", out)
		}
		srv := testutil.StartServer(t, bin, env...)
		rec := newRecorder(t, srv.URL())
		steps := runClient(t, work, rec.url, key, true)
		checkWalk(t, steps)
		checkDefaults(t, rec.requests())
		if got := adHocOf(t, steps); got.OK || !slices.Equal(got.Codes, []string{"PERSISTED_QUERY_NOT_ALLOWED"}) {
			t.Errorf("the client's ad-hoc query on an allowlist server: %+v, want PERSISTED_QUERY_NOT_ALLOWED", got)
		}
		// Every generated document went by its ID alone; the ad-hoc one,
		// which has none, in full (and was refused).
		for _, r := range rec.requests() {
			adHoc := strings.Contains(r.query, "AdHoc")
			if !adHoc && (r.query != "" || !strings.HasPrefix(r.documentID, "sha256:")) {
				t.Errorf("%s %s: documentId %q, query %q: want a document ID alone", r.method, r.target, r.documentID, r.query)
			}
		}
		// A document not in the manifest, from any client: refused.
		body := `{"query":"query { shipments(first: 1) { totalCount } }"}`
		req, err := http.NewRequest(http.MethodPost, srv.URL()+"/graphql", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !bytes.Contains(raw, []byte(`"PERSISTED_QUERY_NOT_ALLOWED"`)) || bytes.Contains(raw, []byte(`"data"`)) {
			t.Errorf("an ad-hoc query on an allowlist server: %d %s", resp.StatusCode, raw)
		}
	})
}

// copyExample copies the example's sources beside a copy of the public
// schema, in the layout codegen.ts expects (../../api/schema.graphql), with
// its node_modules linked: codegen writes src/gql/ there, never in the
// working tree.
func copyExample(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "examples", "typescript")
	copyFile(t, filepath.Join("..", "api", "schema.graphql"), filepath.Join(root, "api", "schema.graphql"))
	for _, f := range []string{"package.json", "codegen.ts", "tsconfig.json"} {
		copyFile(t, filepath.Join(tsDir, f), filepath.Join(work, f))
	}
	src := filepath.Join(tsDir, "src")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() && rel == "gql" {
			return filepath.SkipDir // generated: the test generates its own
		}
		if !d.IsDir() {
			copyFile(t, p, filepath.Join(work, "src", rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	modules, err := filepath.Abs(filepath.Join(tsDir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return work
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// npm runs npm args in dir with env (over this process's) and returns its
// standard output; a failure fails t.
func npm(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// checkManifest checks that persisted-documents.json lists the example's
// four operations under the GraphQL-over-HTTP document IDs
// sha256:<hex of the SHA-256 of the document>.
func checkManifest(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var names []string
	for id, doc := range m {
		sum := sha256.Sum256([]byte(doc))
		if id != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("%s: id %s is not the SHA-256 of %q", path, id, doc)
		}
		name, _, _ := strings.Cut(strings.Fields(doc)[1], "(")
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"CreateShipment", "CustomerPicker", "ShipmentPage", "ShipmentsWithCustomers"}; !slices.Equal(names, want) {
		t.Errorf("%s lists %v, want %v", path, names, want)
	}
}

// serverEnv prepares a server's databases (SQLite, the demo Dolibarr) as an
// operator does, with extra settings, and returns its environment and an
// ADMIN key.
func serverEnv(t *testing.T, bin string, extra ...string) ([]string, string) {
	t.Helper()
	mainDB, dolibarrDB := testutil.NewDatabase(t, testutil.SQLite), testutil.NewDolibarr(t, testutil.SQLite)
	env := []string{
		"APP_ENV=development", "APP_DATA_DIR=" + t.TempDir(), "LOG_LEVEL=warn",
		"DEMO_SEED=false", "DOLIBARR_DEMO_SEED=false",
		"RATE_LIMIT_IP_PER_MINUTE=0", "RATE_LIMIT_KEY_PER_MINUTE=0",
	}
	env = append(append(append(env, mainDB.Env("DB")...), dolibarrDB.Env("DOLIBARR_DB")...), extra...)
	return env, testutil.MigrateAndAdminKey(t, bin, env, "typescript-example")
}

// recorded is what a request named its document by, the headers a
// browser could not send cross-site without a preflight, and the media type
// of its answer.
type recorded struct {
	method, target    string
	query, documentID string
	preflight, auth   bool
	answer            string
}

// checkDefaults checks that the client ran on urql's defaults: queries as GET
// with only the bearer token (no preflight header: the CSRF rule lets a
// credentialed GET through), and JSON or multipart answers to its Accept
// header, which lists text/event-stream after JSON (never an event stream).
func checkDefaults(t *testing.T, requests []recorded) {
	t.Helper()
	gets := 0
	for _, r := range requests {
		if r.method == http.MethodGet {
			gets++
		}
		if r.preflight || !r.auth {
			t.Errorf("%s %s: preflight header %v, Authorization %v: want urql's defaults and the key", r.method, r.target, r.preflight, r.auth)
		}
		if mt, _, _ := strings.Cut(r.answer, ";"); mt != "application/graphql-response+json" && mt != "multipart/mixed" {
			t.Errorf("%s %s: answered %q, want JSON or multipart/mixed", r.method, r.target, r.answer)
		}
	}
	if gets == 0 {
		t.Error("no query went as GET: urql sends short ones so by default")
	}
}

// recorder is a reverse proxy in front of the server that notes how each
// request names its document (streaming answers through as they come).
type recorder struct {
	url  string
	mu   sync.Mutex
	seen []recorded
}

func newRecorder(t *testing.T, server string) *recorder {
	t.Helper()
	target, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // each multipart part as soon as it comes
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		seen := recorded{method: r.Method, target: r.URL.Path, auth: r.Header.Get("Authorization") != ""}
		for _, h := range []string{"GraphQL-Require-Preflight", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"} {
			seen.preflight = seen.preflight || r.Header.Get(h) != ""
		}
		if r.Method == http.MethodGet {
			q := r.URL.Query()
			seen.query, seen.documentID = q.Get("query"), q.Get("documentId")
		} else {
			var params struct {
				Query      string `json:"query"`
				DocumentID string `json:"documentId"`
			}
			_ = json.Unmarshal(body, &params)
			seen.query, seen.documentID = params.Query, params.DocumentID
		}
		proxy.ServeHTTP(w, r)
		seen.answer = w.Header().Get("Content-Type") // as the proxy copied it
		rec.mu.Lock()
		rec.seen = append(rec.seen, seen)
		rec.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL + "/graphql"
	return rec
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// step is one line the client prints.
type step struct {
	Step       string          `json:"step"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Reference  string          `json:"reference"`
	Status     string          `json:"status"`
	Customer   *string         `json:"customer"`
	Page       int             `json:"page"`
	TotalCount int             `json:"totalCount"`
	HasNext    bool            `json:"hasNext"`
	NextPage   bool            `json:"hasNextPage"`
	References []string        `json:"references"`
	Part       int             `json:"part"`
	Shipments  []deferredRow   `json:"shipments"`
	Codes      []string        `json:"codes"`
	OK         bool            `json:"ok"`
	Raw        json.RawMessage `json:"-"`
}

type deferredRow struct {
	Reference string  `json:"reference"`
	Customer  *string `json:"customer"`
	Country   *string `json:"country"`
}

// runClient runs the example (npm start) against url and returns the lines
// it printed.
func runClient(t *testing.T, work, url, key string, persisted bool) []step {
	t.Helper()
	env := []string{"SHIPMENTAPP_URL=" + url, "SHIPMENTAPP_API_KEY=" + key, "SHIPMENTAPP_PERSISTED=0"}
	if persisted {
		env[2] = "SHIPMENTAPP_PERSISTED=1"
	}
	out := npm(t, work, env, "start", "--silent")
	var steps []step
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var s step
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("the client printed %q: %v\n%s", sc.Text(), err, out)
		}
		s.Raw = slices.Clone(sc.Bytes())
		steps = append(steps, s)
	}
	t.Logf("the client printed:\n%s", out)
	return steps
}

func stepsOf(steps []step, name string) []step {
	var out []step
	for _, s := range steps {
		if s.Step == name {
			out = append(out, s)
		}
	}
	return out
}

func adHocOf(t *testing.T, steps []step) step {
	t.Helper()
	s := stepsOf(steps, "adHoc")
	if len(s) != 1 {
		t.Fatalf("%d adHoc lines", len(s))
	}
	return s[0]
}

// checkWalk checks the client's walk: the shipments it created, listed two
// by two, then all at once with each customer arriving in a later part, and
// its refused input with its code.
func checkWalk(t *testing.T, steps []step) {
	t.Helper()
	customers := stepsOf(steps, "customer")
	if len(customers) != 1 || customers[0].ID == "" || customers[0].Name == "" {
		t.Fatalf("customer lines: %d", len(customers))
	}
	customer := customers[0].Name
	var created []string
	for _, s := range stepsOf(steps, "create") {
		if s.Status != "DRAFT" || s.Customer == nil || *s.Customer != customer || s.Reference == "" {
			t.Errorf("created: %s", s.Raw)
		}
		created = append(created, s.Reference)
	}
	if len(created) != 3 {
		t.Fatalf("%d shipments created, want 3", len(created))
	}

	pages := stepsOf(steps, "page")
	var listed []string
	for i, p := range pages {
		if p.Page != i+1 || p.TotalCount != 3 || p.NextPage != (i < len(pages)-1) {
			t.Errorf("page %d: %s", i+1, p.Raw)
		}
		listed = append(listed, p.References...)
	}
	if len(pages) != 2 || !slices.Equal(listed, created) {
		t.Errorf("%d pages listing %v, want 2 pages listing %v", len(pages), listed, created)
	}

	parts := stepsOf(steps, "deferred")
	if len(parts) < 2 {
		t.Fatalf("@defer: %d parts, want the list first and the customers in later parts", len(parts))
	}
	first, last := parts[0], parts[len(parts)-1]
	if !first.HasNext || len(first.Shipments) != 3 {
		t.Errorf("@defer: first part %s", first.Raw)
	}
	for _, row := range first.Shipments {
		if row.Customer != nil {
			t.Errorf("@defer: a customer in the first part: %s", first.Raw)
		}
	}
	if last.HasNext {
		t.Errorf("@defer: last part %s", last.Raw)
	}
	var refs []string
	for _, row := range last.Shipments {
		refs = append(refs, row.Reference)
		if row.Customer == nil || *row.Customer != customer || row.Country == nil || *row.Country == "" {
			t.Errorf("@defer: the last part lacks a customer: %s", last.Raw)
		}
	}
	if !slices.Equal(refs, created) {
		t.Errorf("@defer: listed %v, want %v", refs, created)
	}

	bad := stepsOf(steps, "badInput")
	if len(bad) != 1 || !slices.Equal(bad[0].Codes, []string{"BAD_USER_INPUT"}) {
		t.Errorf("the refused input: %v, want one line with codes [BAD_USER_INPUT]", bad)
	}
}
