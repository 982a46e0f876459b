// Package testutil gives tests fresh databases of every dialect and a
// configuration pointing at them.
//
// SQLite is always available. MariaDB (TEST_MYSQL_ADDR, default
// 127.0.0.1:3306, user root) and PostgreSQL (TEST_POSTGRES_ADDR, default
// 127.0.0.1:5432, user postgres) are used when they answer; when one does not,
// its tests are skipped loudly and listed in the file named by
// SHIPMENTAPP_SKIP_REPORT, unless REQUIRE_ALL_DATABASES=1 makes that a failure.
package testutil

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
)

// Backend is a database server the suites run against.
type Backend struct {
	// Name names the suite: sqlite, mariadb or postgres.
	Name string
	// Driver is the DB_CONNECTION value.
	Driver string
	Host   string
	Port   int
	User   string
}

// The backends, in the order suites run.
var (
	SQLite   = Backend{Name: "sqlite", Driver: config.DriverSQLite}
	MariaDB  = Backend{Name: "mariadb", Driver: config.DriverMySQL, User: "root"}
	Postgres = Backend{Name: "postgres", Driver: config.DriverPostgres, User: "postgres"}
)

// All returns every backend with its address filled from the environment.
func All() []Backend {
	m, p := MariaDB, Postgres
	m.Host, m.Port = splitAddr(envOr("TEST_MYSQL_ADDR", "127.0.0.1:3306"))
	p.Host, p.Port = splitAddr(envOr("TEST_POSTGRES_ADDR", "127.0.0.1:5432"))
	return []Backend{SQLite, m, p}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func splitAddr(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	var n int
	_, _ = fmt.Sscan(port, &n)
	return host, n
}

var (
	reachMu sync.Mutex
	reach   = map[string]error{}
)

// Reachable reports whether b answers.
func Reachable(b Backend) bool {
	if b.Driver == config.DriverSQLite {
		return true
	}
	reachMu.Lock()
	defer reachMu.Unlock()
	err, seen := reach[b.Name]
	if !seen {
		err = ping(b)
		reach[b.Name] = err
	}
	return err == nil
}

// Require skips t (or fails it under REQUIRE_ALL_DATABASES=1) when b does not answer.
func Require(t testing.TB, b Backend) {
	t.Helper()
	if b.Driver == config.DriverSQLite {
		return
	}
	reachMu.Lock()
	err, seen := reach[b.Name]
	if !seen {
		err = ping(b)
		reach[b.Name] = err
	}
	reachMu.Unlock()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s is not reachable at %s:%d (%v): its suite is SKIPPED", b.Name, b.Host, b.Port, err)
	SkipOrFail(t, msg)
}

func ping(b Backend) error {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(b.Host, fmt.Sprint(b.Port)), 2*time.Second)
	if err != nil {
		return err
	}
	_ = conn.Close()
	admin, err := adminDB(b)
	if err != nil {
		return err
	}
	defer func() { _ = admin.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return admin.PingContext(ctx)
}

// SkipOrFail skips t loudly because of msg (what is missing and how to get
// it), listing it in the report of skipped suites, or fails t when
// REQUIRE_ALL_DATABASES=1 (CI).
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("REQUIRE_ALL_DATABASES") == "1" {
		t.Fatalf("REQUIRE_ALL_DATABASES=1 and %s", msg)
	}
	reportSkip(t.Name() + ": " + msg)
	t.Skip("!!! " + msg)
}

