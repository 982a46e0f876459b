package schemadoc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// schemaCheckDir holds make schema-check's script and its npm modules
// (GraphQL Inspector).
const schemaCheckDir = "../../scripts/schemacheck"

// requireInspector skips t (or fails it under REQUIRE_ALL_DATABASES=1, as in
// CI) unless node and GraphQL Inspector are installed.
func requireInspector(t *testing.T) {
	t.Helper()
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(schemaCheckDir, "node_modules", "@graphql-inspector", "cli", "package.json"))
	if nodeErr == nil && modErr == nil {
		return
	}
	testutil.SkipOrFail(t, fmt.Sprintf("the schema check tests need node and @graphql-inspector/cli (node: %v, modules: %v; "+
		"run npm ci --prefix scripts/schemacheck): SKIPPED", nodeErr, modErr))
}

// entry is one schema-change block of api/CHANGELOG.md.
func entry(change, path, announced, removal string) string {
	return fmt.Sprintf("```schema-change\nchange: %s\npath: %s\nannounced: %s\nremoval: %s\nreason: clients use the replacement the @deprecated names.\n```\n\n",
		change, path, announced, removal)
}

// changelog is a schema changelog whose Unreleased section holds entries.
func changelog(entries ...string) string {
	return "# Schema changelog\n\n## Unreleased\n\n<!-- guidance -->\n\n" + strings.Join(entries, "") +
		"## 2026-12-01\n\nFirst release.\n"
}

