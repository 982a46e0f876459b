package examples_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// goExampleDir is the Go client's module, relative to this package.
const goExampleDir = "go"

// goExampleGenerated are the files `go generate` writes in the example
// module; they are committed, so they must match what it writes now.
var goExampleGenerated = []string{
	"shipmentapi/generated.go",
	"shipmentapi/operations.json",
	"shipmentapi/persisted-manifest.json",
}

// TestGoExampleGenerated regenerates the Go client in a copy of its module
// (beside a copy of api/schema.graphql, where genqlient.yaml looks for it)
// and fails when a committed file differs: an operation, genqlient.yaml or
// the public schema changed without `make docs` (or
// `go -C examples/go generate ./...`).
func TestGoExampleGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs genqlient")
	}
	t.Parallel()
	root := t.TempDir()
	copy := filepath.Join(root, "examples", "go")
	goExampleCopyTree(t, goExampleDir, copy)
	schema, err := os.ReadFile(filepath.Join("..", "api", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "api", "schema.graphql"), schema, 0o644); err != nil {
		t.Fatal(err)
	}
	// Generation must write them, not leave the copies in place.
	for _, name := range goExampleGenerated {
		if err := os.Remove(filepath.Join(copy, name)); err != nil {
			t.Fatal(err)
		}
	}
	goExampleGo(t, copy, "generate", "./...")
	for _, name := range goExampleGenerated {
		want, err := os.ReadFile(filepath.Join(copy, name))
		if err != nil {
			t.Fatalf("go generate did not write %s: %v", name, err)
		}
		got, err := os.ReadFile(filepath.Join(goExampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/go/%s is stale: run `make docs` (or `go -C examples/go generate ./...`) and commit it;\nfirst difference at line %d", name, goExampleFirstDiffLine(got, want))
		}
	}
}

// TestGoExampleVet runs go vet on the example module, which `go vet ./...`
// of this module does not reach (it is a module of its own).
func TestGoExampleVet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet on another module")
	}
	t.Parallel()
	goExampleGo(t, goExampleDir, "vet", "./...")
}