func reportSkip(line string) {
	path := os.Getenv("SHIPMENTAPP_SKIP_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	_, _ = fmt.Fprintln(f, line)
}

func adminDB(b Backend) (*sql.DB, error) {
	t := db.Target{Driver: b.Driver, Host: b.Host, Port: b.Port, Username: b.User, SSLMode: "disable"}
	switch b.Driver {
	case config.DriverMySQL:
		t.Database = ""
	case config.DriverPostgres:
		t.Database = "postgres"
	}
	name, dsn, err := db.DSN(t)
	if err != nil {
		return nil, err
	}
	return sql.Open(name, dsn)
}

// Database is a fresh, empty database created for one test.
type Database struct {
	Backend Backend
	Name    string // the database name, or the SQLite file
}

// Target returns the db.Target of d.
func (d Database) Target() db.Target {
	return db.Target{Driver: d.Backend.Driver, Host: d.Backend.Host, Port: d.Backend.Port,
		Database: d.Name, Username: d.Backend.User, SSLMode: "disable"}
}

// Env returns the configuration of d as environment variables with prefix
// (DB or DOLIBARR_DB).
func (d Database) Env(prefix string) []string {
	env := []string{prefix + "_CONNECTION=" + d.Backend.Driver, prefix + "_DATABASE=" + d.Name}
	if d.Backend.Driver != config.DriverSQLite {
		env = append(env,
			prefix+"_HOST="+d.Backend.Host,
			fmt.Sprintf("%s_PORT=%d", prefix, d.Backend.Port),
			prefix+"_USERNAME="+d.Backend.User)
		if d.Backend.Driver == config.DriverPostgres {
			env = append(env, prefix+"_SSLMODE=disable")
		}
	}
	return env
}

// Open opens d for the test's own direct use; it is closed at cleanup.
func (d Database) Open(t testing.TB) *sql.DB {
	t.Helper()
	sqlDB, err := db.Open(context.Background(), d.Target(), db.Pool{MaxOpen: 4})
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })
	return sqlDB
}

// OpenMigrated opens d as Open does, with the schema migrated up.
func (d Database) OpenMigrated(t testing.TB) *sql.DB {
	t.Helper()
	sqlDB := d.Open(t)
	m, err := migrate.New(sqlDB, d.Backend.Driver)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate %s on %s: %v", d.Name, d.Backend.Name, err)
	}
	return sqlDB
}