// TestSchemaCheck runs make schema-check's script (the real GraphQL
// Inspector with scripts/schemacheck/rule.js) on fixture schemas and
// changelogs: a breaking change passes only when the changelog records it
// with a deprecation period the policy allows.
func TestSchemaCheck(t *testing.T) {
	requireInspector(t)
	const (
		weightRemoved = "weight-removed.graphql"
		announced     = "2026-12-01"
		removal       = "2027-03-01"
	)
	weight := entry("FIELD_REMOVED", "Shipment.weight", announced, removal)
	for _, tc := range []struct {
		name      string
		current   string // a file of testdata/schemacheck
		changelog string
		today     string // SCHEMA_CHECK_TODAY; 2027-03-05 when empty
		ok        bool
		want      []string // in the output
	}{
		{name: "identical", current: "released.graphql", changelog: changelog(), ok: true, want: []string{"No changes detected"}},
		{name: "field added", current: "field-added.graphql", changelog: changelog(), ok: true,
			want: []string{"Field carrier was added to object type Shipment", "schema-check: OK"}},
		{name: "enum value added is dangerous, not breaking", current: "enum-value-added.graphql", changelog: changelog(), ok: true,
			want: []string{"⚠  Enum value DELIVERED was added to enum Status", "schema-check: OK"}},
		{name: "field removed, not recorded", current: weightRemoved, changelog: changelog(),
			want: []string{"✖ FIELD_REMOVED Shipment.weight", "not recorded", "path: Shipment.weight", "schema-check: FAILED"}},
		{name: "field removed, recorded, deprecated, date come", current: weightRemoved, changelog: changelog(weight), ok: true,
			want: []string{"(recorded in ", "announced 2026-12-01, removal 2027-03-01", "schema-check: OK (1 recorded breaking change: FIELD_REMOVED Shipment.weight)"}},
		{name: "field removed on its removal date", current: weightRemoved, changelog: changelog(weight), today: removal, ok: true},
		{name: "field removed, recorded, not deprecated in the release", current: "note-removed.graphql",
			changelog: changelog(entry("FIELD_REMOVED", "Shipment.note", announced, removal)),
			want:      []string{"✖ FIELD_REMOVED Shipment.note", "does not mark Shipment.note @deprecated"}},
		{name: "field removed before its removal date", current: weightRemoved, changelog: changelog(weight), today: "2027-02-28",
			want: []string{"its removal date 2027-03-01 has not come (today is 2027-02-28, UTC)"}},
		{name: "field removed after too short a period", current: weightRemoved,
			changelog: changelog(entry("FIELD_REMOVED", "Shipment.weight", "2027-01-15", removal)),
			want:      []string{"its deprecation period, 2027-01-15 to 2027-03-01, is 45 days: the minimum is 90"}},
		{name: "field removed before the date the release promised", current: weightRemoved,
			changelog: changelog(entry("FIELD_REMOVED", "Shipment.weight", "2026-11-20", "2027-02-25")),
			want:      []string{"the released @deprecated promised clients 2027-03-01"}},
		{name: "argument made required, not recorded", current: "argument-required.graphql", changelog: changelog(),
			want: []string{"✖ FIELD_ARGUMENT_TYPE_CHANGED Query.shipment.lang", "not recorded"}},
		{name: "argument made required, recorded", current: "argument-required.graphql", ok: true,
			changelog: changelog(entry("FIELD_ARGUMENT_TYPE_CHANGED", "Query.shipment.lang", announced, removal))},
		{name: "type changed", current: "type-changed.graphql", changelog: changelog(),
			want: []string{"✖ FIELD_TYPE_CHANGED Shipment.reference", "changed type from 'String!' to 'Int!'"}},
		{name: "enum value removed, not recorded", current: "enum-value-removed.graphql", changelog: changelog(),
			want: []string{"✖ ENUM_VALUE_REMOVED Status.LEGACY", "not recorded"}},
		{name: "enum value removed, recorded", current: "enum-value-removed.graphql", ok: true,
			changelog: changelog(entry("ENUM_VALUE_REMOVED", "Status.LEGACY", announced, removal))},
		{name: "stale entry", current: "released.graphql", changelog: changelog(weight),
			want: []string{"stale entry: FIELD_REMOVED Shipment.weight is recorded but the schema shows no such change"}},
		{name: "stale entry beside a change", current: "field-added.graphql", changelog: changelog(weight),
			want: []string{"stale entry: FIELD_REMOVED Shipment.weight"}},
		{name: "new deprecation, removal too near", current: "note-deprecated-2027-04-01.graphql", changelog: changelog(),
			want: []string{"Shipment.note: new @deprecated promises removal on 2027-04-01, 27 days from today: the minimum is 90"}},
		{name: "new deprecation, removal far enough", current: "note-deprecated-2027-04-01.graphql", changelog: changelog(), today: "2026-12-31", ok: true},
		{name: "malformed entry", current: weightRemoved, changelog: changelog("```schema-change\nchange: FIELD_REMOVED\npath: Shipment.weight\n```\n\n"),
			want: []string{"schema-change block lacks announced"}},
		{name: "unknown change type", current: weightRemoved, changelog: changelog(entry("FIELD_GONE", "Shipment.weight", announced, removal)),
			want: []string{"change FIELD_GONE is not a GraphQL Inspector change type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log := filepath.Join(t.TempDir(), "CHANGELOG.md")
			if err := os.WriteFile(log, []byte(tc.changelog), 0o644); err != nil {
				t.Fatal(err)
			}
			today := tc.today
			if today == "" {
				today = "2027-03-05"
			}
			out, err := runSchemaCheck(t, "testdata/schemacheck/released.graphql", filepath.Join("testdata/schemacheck", tc.current), log, today)
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("run: %v\n%s", err, out)
			}
			if ok := err == nil; ok != tc.ok {
				t.Errorf("passed: %v, want %v; output:\n%s", ok, tc.ok, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestSchemaCheckRepository runs make schema-check's script on the
// repository's own files: the schema as it is must pass against the
// released one.
func TestSchemaCheckRepository(t *testing.T) {
	requireInspector(t)
	if out, err := runSchemaCheck(t, "", "", "", ""); err != nil {
		t.Fatalf("make schema-check fails: %v\n%s", err, out)
	}
}

func runSchemaCheck(t *testing.T, released, current, changelog, today string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var args []string
	if released != "" {
		args = []string{released, current, changelog}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(schemaCheckDir, "check.sh"), args...)
	cmd.Env = append(os.Environ(), "SCHEMA_CHECK_TODAY="+today, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSchemaRelease runs make schema-release's step on copies: the current
// schema becomes the released one, and the changelog's Unreleased entries
// move under the release's date while its guidance comment stays.
func TestSchemaRelease(t *testing.T) {
	requireInspector(t)
	dir := t.TempDir()
	current, released, log := filepath.Join(dir, "schema.graphql"), filepath.Join(dir, "released.graphql"), filepath.Join(dir, "CHANGELOG.md")
	for path, from := range map[string]string{current: "weight-removed.graphql", released: "released.graphql"} {
		if err := os.WriteFile(path, []byte(loadFile(t, filepath.Join("testdata/schemacheck", from))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	weight := entry("FIELD_REMOVED", "Shipment.weight", "2026-12-01", "2027-03-01")
	if err := os.WriteFile(log, []byte(changelog(weight)), 0o644); err != nil {
		t.Fatal(err)
	}
	release := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", filepath.Join(schemaCheckDir, "release.js"), current, released, log)
		cmd.Env = append(os.Environ(), "SCHEMA_CHECK_TODAY=2027-03-05")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := release(); err != nil {
		t.Fatalf("release: %v\n%s", err, out)
	}
	if got, want := loadFile(t, released), loadFile(t, current); got != want {
		t.Errorf("released.graphql is not the current schema after the release")
	}
	want := "# Schema changelog\n\n## Unreleased\n\n<!-- guidance -->\n\n## 2027-03-05\n\n" + strings.TrimSuffix(weight, "\n") +
		"\n## 2026-12-01\n\nFirst release.\n"
	if got := loadFile(t, log); got != want {
		t.Errorf("changelog after the release:\n%s\nwant:\n%s", got, want)
	}
	// The released schema now has no Shipment.weight: the entry is history,
	// and the check passes with nothing pending.
	if out, err := runSchemaCheck(t, released, current, log, "2027-03-05"); err != nil {
		t.Errorf("schema-check after the release: %v\n%s", err, out)
	}
	// A second release the same day is refused, and changes nothing.
	if out, err := release(); err == nil || !strings.Contains(out, `"## 2027-03-05" exists already`) {
		t.Errorf("second release the same day: %v\n%s", err, out)
	}
	if got := loadFile(t, log); got != want {
		t.Errorf("the refused release changed the changelog:\n%s", got)
	}
}
