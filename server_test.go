package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String() + errOut.String(), err
}

func TestMigrateCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	t.Setenv("DB_CONNECTION", "sqlite")
	t.Setenv("DB_DATABASE", db)
	t.Setenv("LOG_LEVEL", "error")

	out, err := run(t, "migrate", "status")
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "up")
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("up: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "up")
	if err != nil || !strings.Contains(out, "no pending migrations") {
		t.Fatalf("second up: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "status")
	if err != nil || strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Fatalf("status after: %v\n%s", err, out)
	}
	out, err = run(t, "migrate", "down")
	if err != nil || !strings.Contains(out, "reverted") {
		t.Fatalf("down: %v\n%s", err, out)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Setenv("DB_CONNECTION", "oracle")
	t.Setenv("HTTP_IDLE_TIMEOUT", "-1s")
	_, err := run(t, "migrate", "status")
	if err == nil || !strings.Contains(err.Error(), "DB_CONNECTION") || !strings.Contains(err.Error(), "HTTP_IDLE_TIMEOUT") {
		t.Errorf("invalid config: %v", err)
	}
	if _, err := run(t, "nope"); err == nil {
		t.Error("unknown command accepted")
	}
	if _, err := run(t, "serve", "extra"); err == nil {
		t.Error("serve with an argument accepted")
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "shipmentapp dev") {
		t.Errorf("version: %v %q", err, out)
	}
}

func TestAPIKeyCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keys.db")
	t.Setenv("APP_DATA_DIR", t.TempDir()) // the demo Dolibarr the customers are checked in
	t.Setenv("DB_CONNECTION", "sqlite")
	t.Setenv("DB_DATABASE", db)
	t.Setenv("LOG_LEVEL", "error")
	if _, err := run(t, "apikey", "list"); err == nil || !strings.Contains(err.Error(), "pending migration") {
		t.Fatalf("apikey on an unmigrated database: %v", err)
	}
	if _, err := run(t, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "apikey", "create", "--name", "carrier X", "--role", "partner", "--customers", "Q3VzdG9tZXI6MQ,Q3VzdG9tZXI6MTY")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !strings.HasPrefix(secret, "sa_") || len(secret) != 63 {
		t.Fatalf("secret on the last line: %q", out)
	}
	id := strings.Fields(lines[0])[3]
	out, err = run(t, "apikey", "list")
	if err != nil || !strings.Contains(out, "carrier X") || !strings.Contains(out, "PARTNER") || strings.Contains(out, secret) || !strings.Contains(out, "active") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err = run(t, "apikey", "revoke", id); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke %s: %v %s", id, err, out)
	}
	if out, _ = run(t, "apikey", "list"); !strings.Contains(out, "revoked") {
		t.Errorf("list after revoke: %s", out)
	}
	for _, bad := range [][]string{
		{"apikey", "create", "--name", "x", "--role", "PARTNER"},                                // partner without customers
		{"apikey", "create", "--name", "x", "--role", "STAFF", "--customers", "Q3VzdG9tZXI6MQ"}, // customers on a staff key
		{"apikey", "create", "--name", "x", "--role", "ROOT"},
		{"apikey", "create", "--name", "x", "--role", "PARTNER", "--customers", "U2hpcG1lbnQ6MQ"}, // a Shipment ID
		{"apikey", "create", "--role", "STAFF"},
		{"apikey", "revoke", "nope"},
	} {
		if _, err := run(t, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestPersistedImport(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DB_CONNECTION", "sqlite")
	t.Setenv("DB_DATABASE", filepath.Join(dir, "pq.db"))
	t.Setenv("LOG_LEVEL", "error")
	if _, err := run(t, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"q1": "query A { shipments { totalCount } }", "q2": "query B { customers { totalCount } }"}`)
	out, err := run(t, "persisted", "import", good)
	if err != nil || !strings.Contains(out, "imported 2 operation(s)") {
		t.Fatalf("import: %v %s", err, out)
	}
	// One bad document refuses the whole manifest.
	bad := write("bad.json", `{"q3": "query C { shipments { totalCount } }", "q4": "query D { nope }"}`)
	if _, err := run(t, "persisted", "import", bad); err == nil || !strings.Contains(err.Error(), "q4") {
		t.Fatalf("a manifest with an invalid document: %v", err)
	}
	if _, err := run(t, "persisted", "import", filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
	sqlDB, err := sql.Open("sqlite3", filepath.Join(dir, "pq.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sqlDB.Close() }()
	var n int
	if err := sqlDB.QueryRow("SELECT COUNT(*) FROM persisted_queries").Scan(&n); err != nil || n != 2 {
		t.Errorf("%d documents stored (%v), want the 2 of the good manifest only", n, err)
	}
}

func TestFilesSweepCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("APP_DATA_DIR", dir)
	t.Setenv("DB_CONNECTION", "sqlite")
	t.Setenv("DB_DATABASE", filepath.Join(dir, "files.db"))
	t.Setenv("LOG_LEVEL", "error")
	if _, err := run(t, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, "files", "files", "2020", "01", "01", "0123456789abcdef")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, []byte("%PDF-1.7"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "files", "sweep", "--grace", "1m"); err == nil || !strings.Contains(err.Error(), "FILE_UPLOAD_TIMEOUT") {
		t.Fatalf("a grace under the upload timeout: %v", err)
	}
	out, err := run(t, "files", "sweep", "--grace", "4h")
	if err != nil || !strings.Contains(out, "deleted 0 without a row") {
		t.Fatalf("sweep within the grace: %v %s", err, out)
	}
	out, err = run(t, "files", "sweep")
	if err != nil || !strings.Contains(out, "deleted 1 without a row") {
		t.Fatalf("sweep: %v %s", err, out)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("the orphan is still there: %v", err)
	}
}

func TestDolibarrSeedDemoCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("APP_DATA_DIR", dir)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("DOLIBARR_DB_CONNECTION", "sqlite")
	t.Setenv("DOLIBARR_DB_DATABASE", filepath.Join(dir, "dolibarr.db"))
	t.Setenv("DOLIBARR_DEMO_SEED", "false")
	out, err := run(t, "dolibarr", "seed-demo")
	if err != nil || !strings.Contains(out, "seeded the demo Dolibarr tables") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	out, err = run(t, "dolibarr", "seed-demo")
	if err != nil || !strings.Contains(out, "nothing done") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	t.Setenv("DOLIBARR_DB_CONNECTION", "mysql")
	t.Setenv("DOLIBARR_DB_HOST", "127.0.0.1")
	t.Setenv("DOLIBARR_DB_PORT", "1")
	t.Setenv("DOLIBARR_DB_DATABASE", "dolibarr")
	t.Setenv("DOLIBARR_DB_TIMEOUT", "2s")
	if out, err := run(t, "dolibarr", "seed-demo"); err == nil {
		t.Fatalf("a database that does not answer was not an error: %s", out)
	}
}
