// Package db opens the SQL databases of shipmentapp (SQLite, MySQL/MariaDB,
// PostgreSQL) with one set of options and wraps them for Ent.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"

	"github.com/shipmentapp/shipmentapp/internal/config"
)

func init() {
	// Ent's SQLite dialect opens the driver name "sqlite3": serve it with the
	// pure-Go modernc driver so the binary builds with CGO_ENABLED=0.
	sql.Register("sqlite3", &sqlite.Driver{})
}

// Target names one database server and database.
type Target struct {
	Driver   string // config.DriverMySQL, config.DriverPostgres or config.DriverSQLite
	Host     string
	Port     int
	Database string // the file for SQLite
	Username string
	Password string
	SSLMode  string
	// Timeout, when set, bounds connecting and each network read and write
	// (MySQL), or connecting (PostgreSQL).
	Timeout time.Duration
	// ReadOnly opens SQLite files read-only and PostgreSQL sessions with
	// default_transaction_read_only; MySQL relies on the caller's write refusal
	// and the database user's grants.
	ReadOnly bool
}

// Pool configures the connection pool.
type Pool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	// Tracing, when set, spans every statement (OpenTelemetry).
	Tracing trace.TracerProvider
}

// open is sql.Open, traced when p says so.
func (p Pool) open(driverName, dsn, system string) (*sql.DB, error) {
	if p.Tracing == nil {
		return sql.Open(driverName, dsn)
	}
	return otelsql.Open(driverName, dsn,
		otelsql.WithTracerProvider(p.Tracing),
		otelsql.WithAttributes(attribute.String("db.system.name", system)),
		otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitRows: true, OmitConnPrepare: true}))
}

// Dialect returns Ent's dialect name for a DB_CONNECTION driver.
func Dialect(driver string) string {
	switch driver {
	case config.DriverMySQL:
		return dialect.MySQL
	case config.DriverPostgres:
		return dialect.Postgres
	default:
		return dialect.SQLite
	}
}

// DSN returns the database/sql driver name and data source name for t.
func DSN(t Target) (driverName, dsn string, err error) {
	switch t.Driver {
	case config.DriverSQLite:
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Set("_time_format", "sqlite")
		q.Set("_txlock", "immediate")
		if t.ReadOnly {
			q.Set("mode", "ro")
		} else {
			q.Add("_pragma", "journal_mode(WAL)")
			q.Add("_pragma", "synchronous(NORMAL)")
		}
		return "sqlite3", "file:" + filepath.ToSlash(t.Database) + "?" + q.Encode(), nil
	case config.DriverMySQL:
		c := mysql.NewConfig()
		c.User = t.Username
		c.Passwd = t.Password
		c.Net = "tcp"
		c.Addr = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
		c.DBName = t.Database
		c.ParseTime = true
		c.Loc = time.UTC
		c.Timeout = 5 * time.Second
		c.ReadTimeout = 60 * time.Second
		c.WriteTimeout = 60 * time.Second
		c.Params = map[string]string{"time_zone": "'+00:00'"}
		if t.Timeout > 0 {
			c.Timeout, c.ReadTimeout, c.WriteTimeout = t.Timeout, t.Timeout, t.Timeout
		}
		// Read-only targets (Dolibarr) send each statement with its
		// parameters inlined by the driver: one round trip instead of
		// prepare, execute and close. Not for writes: MySQL 8 refuses JSON
		// columns from the binary strings interpolation makes of []byte.
		c.InterpolateParams = t.ReadOnly
		return "mysql", c.FormatDSN(), nil
	case config.DriverPostgres:
		u := url.URL{
			Scheme: "postgres",
			User:   url.UserPassword(t.Username, t.Password),
			Host:   net.JoinHostPort(t.Host, strconv.Itoa(t.Port)),
			Path:   "/" + t.Database,
		}
		q := url.Values{}
		if t.SSLMode != "" {
			q.Set("sslmode", t.SSLMode)
		}
		q.Set("connect_timeout", "5")
		if t.Timeout > 0 {
			q.Set("connect_timeout", strconv.Itoa(max(1, int(t.Timeout/time.Second))))
		}
		q.Set("timezone", "UTC")
		if t.ReadOnly {
			q.Set("default_transaction_read_only", "on")
		}
		u.RawQuery = q.Encode()
		return "pgx", u.String(), nil
	}
	return "", "", fmt.Errorf("unsupported database driver %q", t.Driver)
}

