package seed

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
)

// PostgresDSN names the database of a postgres:// URL and returns the URL of
// the same server's admin database (postgres) and one with timezone=UTC.
func PostgresDSN(dsn string) (name, admin, normalized string, err error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", "", fmt.Errorf("-pg: want a postgres:// URL, got %q", dsn)
	}
	name = strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", "", "", fmt.Errorf("-pg: the URL names no database")
	}
	q := u.Query()
	q.Set("timezone", "UTC")
	u.RawQuery = q.Encode()
	normalized = u.String()
	u.Path = "/postgres"
	return name, u.String(), normalized, nil
}

// MySQLDSN does the same for a go-sql-driver DSN; normalized parses times
// and talks UTC, as internal/db does.
func MySQLDSN(dsn string) (name, admin, normalized string, err error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", "", "", fmt.Errorf("mysql DSN %q: %w", dsn, err)
	}
	if c.DBName == "" {
		return "", "", "", fmt.Errorf("mysql DSN %q names no database", dsn)
	}
	name = c.DBName
	c.ParseTime = true
	c.Loc = time.UTC
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["time_zone"] = "'+00:00'"
	c.MaxAllowedPacket = 0
	normalized = c.FormatDSN()
	c.DBName = ""
	return name, c.FormatDSN(), normalized, nil
}

// Recreate drops and creates the database name through the admin DSN.
func Recreate(ctx context.Context, driverName, admin, name string) error {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("database name %q: only letters, digits and _", name)
		}
	}
	a, err := sql.Open(driverName, admin)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	drop := "DROP DATABASE IF EXISTS " + name
	if driverName == "pgx" {
		drop += " WITH (FORCE)"
	}
	if _, err := a.ExecContext(ctx, drop); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	create := "CREATE DATABASE " + name
	if driverName == "mysql" {
		create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	}
	if _, err := a.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}

// Migrate applies the app's migrations to the main database (what
// `shipmentapp migrate up` does). driver is a DB_CONNECTION name.
func Migrate(ctx context.Context, sqlDB *sql.DB, driver string) error {
	m, err := migrate.New(sqlDB, driver)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx)
	return err
}

// Dolibarr creates the Dolibarr tables with the demo data
// (dolibarr.CreateAndSeed) and adds generated customers until there are
// total visible customers. It returns the visible customers.
func Dolibarr(ctx context.Context, sqlDB *sql.DB, total int) ([]Customer, error) {
	if err := dolibarr.CreateAndSeed(ctx, sqlDB, config.DriverMySQL, dolibarr.DefaultPrefix); err != nil {
		return nil, err
	}
	demo := DemoCustomers()
	var maxID int
	if err := sqlDB.QueryRowContext(ctx, "SELECT COALESCE(MAX(rowid), 0) FROM llx_societe").Scan(&maxID); err != nil {
		return nil, err
	}
	gen := GenerateCustomers(maxID+1, max(0, total-len(demo)))
	created := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC)
	cols := []string{"rowid", "nom", "entity", "status", "client", "fournisseur", "code_client", "address", "zip", "town", "fk_pays", "phone", "email", "datec", "tms"}
	rows := make([][]any, len(gen))
	for i, c := range gen {
		at := created.Add(time.Duration(i) * 97 * time.Minute)
		rows[i] = []any{c.ID, c.Name, 1, 1, 1, 0, c.Code, c.Address, c.Zip, c.Town, c.CountryID, c.Phone, c.Email, at, at}
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	if err := insertRows(ctx, tx, false, "llx_societe", cols, rows); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return append(demo, gen...), nil
}