// NewDatabase creates a fresh database on b, dropped when t ends.
func NewDatabase(t testing.TB, b Backend) Database {
	t.Helper()
	Require(t, b)
	if b.Driver == config.DriverSQLite {
		return Database{Backend: b, Name: filepath.Join(t.TempDir(), "test.db")}
	}
	name := fmt.Sprintf("sa_test_%s_%08x", sanitize(t.Name()), rand.Uint32())
	if len(name) > 60 {
		name = name[len(name)-60:]
		name = "t" + strings.TrimLeft(name, "_0123456789")
	}
	admin, err := adminDB(b)
	if err != nil {
		t.Fatalf("connect to %s: %v", b.Name, err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		t.Fatalf("create database %s on %s: %v", name, b.Name, err)
	}
	t.Cleanup(func() {
		defer func() { _ = admin.Close() }()
		stmt := "DROP DATABASE IF EXISTS " + name
		if b.Driver == config.DriverPostgres {
			stmt += " WITH (FORCE)"
		}
		if _, err := admin.ExecContext(context.Background(), stmt); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return Database{Backend: b, Name: name}
}

func sanitize(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		} else {
			sb.WriteRune('_')
		}
	}
	return sb.String()
}

// NewDolibarr creates a Dolibarr database with Dolibarr's own tables and the
// demo data: a SQLite file for the sqlite backend, a fresh database with
// Dolibarr's MySQL column types otherwise (MariaDB, when it answers; the
// Dolibarr of production is MySQL/MariaDB).
func NewDolibarr(t testing.TB, b Backend) Database {
	t.Helper()
	return NewDolibarrPrefixed(t, b, dolibarr.DefaultPrefix)
}

// NewDolibarrPrefixed is NewDolibarr with the table prefix prefix.
func NewDolibarrPrefixed(t testing.TB, b Backend, prefix string) Database {
	t.Helper()
	if b.Driver == config.DriverPostgres {
		b = SQLite
		if m := All()[1]; Reachable(m) {
			b = m
		}
	}
	d := NewDatabase(t, b)
	if b.Driver == config.DriverSQLite && prefix == dolibarr.DefaultPrefix {
		if err := dolibarr.EnsureDemo(context.Background(), d.Name); err != nil {
			t.Fatalf("seed dolibarr demo: %v", err)
		}
		return d
	}
	sqlDB := d.Open(t)
	if err := dolibarr.CreateAndSeed(context.Background(), sqlDB, b.Driver, prefix); err != nil {
		t.Fatalf("seed dolibarr on %s: %v", b.Name, err)
	}
	return d
}

// Config returns a validated configuration for the main database m and the
// Dolibarr database d, with the environment entries extra applied last.
func Config(t testing.TB, m, d Database, extra ...string) *config.Config {
	t.Helper()
	env := []string{
		"APP_ENV=development",
		"APP_DATA_DIR=" + t.TempDir(),
		"LOG_LEVEL=warn",
		"DEMO_SEED=false",
		"DOLIBARR_DEMO_SEED=false",
		// Tests send many requests from one address; the rate-limit tests
		// set their own limits.
		"RATE_LIMIT_IP_PER_MINUTE=0",
		"RATE_LIMIT_KEY_PER_MINUTE=0",
	}
	env = append(env, m.Env("DB")...)
	env = append(env, d.Env("DOLIBARR_DB")...)
	env = append(env, extra...)
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// Replica returns the MariaDB read replica of the MariaDB backend
// (TEST_MYSQL_REPLICA_ADDR, default 127.0.0.1:3307), started by
// scripts/services.sh; it replicates the databases named sa_rep*.
func Replica() Backend {
	b := MariaDB
	b.Name = "mariadb-replica"
	b.Host, b.Port = splitAddr(envOr("TEST_MYSQL_REPLICA_ADDR", "127.0.0.1:3307"))
	return b
}

// NewReplicatedDatabase creates a fresh database on the MariaDB primary that
// the replica replicates, waits until the replica has it, and drops it when
// t ends.
func NewReplicatedDatabase(t testing.TB) Database {
	t.Helper()
	primary, replica := All()[1], Replica()
	Require(t, primary)
	Require(t, replica)
	name := fmt.Sprintf("sa_rep_%08x", rand.Uint32())
	admin, err := adminDB(primary)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		_ = admin.Close()
	})
	radmin, err := adminDB(replica)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = radmin.Close() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := radmin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not receive database %s; is it replicating? (scripts/services.sh)", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return Database{Backend: primary, Name: name}
}

// ReplicaSQL runs statements on the replica as root (STOP SLAVE, START SLAVE).
func ReplicaSQL(t testing.TB, stmts ...string) {
	t.Helper()
	radmin, err := adminDB(Replica())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = radmin.Close() }()
	for _, s := range stmts {
		if _, err := radmin.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s on the replica: %v", s, err)
		}
	}
}

// RedisAddr is the test Redis (TEST_REDIS_ADDR, default 127.0.0.1:6379).
func RedisAddr() string { return envOr("TEST_REDIS_ADDR", "127.0.0.1:6379") }

// RequireRedis skips t (or fails it under REQUIRE_ALL_DATABASES=1) when the
// test Redis does not answer.
func RequireRedis(t testing.TB) {
	t.Helper()
	RequireTCP(t, "redis", RedisAddr())
}

// MemcachedAddr is the test memcached (TEST_MEMCACHED_ADDR, default 127.0.0.1:11211).
func MemcachedAddr() string { return envOr("TEST_MEMCACHED_ADDR", "127.0.0.1:11211") }

// RequireTCP skips t (or fails it under REQUIRE_ALL_DATABASES=1) when the
// service name does not answer at addr.
func RequireTCP(t testing.TB, name, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = conn.Close()
		return
	}
	msg := fmt.Sprintf("%s is not reachable at %s (%v): its suite is SKIPPED", name, addr, err)
	SkipOrFail(t, msg)
}
