package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// commonTools are what every script needs; each dialect adds its client.
var commonTools = []string{"bash", "gzip", "tar", "sha256sum", "flock", "age", "age-keygen"}

func dialectTools(b testutil.Backend) [][]string {
	switch b.Driver {
	case config.DriverMySQL:
		return [][]string{{"mariadb-dump", "mysqldump"}, {"mariadb", "mysql"}}
	case config.DriverPostgres:
		return [][]string{{"pg_dump"}, {"pg_restore"}, {"psql"}}
	}
	return [][]string{{"sqlite3"}}
}

// requireTools skips t loudly, the way internal/testutil skips a database
// that does not answer (failing it under REQUIRE_ALL_DATABASES=1), when a
// command the scripts need is not installed. Each alternative lists commands
// of which one is enough.
func requireTools(t testing.TB, alternatives ...[]string) {
	t.Helper()
	var missing []string
	for _, alt := range alternatives {
		found := false
		for _, c := range alt {
			if _, err := exec.LookPath(c); err == nil {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, strings.Join(alt, " or "))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("the backup scripts' tools are not installed (%s): this test is SKIPPED", strings.Join(missing, ", "))
	if os.Getenv("REQUIRE_ALL_DATABASES") == "1" {
		t.Fatalf("REQUIRE_ALL_DATABASES=1 and %s", msg)
	}
	if path := os.Getenv("SHIPMENTAPP_SKIP_REPORT"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = fmt.Fprintln(f, t.Name()+": "+msg)
			_ = f.Close()
		}
	}
	t.Skip("!!! " + msg)
}

func tools(names ...string) [][]string {
	out := make([][]string, len(names))
	for i, n := range names {
		out[i] = []string{n}
	}
	return out
}

// ---- running the scripts ----

type result struct {
	stdout, stderr string
	code           int
}

// baseEnv is the scripts' environment: nothing of the developer's own
// (a DB_HOST there must not change what the test backs up).
func baseEnv(t testing.TB, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(), "LANG=C.UTF-8"}
	return append(env, extra...)
}

