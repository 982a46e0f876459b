package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// deferClientDir holds the @defer client harness (defer.mjs, its pinned
// package.json and lock; make test runs npm ci there).
const deferClientDir = "internal/app/testdata/deferclient"

// deferHarness is one of the harnesses: its directory under deferClientDir,
// the modules it needs, the clients it prints.
type deferHarness struct {
	name    string
	dir     string
	modules []string
	clients []string
}

var deferHarnesses = []deferHarness{
	{name: "apollo3+meros", dir: ".", modules: []string{"@apollo/client", "meros"}, clients: []string{"apollo-link", "meros"}},
	{name: "apollo4", dir: "apollo4", modules: []string{"@apollo/client", "rxjs"}, clients: []string{"apollo-link"}},
}

// requireDeferClients skips t (or fails it under REQUIRE_ALL_DATABASES=1, as
// in CI) unless node and h's modules are installed; it returns h's
// defer.mjs's path.
func requireDeferClients(t *testing.T, h deferHarness) string {
	t.Helper()
	dir := filepath.Join("../..", deferClientDir, h.dir)
	_, nodeErr := exec.LookPath("node")
	var modErr error
	for _, m := range h.modules {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil && modErr == nil {
			modErr = err
		}
	}
	if nodeErr == nil && modErr == nil {
		return filepath.Join(dir, "defer.mjs")
	}
	testutil.SkipOrFail(t, fmt.Sprintf("the @defer client tests need node and %v (node: %v, modules: %v; "+
		"run npm ci --prefix %s): SKIPPED", h.modules, nodeErr, modErr, filepath.Join(deferClientDir, h.dir)))
	return ""
}

// clientLine is one line of defer.mjs.
type clientLine struct {
	Client  string                     `json:"client"`
	Payload map[string]json.RawMessage `json:"payload"`
	Data    any                        `json:"data"`
}

// TestDeferClients reads @defer answers with the real clients of frontend
// apps: Apollo Client 3 and 4 (their HttpLink's multipart reader, then their
// cache's merge) and meros (what Relay and urql read multipart with), over
// POST and GET. Each must see the shipment list first and the Dolibarr
// customers in a later payload, and end with the data of the document
// without @defer.
func TestDeferClients(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	e.create(createInput(activeCustomer, "UPS"))
	e.create(createInput(otherActiveCustomer, "DHL"))
	const (
		query = `query List { shipments(first: 2) { edges { node { id reference ... @defer(label: "customer") { customer { id name } } } } } }`
		plain = `query List { shipments(first: 2) { edges { node { id reference customer { id name } } } } }`
	)
	want := sendDefer(t, e.gql, "POST", "", plain, nil)
	if want.status != 200 || len(want.errors) > 0 {
		t.Fatalf("the plain document: %s", want.raw)
	}
	for _, h := range deferHarnesses {
		for _, get := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/GET=%v", h.name, get), func(t *testing.T) {
				script := requireDeferClients(t, h)
				runDeferClient(t, e, h, script, query, get, want)
			})
		}
	}
}

// runDeferClient runs one harness's script and checks what its clients saw.
func runDeferClient(t *testing.T, e *env, h deferHarness, script, query string, get bool, want deferAnswer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{script, "--url", e.gql.URL() + "/graphql", "--key", e.adminKey, "--query", query}
	if get {
		args = append(args, "--get")
	}
	cmd := exec.CommandContext(ctx, "node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("defer.mjs: %v\n%s%s", err, out, stderr.String())
	}
	payloads := map[string][]map[string]json.RawMessage{}
	var merged any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l clientLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("defer.mjs printed %q: %v", sc.Text(), err)
		}
		if l.Client == "apollo" {
			merged = l.Data
			continue
		}
		payloads[l.Client] = append(payloads[l.Client], l.Payload)
	}
	for _, c := range h.clients {
		ps := payloads[c]
		if len(ps) < 2 {
			t.Fatalf("%s read %d payloads: %s", c, len(ps), out)
		}
		// gqlgen writes a deferred field as null in the first payload
		// (graphql.FieldSet.ResolveConcurrently), to be replaced by a
		// later one: never a customer object yet.
		if hasNextOf(ps[0]) != "true" || bytes.Contains(ps[0]["data"], []byte(`"customer":{`)) {
			t.Errorf("%s: first payload %s", c, ps[0])
		}
		if hasNextOf(ps[len(ps)-1]) != "false" {
			t.Errorf("%s: last payload %s", c, ps[len(ps)-1])
		}
		// The payloads merged by the test's own reader.
		var data any
		if err := json.Unmarshal(ps[0]["data"], &data); err != nil {
			t.Fatal(err)
		}
		for _, p := range ps[1:] {
			var items []struct {
				Data map[string]any `json:"data"`
				Path []any          `json:"path"`
			}
			if err := json.Unmarshal(p["incremental"], &items); err != nil {
				t.Fatalf("%s: %s: %v", c, p, err)
			}
			for _, it := range items {
				if err := mergeAt(data, it.Path, it.Data); err != nil {
					t.Fatalf("%s: %v", c, err)
				}
			}
		}
		if !reflect.DeepEqual(data, want.data) {
			t.Errorf("%s payloads merged: %v, want %s", c, data, want.raw)
		}
	}
	if !reflect.DeepEqual(merged, want.data) {
		t.Errorf("Apollo Client's data: %v, want %s", merged, want.raw)
	}
}