// TestGoExample builds the Go client and runs it, as a team would, against a
// real server on SQLite with the demo data, in allowlist mode with the
// manifest the example generates imported: every operation it sends must be
// on that list. It checks paging through every page by cursor, a filter, a
// mutation and what the client makes of each error code.
func TestGoExample(t *testing.T) {
	bin := testutil.Binary(t) // skips under -short
	t.Parallel()
	exe := filepath.Join(t.TempDir(), "shipments")
	goExampleGo(t, goExampleDir, "build", "-o", exe, ".")

	data := t.TempDir()
	env := []string{
		"APP_ENV=development", "APP_DATA_DIR=" + data,
		"DB_DATABASE=" + filepath.Join(data, "shipmentapp.db"),
		"DOLIBARR_DB_DATABASE=" + filepath.Join(data, "dolibarr-demo.db"),
		"LOG_LEVEL=warn", "REDIS_HOST=", "CACHE_DRIVER=memory",
		"PERSISTED_QUERIES=allowlist",
	}
	testutil.Run(t, bin, env, "migrate", "up")
	testutil.Run(t, bin, env, "persisted", "import", filepath.Join(goExampleDir, "shipmentapi", "persisted-manifest.json"))
	staff := goExampleKey(t, testutil.Run(t, bin, env, "apikey", "create", "--name", "go-example", "--role", "STAFF"))
	srv := testutil.StartServer(t, bin, env...)
	// The demo Dolibarr exists once serve has started.
	partner := goExampleKey(t, testutil.Run(t, bin, env, "apikey", "create", "--name", "go-example-partner", "--role", "PARTNER", "--customers", "Q3VzdG9tZXI6Mg"))
	endpoint := srv.URL() + "/graphql"

	// The server really holds the allowlist: a document that is not on it
	// is refused, so the runs below prove the manifest is complete.
	if code := goExampleUnlisted(t, endpoint, staff); code != "PERSISTED_QUERY_NOT_ALLOWED" {
		t.Fatalf("an unlisted document: code %q, want PERSISTED_QUERY_NOT_ALLOWED (is the server in allowlist mode?)", code)
	}

	run := func(t *testing.T, key string, wantExit int, stdin string, args ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), "SHIPMENTAPP_URL="+endpoint, "SHIPMENTAPP_API_KEY="+key)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		exit := 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			exit = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if exit != wantExit {
			t.Fatalf("shipments %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), exit, wantExit, out.String(), errOut.String())
		}
		return out.String(), errOut.String()
	}

	t.Run("list every page", func(t *testing.T) {
		out, _ := run(t, staff, 0, "", "list", "-page-size", "30")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		// The demo data: 200 shipments, so 7 pages of 30.
		if last := lines[len(lines)-1]; last != "200 shipments (totalCount 200) in 7 pages" {
			t.Fatalf("summary %q", last)
		}
		refs := map[string]bool{}
		for _, l := range lines[:len(lines)-1] {
			ref := strings.Fields(l)[0]
			if refs[ref] {
				t.Fatalf("%s listed twice: paging repeated a shipment", ref)
			}
			refs[ref] = true
		}
		if len(refs) != 200 {
			t.Fatalf("%d distinct shipments, want 200", len(refs))
		}
	})

	t.Run("list with a filter", func(t *testing.T) {
		out, _ := run(t, staff, 0, "", "list", "-status", "IN_TRANSIT,out_for_delivery", "-page-size", "7")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var seen, total, pages int
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%d shipments (totalCount %d) in %d pages", &seen, &total, &pages); err != nil {
			t.Fatalf("summary %q: %v", lines[len(lines)-1], err)
		}
		if seen != total || seen != len(lines)-1 || total <= 7 || pages != (total+6)/7 {
			t.Fatalf("seen %d of totalCount %d in %d pages, %d lines", seen, total, pages, len(lines)-1)
		}
		for _, l := range lines[:len(lines)-1] {
			if status := strings.Fields(l)[1]; status != "IN_TRANSIT" && status != "OUT_FOR_DELIVERY" {
				t.Fatalf("a %s shipment in the filtered list: %q", status, l)
			}
		}
	})

	input := goExampleShipment(t, map[string]any{"reference": "GOEX-1"})
	out, _ := run(t, staff, 0, input, "create")
	m := regexp.MustCompile(`^created GOEX-1 DRAFT version 1\t(\S+)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	id := m[1]

	t.Run("codes", func(t *testing.T) {
		out, _ := run(t, staff, 0, "", "track", "-shipment", id, "-status", "label_created", "-description", "Label printed", "-city", "Lyon", "-country", "FR")
		if want := "GOEX-1 is LABEL_CREATED (version 2); next: IN_TRANSIT, EXCEPTION, CANCELLED\n"; out != want {
			t.Fatalf("track printed %q, want %q", out, want)
		}
		cases := []struct {
			name   string
			key    string
			stdin  string
			args   []string
			exit   int
			stderr string
		}{
			{"invalid transition", staff, "", []string{"track", "-shipment", id, "-status", "DELIVERED"}, 5,
				"INVALID_TRANSITION: DELIVERED may not follow LABEL_CREATED; allowed next: IN_TRANSIT, EXCEPTION, CANCELLED"},
			{"duplicate reference", staff, input, []string{"create"}, 5, `CONFLICT: a shipment with reference "GOEX-1" already exists`},
			{"no such shipment", staff, "", []string{"track", "-shipment", goExampleOtherID(t, id), "-status", "IN_TRANSIT"}, 4, "NOT_FOUND"},
			{"not an ID", staff, "", []string{"track", "-shipment", "nope", "-status", "IN_TRANSIT"}, 2, "BAD_USER_INPUT"},
			{"invalid field", staff, goExampleShipment(t, map[string]any{"carrier": " "}), []string{"create"}, 2, "BAD_USER_INPUT: input.carrier:"},
			{"misspelt field", staff, `{"carier": "UPS"}`, []string{"create"}, 2, `unknown field "carier"`},
			{"wrong key", "sa_notakey_x", "", []string{"list"}, 3, "UNAUTHENTICATED"},
			{"partner may not create", partner, goExampleShipment(t, map[string]any{"customerId": "Q3VzdG9tZXI6Mg"}), []string{"create"}, 3, "FORBIDDEN"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, stderr := run(t, c.key, c.exit, c.stdin, c.args...)
				if !strings.Contains(stderr, c.stderr) {
					t.Fatalf("stderr %q, want it to contain %q", stderr, c.stderr)
				}
			})
		}
	})

	t.Run("partner scope", func(t *testing.T) {
		out, _ := run(t, partner, 0, "", "list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var seen, total, pages int
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%d shipments (totalCount %d) in %d pages", &seen, &total, &pages); err != nil {
			t.Fatalf("summary %q: %v", lines[len(lines)-1], err)
		}
		if seen != total || total == 0 || total >= 200 {
			t.Fatalf("a partner of one customer saw %d of totalCount %d", seen, total)
		}
	})
}

// goExampleGo runs the go command in dir (a module of its own: no
// workspace) and fails t on an error.
func goExampleGo(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// goExampleCopyTree copies the regular files under src to dst.
func goExampleCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// goExampleKey returns the secret `shipmentapp apikey create` printed.
func goExampleKey(t *testing.T, out string) string {
	t.Helper()
	key := regexp.MustCompile(`sa_[A-Za-z0-9_-]+`).FindString(out)
	if key == "" {
		t.Fatalf("apikey create printed no key:\n%s", out)
	}
	return key
}

// goExampleShipment returns the example's shipment.example.json with the
// fields of over replaced, as the client's standard input.
func goExampleShipment(t *testing.T, over map[string]any) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goExampleDir, "shipment.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	var input map[string]any
	if err := json.Unmarshal(b, &input); err != nil {
		t.Fatal(err)
	}
	for k, v := range over {
		input[k] = v
	}
	b, err = json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// goExampleOtherID returns the global ID of a shipment that does not exist:
// the type of id (Type:number, base64url) with another number.
func goExampleOtherID(t *testing.T, id string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		t.Fatalf("ID %q: %v", id, err)
	}
	typ, _, ok := strings.Cut(string(raw), ":")
	if !ok {
		t.Fatalf("ID %q decodes to %q", id, raw)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":987654"))
}

// goExampleUnlisted posts a document the example does not have and returns
// the first error's code.
func goExampleUnlisted(t *testing.T, endpoint, key string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"query":"{ shipments(first: 1) { totalCount } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Errors) == 0 {
		return ""
	}
	return body.Errors[0].Extensions.Code
}

// goExampleFirstDiffLine returns the 1-based number of the first line where
// a and b differ.
func goExampleFirstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