func run(t testing.TB, env []string, script string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v timed out:\n%s", script, args, errOut.String())
	}
	r := result{stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("run %s: %v", script, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// mustRun runs script, fails t unless it succeeds, and returns its stdout
// (the path of the backup, for the backup scripts).
func mustRun(t testing.TB, env []string, script string, args ...string) string {
	t.Helper()
	r := run(t, env, script, args...)
	if r.code != 0 {
		t.Fatalf("%s %v exited %d:\n%s", script, args, r.code, r.stderr)
	}
	t.Logf("%s %v:\n%s", script, args, strings.TrimSpace(r.stderr))
	return strings.TrimSpace(r.stdout)
}

// mustFail runs script and fails t unless it exits non-zero saying want.
func mustFail(t testing.TB, env []string, want, script string, args ...string) result {
	t.Helper()
	r := run(t, env, script, args...)
	if r.code == 0 {
		t.Fatalf("%s %v succeeded, want a failure (%q):\n%s", script, args, want, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("%s %v exited %d without saying %q:\n%s", script, args, r.code, want, r.stderr)
	}
	return r
}

// ---- the fixture: an application with real data ----

type fixture struct {
	b        testutil.Backend
	db       testutil.Database
	cfg      *config.Config
	env      []string // the scripts' environment
	dbEnv    []string // DB_* as the scripts get them
	backups  string   // BACKUP_DIR
	confDir  string   // what backup-config.sh backs up
	identity string   // the age identity file
}

func (f *fixture) filesRoot() string { return filepath.Join(f.cfg.DataDir, "files") }

func newFixture(t *testing.T, b testutil.Backend) *fixture {
	t.Helper()
	testutil.Require(t, b)
	requireTools(t, append(tools(commonTools...), dialectTools(b)...)...)
	f := &fixture{b: b, db: testutil.NewDatabase(t, b)}
	dol := testutil.NewDolibarr(t, b)
	f.cfg = testutil.Config(t, f.db, dol, "FILESYSTEM_DISK=local")
	f.dbEnv = f.db.Env("DB")
	switch b.Driver {
	case config.DriverMySQL:
		// A user of its own with a password full of shell and SQL
		// metacharacters, so the password path (option file) is exercised.
		user, pass := fmt.Sprintf("sa_bk_%08x", rand.Uint32()), `p@ss"w'rd\ $(x) ;#%`
		createMySQLUser(t, b, f.db.Name, user, pass)
		f.dbEnv = append(f.dbEnv, "DB_USERNAME="+user, "DB_PASSWORD="+pass)
	case config.DriverPostgres:
		// Trust authentication ignores it, but it travels as PGPASSWORD.
		f.dbEnv = append(f.dbEnv, "DB_PASSWORD=not-on-the-command-line")
	}
	f.backups = filepath.Join(t.TempDir(), "backups")
	f.confDir = filepath.Join(t.TempDir(), "etc", "shipmentapp")
	writeTree(t, f.confDir, map[string]string{
		"shipmentapp.yaml":   "app_env: production\ndb_host: mysql-master.internal\nfile_signing_key: " + strings.Repeat("k", 40) + "\n",
		"app.env":            "DB_PASSWORD=super-secret-password\nAWS_SECRET_ACCESS_KEY=aws-secret\n",
		"tls/ca.pem":         "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		"tls/nested/note.md": "Zoë's config — 設定 📦\n",
	})
	f.identity = filepath.Join(t.TempDir(), "backup.agekey")
	if out, err := exec.Command("age-keygen", "-o", f.identity).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v %s", err, out)
	}
	recipient, err := exec.Command("age-keygen", "-y", f.identity).Output()
	if err != nil {
		t.Fatalf("age-keygen -y: %v", err)
	}
	f.env = baseEnv(t, append([]string{
		"APP_DATA_DIR=" + f.cfg.DataDir,
		"FILESYSTEM_DISK=local",
		"BACKUP_DIR=" + f.backups,
		"CONFIG_PATHS=" + f.confDir,
		"BACKUP_AGE_RECIPIENT=" + strings.TrimSpace(string(recipient)),
		"BACKUP_AGE_IDENTITY=" + f.identity,
	}, f.dbEnv...)...)
	return f
}

// adminDB opens the server of b as its administrator (no database).
func adminDB(t testing.TB, b testutil.Backend) *sql.DB {
	t.Helper()
	target := db.Target{Driver: b.Driver, Host: b.Host, Port: b.Port, Username: b.User, SSLMode: "disable"}
	if b.Driver == config.DriverPostgres {
		target.Database = "postgres"
	}
	conn, err := db.Open(context.Background(), target, db.Pool{MaxOpen: 2})
	if err != nil {
		t.Fatalf("connect to %s: %v", b.Name, err)
	}
	return conn
}

// createMySQLUser creates user with the privileges an application user has
// on its database, dropped when t ends. Account statements are kept out of
// the binary log, so the replica of the development machine never sees them.
func createMySQLUser(t testing.TB, b testutil.Backend, database, user, pass string) {
	t.Helper()
	admin := adminDB(t, b)
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lit := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'" }
	for _, stmt := range []string{
		"SET SESSION sql_log_bin = 0",
		"CREATE USER " + lit(user) + "@'%' IDENTIFIED BY " + lit(pass),
		"GRANT ALL PRIVILEGES ON `" + database + "`.* TO " + lit(user) + "@'%'",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		defer func() { _ = admin.Close() }()
		defer func() { _ = conn.Close() }()
		if _, err := conn.ExecContext(context.Background(), "DROP USER IF EXISTS "+lit(user)+"@'%'"); err != nil {
			t.Logf("drop user %s: %v", user, err)
		}
	})
}

func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// startApp builds the application over the fixture's database and files the
// way serve does; the returned stop closes it (once).
func (f *fixture) startApp(t testing.TB) (*app.App, func()) {
	t.Helper()
	a, err := app.New(context.Background(), f.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start app on %s: %v", f.b.Name, err)
	}
	var once sync.Once
	stop := func() { once.Do(a.Close) }
	t.Cleanup(stop)
	return a, stop
}

func customerID(rowid int) string { return gid.New(gid.TypeCustomer, rowid).String() }

func address(name, city, country string) map[string]any {
	return map[string]any{
		"name": name, "company": "ACME « Ünïcode » & Sons", "line1": `1 rue de l'Église "B"`,
		"city": city, "postalCode": "75002", "countryCode": country,
		"phone": "+33 1 00 00 00 00", "email": "desk@example.com",
	}
}

// populate writes real data through the application's GraphQL API:
// shipments, tracking events, files (whose bytes go to the local store), API
// keys (one revoked). It returns the admin secret.
func (f *fixture) populate(t *testing.T) string {
	t.Helper()
	a, stop := f.startApp(t)
	defer stop()
	secret := a.DevAdminKey
	if secret == "" {
		t.Fatal("no development admin key was created on the first start")
	}
	gql := testutil.NewClient(t, a.Handler).As(secret)
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Zoë O'Brien", `Back\slash "quoted"`, "山田 太郎 📦", "Ελένη", "مريم", "Plain Name"}
	var ids []string
	for i := range 12 {
		var out struct {
			CreateShipment struct{ ID string } `json:"createShipment"`
		}
		gql.MustData(`mutation($in: CreateShipmentInput!) { createShipment(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"customerId":     customerID([]int{1, 16}[i%2]),
			"carrier":        []string{"DHL", "UPS", "Colissimo"}[i%3],
			"serviceLevel":   "Express",
			"trackingNumber": fmt.Sprintf("TRK-%04d-%d", i, rng.IntN(1e6)),
			"origin":         address(names[i%len(names)], "Lyon", "FR"),
			"destination":    address(names[(i+1)%len(names)], "Berlin", "de"),
			"parcels": []any{
				map[string]any{"weightGrams": 100 + i, "lengthMm": 300, "widthMm": 200, "heightMm": 100},
				map[string]any{"weightGrams": 2500, "lengthMm": 10, "widthMm": 20, "heightMm": 30},
			},
			"estimatedDeliveryAt": time.Date(2026, 12, 1+i, 9, 30, 15, 123456000, time.UTC).Format(time.RFC3339Nano),
		}}, &out)
		ids = append(ids, out.CreateShipment.ID)
	}
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i, id := range ids[:9] {
		for j, status := range []string{"LABEL_CREATED", "IN_TRANSIT", "IN_TRANSIT", "DELIVERED"}[:2+i%3] {
			gql.MustData(`mutation($id: ID!, $in: TrackingEventInput!) { addTrackingEvent(shipmentId: $id, input: $in) { id } }`,
				map[string]any{"id": id, "in": map[string]any{
					"status": status, "occurredAt": at.Add(time.Duration(i*10+j) * time.Minute).Format(time.RFC3339),
					"description": fmt.Sprintf("scan %d — «%s»\ttab", j, names[j%len(names)]),
					"location":    map[string]any{"city": "Paris", "countryCode": "fr"},
				}}, nil)
		}
	}
	gql.MustData(`mutation($id: ID!, $r: String) { cancelShipment(id: $id, reason: $r) { id } }`,
		map[string]any{"id": ids[11], "r": "customer's \"request\" \\ ; DROP TABLE shipments; -- 📦"}, nil)

	// Files: text, images, and a large binary one.
	big := append([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), make([]byte, 1<<20+12345)...)
	for i := 20; i < len(big); i++ {
		big[i] = byte(rng.UintN(256))
	}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), bytes.Repeat([]byte{0, 0xff, 0x42}, 3000)...)
	csv := []byte("invoice,shipment,amount\nINV-0001,SHP-1,12.50\nINV-0002,\"Zoë, O'Brien\",3.10\n")
	uploads := []struct {
		shipment, kind, name string
		body                 []byte
	}{
		{ids[0], "LABEL", "label.pdf", big},
		{ids[0], "PROOF_OF_DELIVERY", "pod.png", png},
		{ids[1], "INVOICE", "facture n°1 — été.csv", csv},
		{ids[2], "LABEL", "zebra.zpl", []byte("^XA\n^FO50,50^ADN,36,20^FDShipment^FS\n^XZ\n")},
		{ids[3], "CUSTOMS", "customs.pdf", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("1 0 obj << >> endobj\n"), 500)...)},
	}
	for _, u := range uploads {
		r := gql.Upload(`mutation($s: ID!, $k: FileKind!, $f: Upload!) { uploadShipmentFile(shipmentId: $s, kind: $k, file: $f) { id sha256 } }`,
			map[string]any{"s": u.shipment, "k": u.kind, "f": nil},
			testutil.File{Var: "variables.f", Name: u.name, ContentType: "application/octet-stream", Body: u.body})
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("upload %s: HTTP %d %s", u.name, r.Status, r.Raw)
		}
	}

	// Keys: a partner key, and a staff key that is then revoked.
	var created struct {
		CreateAPIKey struct {
			Key struct{ ID string } `json:"key"`
		} `json:"createAPIKey"`
	}
	gql.MustData(`mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key { id } secret } }`,
		map[string]any{"in": map[string]any{"name": "partner ⚓ «carrier»", "role": "PARTNER", "customerIds": []string{customerID(1), customerID(16)}}}, nil)
	gql.MustData(`mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key { id } secret } }`,
		map[string]any{"in": map[string]any{"name": "staff to revoke", "role": "STAFF"}}, &created)
	gql.MustData(`mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, map[string]any{"id": created.CreateAPIKey.Key.ID}, nil)
	return secret
}