// Main writes d to the migrated main database in one transaction. postgres
// selects $n placeholders and resets the identity sequences.
func Main(ctx context.Context, sqlDB *sql.DB, postgres bool, d *Data) error {
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	rows := make([][]any, len(d.Shipments))
	for i := range d.Shipments {
		rows[i] = shipmentRow(&d.Shipments[i])
	}
	if err := insertRows(ctx, tx, postgres, "shipments", shipmentColumns, rows); err != nil {
		return err
	}
	rows = make([][]any, len(d.Events))
	for i := range d.Events {
		rows[i] = eventRow(&d.Events[i])
	}
	if err := insertRows(ctx, tx, postgres, "tracking_events", eventColumns, rows); err != nil {
		return err
	}
	rows = make([][]any, len(d.Files))
	for i := range d.Files {
		rows[i] = fileRow(&d.Files[i])
	}
	if err := insertRows(ctx, tx, postgres, "files", fileColumns, rows); err != nil {
		return err
	}
	update := "UPDATE sequences SET value = ? WHERE id = 'tracking_events'"
	if postgres {
		update = "UPDATE sequences SET value = $1 WHERE id = 'tracking_events'"
	}
	if _, err := tx.ExecContext(ctx, update, int64(len(d.Events))); err != nil {
		return fmt.Errorf("set the tracking_events sequence: %w", err)
	}
	if postgres {
		for _, t := range []string{"shipments", "tracking_events", "files"} {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(
				`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), COALESCE((SELECT MAX(id) FROM %[1]s), 0) + 1, false)`, t)); err != nil {
				return fmt.Errorf("reset %s identity: %w", t, err)
			}
		}
	}
	return tx.Commit()
}

// Peer writes the peer schema of PostgreSQL: the visible customers and the
// countries as plain tables (what PostGraphile reads instead of Dolibarr).
func Peer(ctx context.Context, pg *sql.DB, customers []Customer) error {
	tx, err := pg.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range []string{
		`DROP SCHEMA IF EXISTS peer CASCADE`,
		`CREATE SCHEMA peer`,
		`CREATE TABLE peer.countries (id int PRIMARY KEY, code text, label text)`,
		`CREATE TABLE peer.customers (id bigint PRIMARY KEY, name text, country_id int REFERENCES peer.countries)`,
		`CREATE INDEX ON peer.customers (country_id)`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("peer schema: %w", err)
		}
	}
	var rows [][]any
	for _, c := range dolibarr.DemoCountries {
		rows = append(rows, []any{c.ID, c.Code, c.Label})
	}
	if err := insertRows(ctx, tx, true, "peer.countries", []string{"id", "code", "label"}, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, c := range customers {
		var country any
		if c.CountryID != 0 {
			country = c.CountryID
		}
		rows = append(rows, []any{c.ID, c.Name, country})
	}
	if err := insertRows(ctx, tx, true, "peer.customers", []string{"id", "name", "country_id"}, rows); err != nil {
		return err
	}
	return tx.Commit()
}

// CreateKey creates an ADMIN API key with the app's own auth.Keys and
// returns its secret.
func CreateKey(ctx context.Context, sqlDB *sql.DB, driver string) (string, error) {
	client := ent.NewClient(ent.Driver(db.Driver(sqlDB, driver)))
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	_, secret, err := auth.NewKeys(client).Create(ctx, auth.CreateInput{Name: "benchmark", Role: auth.RoleAdmin, CreatedBy: Actor})
	return secret, err
}

// Analyze refreshes the planner statistics of tables.
func Analyze(ctx context.Context, sqlDB *sql.DB, postgres bool, tables ...string) error {
	stmt := "ANALYZE TABLE " + strings.Join(tables, ", ")
	if postgres {
		stmt = "ANALYZE " + strings.Join(tables, ", ")
	}
	_, err := sqlDB.ExecContext(ctx, stmt)
	return err
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertRows inserts rows with multi-row INSERTs of up to 20,000 parameters.
func insertRows(ctx context.Context, tx execer, postgres bool, table string, cols []string, rows [][]any) error {
	per := max(1, 20000/len(cols))
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(len(rows), start+per)]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(batch)*len(cols))
		for i, r := range batch {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := range cols {
				if j > 0 {
					sb.WriteString(", ")
				}
				if postgres {
					fmt.Fprintf(&sb, "$%d", len(args)+1)
				} else {
					sb.WriteByte('?')
				}
				args = append(args, r[j])
			}
			sb.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}