// OpenLazy opens the database t without connecting: a replica that is down at
// start must not stop the service, it just stays out of the read path.
func OpenLazy(t Target, p Pool) (*sql.DB, error) {
	driverName, dsn, err := DSN(t)
	if err != nil {
		return nil, err
	}
	sqlDB, err := p.open(driverName, dsn, t.Driver)
	if err != nil {
		return nil, fmt.Errorf("open %s database %s: %w", t.Driver, describe(t), err)
	}
	p.apply(sqlDB)
	return sqlDB, nil
}

func (p Pool) apply(sqlDB *sql.DB) {
	if p.MaxOpen > 0 {
		sqlDB.SetMaxOpenConns(p.MaxOpen)
	}
	sqlDB.SetMaxIdleConns(p.MaxIdle)
	sqlDB.SetConnMaxLifetime(p.MaxLifetime)
	// Idle connections are kept for the next burst, not for ever: a pool
	// shrinks back within minutes after one.
	sqlDB.SetConnMaxIdleTime(connMaxIdleTime)
}

// connMaxIdleTime is how long a connection may stay idle in a pool.
const connMaxIdleTime = 5 * time.Minute

// Open opens and pings the database t.
func Open(ctx context.Context, t Target, p Pool) (*sql.DB, error) {
	driverName, dsn, err := DSN(t)
	if err != nil {
		return nil, err
	}
	if t.Driver == config.DriverSQLite && !t.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(t.Database), 0o750); err != nil {
			return nil, fmt.Errorf("create directory for %s: %w", t.Database, err)
		}
	}
	sqlDB, err := p.open(driverName, dsn, t.Driver)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", t.Driver, err)
	}
	p.apply(sqlDB)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", t.Driver, describe(t), err)
	}
	return sqlDB, nil
}

// Driver wraps an open database as an Ent driver.
func Driver(sqlDB *sql.DB, driver string) *entsql.Driver {
	return entsql.OpenDB(Dialect(driver), sqlDB)
}

// MainTarget returns the target of the main database in cfg.
func MainTarget(c config.Database) Target {
	return Target{Driver: c.Connection, Host: c.Host, Port: c.Port, Database: c.Database,
		Username: c.Username, Password: c.Password, SSLMode: c.SSLMode}
}

// ReplicaTargets returns the targets of the read replicas in c.
func ReplicaTargets(c config.Database) ([]Target, error) {
	reps, err := c.Replicas()
	if err != nil {
		return nil, err
	}
	out := make([]Target, 0, len(reps))
	for _, r := range reps {
		out = append(out, Target{Driver: c.Connection, Host: r.Host, Port: r.Port, Database: c.Database,
			Username: c.ReadUsername, Password: c.ReadPassword, SSLMode: c.SSLMode})
	}
	return out, nil
}

// Name returns "host:port" (or the file) of t, for logs and metrics.
func (t Target) Name() string {
	if t.Driver == config.DriverSQLite {
		return t.Database
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// MainPool returns the pool settings of the main database in cfg.
func MainPool(c config.Database) Pool {
	return Pool{MaxOpen: c.MaxOpenConns, MaxIdle: c.MaxIdleConns, MaxLifetime: c.ConnMaxLifetime}
}

// describe names a target for error messages without its password.
func describe(t Target) string {
	if t.Driver == config.DriverSQLite {
		return t.Database
	}
	return fmt.Sprintf("%s@%s/%s", t.Username, net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), t.Database)
}