// ---- comparing databases, file trees ----

// snapshot is a database's content: every table's rows (each row rendered as
// text, sorted) and its schema (columns, indexes, constraints, sequences).
type snapshot struct {
	rows   map[string][]string
	schema []string
}

func (s snapshot) count(table string) int { return len(s.rows[table]) }

func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if utf8.Valid(x) {
			return "b:" + string(x)
		}
		return "x:" + hex.EncodeToString(x)
	case time.Time:
		return "t:" + x.UTC().Format(time.RFC3339Nano)
	case string:
		return "s:" + x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T:%v", v, v)
	}
	return fmt.Sprintf("%T:%s", v, b)
}

func queryStrings(t testing.TB, conn *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = render(v)
		}
		out = append(out, strings.Join(parts, "\x1f"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// names runs query and returns its first column as strings.
func names(t testing.TB, conn *sql.DB, query string) []string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func takeSnapshot(t testing.TB, d testutil.Database) snapshot {
	t.Helper()
	conn, err := db.Open(context.Background(), d.Target(), db.Pool{MaxOpen: 1})
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	defer func() { _ = conn.Close() }()
	var tables []string
	s := snapshot{rows: map[string][]string{}}
	quote := func(name string) string { return `"` + name + `"` }
	switch d.Backend.Driver {
	case config.DriverSQLite:
		tables = names(t, conn, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
		s.schema = queryStrings(t, conn, `SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`)
	case config.DriverMySQL:
		quote = func(name string) string { return "`" + name + "`" }
		tables = names(t, conn, `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`)
		s.schema = queryStrings(t, conn, `SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`)
		for _, tb := range tables {
			s.schema = append(s.schema, queryStrings(t, conn, "SHOW CREATE TABLE "+quote(tb))...)
		}
	case config.DriverPostgres:
		tables = names(t, conn, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
		for _, q := range []string{
			`SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, ''), is_identity FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
			`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`,
			`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
			`SELECT sequencename, COALESCE(last_value, 0) FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`,
			`SELECT table_name FROM information_schema.views WHERE table_schema = 'public' ORDER BY 1`,
		} {
			s.schema = append(s.schema, queryStrings(t, conn, q)...)
		}
	}
	for _, tb := range tables {
		rows := queryStrings(t, conn, "SELECT * FROM "+quote(tb))
		sort.Strings(rows)
		s.rows[tb] = rows
	}
	return s
}

func digest(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		_, _ = io.WriteString(h, l)
		_, _ = h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameSnapshot fails t, showing the first differences, unless got == want.
func sameSnapshot(t testing.TB, what string, want, got snapshot) {
	t.Helper()
	var problems []string
	tables := map[string]bool{}
	for n := range want.rows {
		tables[n] = true
	}
	for n := range got.rows {
		tables[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(tables)) {
		w, wok := want.rows[n]
		g, gok := got.rows[n]
		switch {
		case !wok:
			problems = append(problems, fmt.Sprintf("table %s: not in the original", n))
		case !gok:
			problems = append(problems, fmt.Sprintf("table %s: missing", n))
		case digest(w) != digest(g):
			problems = append(problems, fmt.Sprintf("table %s: %d rows (sha256 %.12s), want %d rows (sha256 %.12s); first difference: %s",
				n, len(g), digest(g), len(w), digest(w), firstDiff(w, g)))
		}
	}
	if digest(want.schema) != digest(got.schema) {
		problems = append(problems, "schema differs: "+firstDiff(want.schema, got.schema))
	}
	if len(problems) > 0 {
		t.Fatalf("%s: the database differs from the original:\n  %s", what, strings.Join(problems, "\n  "))
	}
}

func firstDiff(want, got []string) string {
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("#%d\n    want %q\n    got  %q", i, w, g)
		}
	}
	return "none"
}

// tree maps every regular file under root (but .tmp/, the store's uploads in
// progress) to its mode and sha256.
func tree(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && rel == ".tmp" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%v %x", info.Mode().Perm(), sum)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func sameTree(t testing.TB, what string, want, got map[string]string) {
	t.Helper()
	var problems []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			problems = append(problems, k+": missing")
		} else if g != w {
			problems = append(problems, fmt.Sprintf("%s: %s, want %s", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			problems = append(problems, k+": not in the original")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Fatalf("%s differs from the original:\n  %s", what, strings.Join(problems, "\n  "))
	}
}

// destroyDatabase drops the database (the server loses it) or deletes the
// SQLite file.
func destroyDatabase(t testing.TB, d testutil.Database) {
	t.Helper()
	if d.Backend.Driver == config.DriverSQLite {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(d.Name + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		}
		return
	}
	admin := adminDB(t, d.Backend)
	defer func() { _ = admin.Close() }()
	stmt := "DROP DATABASE " + d.Name
	if d.Backend.Driver == config.DriverPostgres {
		stmt += " WITH (FORCE)"
	}
	if _, err := admin.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func execSQL(t testing.TB, d testutil.Database, stmts ...string) {
	t.Helper()
	conn, err := db.Open(context.Background(), d.Target(), db.Pool{MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	for _, s := range stmts {
		if _, err := conn.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// damaged copies backup (and its sidecar) to a new directory, under the same
// name, and returns the copy's path.
func damaged(t testing.TB, backup string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(backup))
	for _, suffix := range []string{"", ".sha256"} {
		b, err := os.ReadFile(backup + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func flipByte(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// truncateWithSidecar cuts path in half and writes a matching sidecar: only
// the content checks of the restore can refuse it.
func truncateWithSidecar(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:len(b)/2]
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if err := os.WriteFile(path+".sha256", fmt.Appendf(nil, "%x  %s\n", sum, filepath.Base(path)), 0o600); err != nil {
		t.Fatal(err)
	}
}

var backupName = regexp.MustCompile(`^[A-Za-z0-9._-]+-\d{8}T\d{6}Z\.(sql\.gz|dump|sqlite\.gz|tar\.gz|tar\.gz\.age)$`)

// checkBackup checks that path is a published backup in BACKUP_DIR/kind whose
// sidecar matches it.
func checkBackup(t testing.TB, f *fixture, kind, path string) {
	t.Helper()
	if filepath.Dir(path) != filepath.Join(f.backups, kind) || !backupName.MatchString(filepath.Base(path)) {
		t.Fatalf("backup %q: want BACKUP_DIR/%s/<name>-<UTC timestamp>.<ext>", path, kind)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(path + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if want := fmt.Sprintf("%x  %s\n", sum, filepath.Base(path)); string(side) != want {
		t.Fatalf("sidecar of %s is %q, want %q", path, side, want)
	}
}

// TestBackupRestore backs up a database with real data of every dialect, the
// local file store and the configuration with the scripts, checks that damaged
// or unconfirmed restores are refused without touching anything, destroys all
// three, restores them and compares every row, every file and every
// configuration file; then restores the database again over a diverged one.
func TestBackupRestore(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b)
			secret := f.populate(t)

			before := takeSnapshot(t, f.db)
			for _, table := range []string{"shipments", "tracking_events", "files", "api_keys", "goose_db_version"} {
				if before.count(table) == 0 {
					t.Fatalf("table %s is empty before the backup: the test would prove nothing", table)
				}
			}
			filesBefore := tree(t, f.filesRoot())
			if len(filesBefore) != before.count("files") {
				t.Fatalf("%d objects in the file store for %d file rows", len(filesBefore), before.count("files"))
			}
			confBefore := tree(t, f.confDir)
			t.Logf("%s: %d shipments, %d tracking events, %d files, %d API keys; %d objects; %d configuration files",
				b.Name, before.count("shipments"), before.count("tracking_events"), before.count("files"),
				before.count("api_keys"), len(filesBefore), len(confBefore))

			dbBackup := mustRun(t, f.env, "./backup-db.sh")
			filesBackup := mustRun(t, f.env, "./backup-files.sh")
			confBackup := mustRun(t, f.env, "./backup-config.sh")
			checkBackup(t, f, "db", dbBackup)
			checkBackup(t, f, "files", filesBackup)
			checkBackup(t, f, "config", confBackup)
			enc, err := os.ReadFile(confBackup)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(enc, []byte("age-encryption.org/v1\n")) || bytes.Contains(enc, []byte("super-secret-password")) {
				t.Fatalf("the configuration backup is not an age file, or shows its plaintext")
			}

			// Refusals: nothing is touched.
			scratch := t.TempDir()
			confEnv := append(slices.Clone(f.env), "RESTORE_CONFIG_TARGET="+scratch)
			mustFail(t, f.env, "without confirmation", "./restore-db.sh", dbBackup)
			mustFail(t, f.env, "without confirmation", "./restore-files.sh", filesBackup)
			mustFail(t, confEnv, "without confirmation", "./restore-config.sh", confBackup)
			for script, backup := range map[string]string{"./restore-db.sh": dbBackup, "./restore-files.sh": filesBackup, "./restore-config.sh": confBackup} {
				bad := damaged(t, backup)
				flipByte(t, bad)
				mustFail(t, confEnv, "checksum mismatch", script, "--yes", bad)
				bad = damaged(t, backup)
				truncateWithSidecar(t, bad)
				mustFail(t, confEnv, "refusing to restore", script, "--yes", bad)
			}
			if entries, _ := os.ReadDir(scratch); len(entries) > 0 {
				t.Fatalf("a refused configuration restore wrote into its target")
			}
			sameSnapshot(t, "after the refused restores", before, takeSnapshot(t, f.db))
			sameTree(t, "the file store after the refused restores", filesBefore, tree(t, f.filesRoot()))

			// Disaster: the database, the files and the configuration are lost.
			destroyDatabase(t, f.db)
			if err := os.RemoveAll(f.filesRoot()); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(f.confDir); err != nil {
				t.Fatal(err)
			}

			mustRun(t, f.env, "./restore-db.sh", "--yes", dbBackup)
			mustRun(t, append(slices.Clone(f.env), "RESTORE_CONFIRM=yes"), "./restore-files.sh", "latest")
			mustRun(t, f.env, "./restore-config.sh", "--yes", confBackup)
			sameSnapshot(t, "after the restore", before, takeSnapshot(t, f.db))
			sameTree(t, "the restored file store", filesBefore, tree(t, f.filesRoot()))
			sameTree(t, "the restored configuration", confBefore, tree(t, f.confDir))

			// The application works on what was restored: the old key, the
			// files' bytes through their links, and new rows (sequences).
			a, stop := f.startApp(t)
			gql := testutil.NewClient(t, a.Handler).As(secret)
			var list struct {
				Shipments struct {
					Edges []struct {
						Node struct {
							Files []struct {
								Name   string `json:"name"`
								Sha256 string `json:"sha256"`
								URL    string `json:"url"`
							} `json:"files"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"shipments"`
			}
			gql.MustData(`{ shipments(first: 100) { edges { node { files { name sha256 url(expiresIn: 60) } } } } }`, nil, &list)
			if n := len(list.Shipments.Edges); n != before.count("shipments") {
				t.Fatalf("the restored app lists %d shipments, want %d", n, before.count("shipments"))
			}
			downloaded := 0
			for _, e := range list.Shipments.Edges {
				for _, file := range e.Node.Files {
					u, err := url.Parse(file.URL)
					if err != nil {
						t.Fatal(err)
					}
					r := gql.RawH(http.MethodGet, u.RequestURI(), nil, nil)
					if sum := sha256.Sum256(r.Raw); r.Status != http.StatusOK || hex.EncodeToString(sum[:]) != file.Sha256 {
						t.Fatalf("download %s after the restore: HTTP %d, sha256 %x, want %s", file.Name, r.Status, sum, file.Sha256)
					}
					downloaded++
				}
			}
			if downloaded != before.count("files") {
				t.Fatalf("downloaded %d files, want %d", downloaded, before.count("files"))
			}
			gql.MustData(`mutation($in: CreateShipmentInput!) { createShipment(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"customerId": customerID(1), "carrier": "DHL", "origin": address("A", "Lyon", "FR"),
				"destination": address("B", "Paris", "FR"), "parcels": []any{map[string]any{"weightGrams": 1, "lengthMm": 1, "widthMm": 1, "heightMm": 1}},
			}}, nil)
			stop()

			// Restoring over a database that moved on (a new shipment, an
			// extra table and view) gives the backup back, exactly.
			extra := []string{"CREATE TABLE zz_extra (id INTEGER)", "CREATE VIEW zz_view AS SELECT id FROM shipments"}
			execSQL(t, f.db, extra...)
			mustRun(t, f.env, "./restore-db.sh", "--yes", "latest")
			sameSnapshot(t, "after the restore over a diverged database", before, takeSnapshot(t, f.db))
		})
	}
}

// TestBackupFailures: a dump that cannot connect, or that dies midway, exits
// non-zero and leaves nothing in BACKUP_DIR.
func TestBackupFailures(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			testutil.Require(t, b)
			requireTools(t, append(tools(commonTools...), dialectTools(b)...)...)
			d := testutil.NewDatabase(t, b)
			type failure struct {
				name, want string
				env        []string
			}
			var cases []failure
			switch b.Driver {
			case config.DriverMySQL:
				cases = []failure{
					{"wrong password", "Access denied", []string{"DB_PASSWORD=wrong"}},
					{"wrong host", "failed", []string{"DB_HOST=127.0.0.1", "DB_PORT=1"}},
					{"no such database", "failed", []string{"DB_DATABASE=sa_no_such_database"}},
				}
			case config.DriverPostgres:
				cases = []failure{
					{"wrong host", "pg_dump of", []string{"DB_HOST=127.0.0.1", "DB_PORT=1"}},
					{"no such database", "pg_dump of", []string{"DB_DATABASE=sa_no_such_database"}},
				}
			case config.DriverSQLite:
				cases = []failure{
					{"no such file", "no SQLite database", []string{"DB_DATABASE=" + filepath.Join(t.TempDir(), "missing.db")}},
					{"not a database", "failed", []string{"DB_DATABASE=" + writeFile(t, "garbage.db", bytes.Repeat([]byte("not sqlite "), 1000))}},
				}
			}
			// A dump that writes part of its output and then fails: only
			// pipefail (and the checks after it) keep it from being kept.
			fake := t.TempDir()
			switch b.Driver {
			case config.DriverMySQL:
				writeExec(t, fake, "mariadb-dump", "#!/bin/sh\nprintf -- '-- MariaDB dump\\nCREATE TABLE `shipments` (\\n'\nexit 2\n")
				cases = append(cases, failure{"dump dies midway", "failed", []string{"PATH=" + fake + ":" + os.Getenv("PATH")}})
				truncated := t.TempDir()
				writeExec(t, truncated, "mariadb-dump", "#!/bin/sh\nprintf -- '-- MariaDB dump\\nCREATE TABLE `shipments` (\\n'\nexit 0\n")
				cases = append(cases, failure{"dump ends early without an error", "trailer", []string{"PATH=" + truncated + ":" + os.Getenv("PATH")}})
			case config.DriverPostgres:
				writeExec(t, fake, "pg_dump", "#!/bin/sh\nfor a; do case $a in --file=*) printf PGDMP > \"${a#--file=}\";; esac; done\nexit 1\n")
				cases = append(cases, failure{"dump dies midway", "pg_dump of", []string{"PATH=" + fake + ":" + os.Getenv("PATH")}})
			case config.DriverSQLite:
				execSQL(t, d, "CREATE TABLE t (x INTEGER)")
				writeExec(t, fake, "sqlite3", "#!/bin/sh\nexit 1\n")
				cases = append(cases, failure{"copy fails", "failed", []string{"PATH=" + fake + ":" + os.Getenv("PATH")}})
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					backups := t.TempDir()
					env := baseEnv(t, d.Env("DB")...)
					env = append(env, "BACKUP_DIR="+backups)
					env = append(env, c.env...)
					mustFail(t, env, c.want, "./backup-db.sh")
					var left []string
					_ = filepath.WalkDir(backups, func(p string, e fs.DirEntry, err error) error {
						if err == nil && !e.IsDir() && !strings.HasSuffix(p, ".lock") {
							left = append(left, p)
						}
						return nil
					})
					if len(left) > 0 {
						t.Fatalf("a failed backup left %v", left)
					}
					if strings.HasPrefix(c.name, "no such file") {
						if _, err := os.Stat(strings.TrimPrefix(c.env[0], "DB_DATABASE=")); !errors.Is(err, fs.ErrNotExist) {
							t.Fatalf("the backup of a missing SQLite file created it")
						}
					}
				})
			}
		})
	}
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeExec(t testing.TB, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBackupRetention: each kind prunes, by the UTC timestamp in the names,
// only its own backups older than its retention (30, 7 and 90 days by
// default), with their sidecars; files whose names carry no such timestamp
// are never touched, however old their modification time.
func TestBackupRetention(t *testing.T) {
	requireTools(t, append(tools(commonTools...), []string{"sqlite3"})...)
	d := testutil.NewDatabase(t, testutil.SQLite)
	execSQL(t, d, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
	dataDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dataDir, "files", "files", "ab"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeTree(t, filepath.Join(dataDir, "files"), map[string]string{"files/ab/object": "bytes"})
	confDir := filepath.Join(t.TempDir(), "conf")
	writeTree(t, confDir, map[string]string{"app.env": "X=1\n"})
	key := filepath.Join(t.TempDir(), "key")
	if out, err := exec.Command("age-keygen", "-o", key).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v %s", err, out)
	}
	recipient, _ := exec.Command("age-keygen", "-y", key).Output()
	backups := t.TempDir()
	now := time.Now().UTC()
	stamp := func(daysAgo float64) string {
		return now.Add(-time.Duration(daysAgo * 24 * float64(time.Hour))).Format("20060102T150405Z")
	}
	dbTag := strings.TrimSuffix(filepath.Base(d.Name), filepath.Ext(d.Name))
	type file struct {
		name string
		gone bool
	}
	kinds := map[string][]file{
		"db": {
			{dbTag + "-" + stamp(31) + ".sqlite.gz", true},
			{dbTag + "-" + stamp(31) + ".sqlite.gz.sha256", true},
			{dbTag + "-" + stamp(30.5) + ".sqlite.gz", true},
			{dbTag + "-" + stamp(29) + ".sqlite.gz", false},
			{dbTag + "-" + stamp(29) + ".sqlite.gz.sha256", false},
			{"otherdb-" + stamp(400) + ".sqlite.gz", false}, // another database's
			{dbTag + "-notes.txt", false},                   // not a backup
			{dbTag + "-staging-" + stamp(400) + ".sql.gz", false},
		},
		"files": {
			{"files-" + stamp(8) + ".tar.gz", true},
			{"files-" + stamp(8) + ".tar.gz.sha256", true},
			{"files-" + stamp(6) + ".tar.gz", false},
			{"README", false},
		},
		"config": {
			{"config-" + stamp(91) + ".tar.gz.age", true},
			{"config-" + stamp(89) + ".tar.gz.age", false},
		},
	}
	old := now.AddDate(-2, 0, 0)
	for kind, files := range kinds {
		for _, f := range files {
			p := writeFile(t, f.name, []byte("x"))
			dst := filepath.Join(backups, kind, f.name)
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(p, dst); err != nil {
				t.Fatal(err)
			}
			// Modification times say nothing: every file looks two years old.
			if err := os.Chtimes(dst, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := baseEnv(t, append(d.Env("DB"), "BACKUP_DIR="+backups, "APP_DATA_DIR="+dataDir,
		"CONFIG_PATHS="+confDir, "BACKUP_AGE_RECIPIENT="+strings.TrimSpace(string(recipient)))...)
	made := map[string]string{
		"db":     mustRun(t, env, "./backup-db.sh"),
		"files":  mustRun(t, env, "./backup-files.sh"),
		"config": mustRun(t, env, "./backup-config.sh"),
	}
	for kind, files := range kinds {
		for _, f := range files {
			_, err := os.Stat(filepath.Join(backups, kind, f.name))
			if gone := errors.Is(err, fs.ErrNotExist); gone != f.gone {
				t.Errorf("%s/%s: removed = %v, want %v", kind, f.name, gone, f.gone)
			}
		}
		if _, err := os.Stat(made[kind]); err != nil {
			t.Errorf("the new %s backup: %v", kind, err)
		}
	}

	// BACKUP_*_RETENTION_DAYS=0 keeps everything.
	time.Sleep(1100 * time.Millisecond) // the next backup's name is a second later
	mustRun(t, append(env, "BACKUP_DB_RETENTION_DAYS=0"), "./backup-db.sh")
	if _, err := os.Stat(filepath.Join(backups, "db", "otherdb-"+stamp(400)+".sqlite.gz")); err != nil {
		t.Fatal(err)
	}
	mustFail(t, append(env, "BACKUP_DB_RETENTION_DAYS=thirty"), "whole number of days", "./backup-db.sh")
}

// TestConfigBackupNeedsRecipient: without an age recipient, or with one age
// refuses, no configuration backup is written, encrypted or not.
func TestConfigBackupNeedsRecipient(t *testing.T) {
	requireTools(t, tools(commonTools...)...)
	confDir := t.TempDir()
	writeTree(t, confDir, map[string]string{"app.env": "DB_PASSWORD=secret\n"})
	for name, extra := range map[string][]string{
		"no recipient":    nil,
		"blank recipient": {"BACKUP_AGE_RECIPIENT= , "},
		"bad recipient":   {"BACKUP_AGE_RECIPIENT=not-a-key"},
	} {
		t.Run(name, func(t *testing.T) {
			backups := t.TempDir()
			env := baseEnv(t, append([]string{"BACKUP_DIR=" + backups, "CONFIG_PATHS=" + confDir}, extra...)...)
			want := "no age recipient"
			if name == "bad recipient" {
				want = "failed"
			}
			mustFail(t, env, want, "./backup-config.sh")
			if entries, _ := os.ReadDir(filepath.Join(backups, "config")); len(entries) > 0 {
				t.Fatalf("a refused configuration backup left %v", entries)
			}
		})
	}
	t.Run("missing path", func(t *testing.T) {
		key := filepath.Join(t.TempDir(), "key")
		if out, err := exec.Command("age-keygen", "-o", key).CombinedOutput(); err != nil {
			t.Fatalf("age-keygen: %v %s", err, out)
		}
		recipient, _ := exec.Command("age-keygen", "-y", key).Output()
		env := baseEnv(t, "BACKUP_DIR="+t.TempDir(), "CONFIG_PATHS="+confDir+":/nonexistent/shipmentapp",
			"BACKUP_AGE_RECIPIENT="+strings.TrimSpace(string(recipient)))
		mustFail(t, env, "does not exist", "./backup-config.sh")
	})
}

// TestBackupLock: while a run holds the lock of its kind, another one fails
// at once instead of overlapping, and writes nothing.
func TestBackupLock(t *testing.T) {
	requireTools(t, append(tools(commonTools...), []string{"sqlite3"})...)
	d := testutil.NewDatabase(t, testutil.SQLite)
	execSQL(t, d, "CREATE TABLE t (x INTEGER)")
	backups := t.TempDir()
	holder := exec.Command("flock", filepath.Join(backups, ".db.lock"), "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	// Wait until the holder has the lock.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if exec.Command("flock", "-n", filepath.Join(backups, ".db.lock"), "true").Run() != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock holder never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	env := baseEnv(t, append(d.Env("DB"), "BACKUP_DIR="+backups)...)
	mustFail(t, env, "not running two at once", "./backup-db.sh")
	mustFail(t, append(env, "RESTORE_CONFIRM=yes"), "not running two at once", "./restore-db.sh", filepath.Join(backups, "db", "x-20260101T000000Z.sqlite.gz"))
	if entries, _ := os.ReadDir(filepath.Join(backups, "db")); len(entries) > 0 {
		t.Fatalf("a run that did not get the lock wrote %v", entries)
	}
	// Another kind is not blocked.
	dataDir := t.TempDir()
	writeTree(t, filepath.Join(dataDir, "files"), map[string]string{"files/x": "y"})
	mustRun(t, append(env, "APP_DATA_DIR="+dataDir), "./backup-files.sh")
}

// TestS3FilesBackup: with FILESYSTEM_DISK=s3, backup-files.sh copies the
// objects of the prefix to BACKUP_S3_DESTINATION with the aws CLI and
// restore-files.sh copies them back, on the S3-compatible server of the
// development machine (versitygw).
func TestS3FilesBackup(t *testing.T) {
	requireTools(t, tools("bash", "flock", "aws")...)
	src, srcEnv := testutil.NewS3Store(t)
	dst, dstEnv := testutil.NewS3Store(t)
	dstBucket := ""
	for _, kv := range dstEnv {
		if v, ok := strings.CutPrefix(kv, "AWS_BUCKET="); ok {
			dstBucket = v
		}
	}
	ctx := context.Background()
	objects := map[string][]byte{
		"files/2026/11/aa/label.pdf": append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 50000)...),
		"files/2026/11/bb/pod.png":   []byte("\x89PNG\r\n\x1a\nimage"),
		"files/cc/invoice.csv":       []byte("a,b\n1,2\n"),
	}
	for k, v := range objects {
		if err := src.Put(ctx, k, bytes.NewReader(v), storage.Meta{ContentType: "application/octet-stream"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Put(ctx, "other-app/not-ours", strings.NewReader("x"), storage.Meta{}); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(t, append(srcEnv, "BACKUP_DIR="+t.TempDir(), "BACKUP_S3_DESTINATION=s3://"+dstBucket+"/copy")...)

	mustFail(t, baseEnv(t, append(srcEnv, "BACKUP_DIR="+t.TempDir())...), "BACKUP_S3_DESTINATION", "./backup-files.sh")
	mustRun(t, baseEnv(t, append(srcEnv, "BACKUP_DIR="+t.TempDir(), "BACKUP_S3_REPLICATED=yes")...), "./backup-files.sh")
	mustRun(t, env, "./backup-files.sh")
	got := map[string]string{}
	if err := dst.List(ctx, "", func(o storage.Info) error { got[o.Key] = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	for k := range objects {
		if _, ok := got["copy/"+strings.TrimPrefix(k, "files/")]; !ok {
			t.Fatalf("the copy lacks %s: %v", k, got)
		}
	}
	if len(got) != len(objects) {
		t.Fatalf("the copy holds %v, want only the %d objects under files/", got, len(objects))
	}
	for k := range objects {
		if err := src.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, env, "./restore-files.sh", "--yes", "latest")
	for k, want := range objects {
		rc, _, err := src.Get(ctx, k)
		if err != nil {
			t.Fatalf("%s after the restore: %v", k, err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("%s after the restore: %d bytes (err %v), want %d identical bytes", k, len(b), err, len(want))
		}
	}
}
