package dolibarr

import (
	"context"
	"database/sql"
	_ "embed" // DDL of the Dolibarr tables
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
)

//go:embed ddl/mysql.sql
var mysqlDDL string

//go:embed ddl/sqlite.sql
var sqliteDDL string

// DDL returns the statements that create the Dolibarr tables shipmentapp reads
// (Dolibarr's own column names and types) for a DB_CONNECTION driver, with
// the table prefix prefix. They serve the demo database, tests and deploy/;
// never a real Dolibarr.
func DDL(driver, prefix string) ([]string, error) {
	var src string
	switch driver {
	case config.DriverMySQL:
		src = mysqlDDL
	case config.DriverSQLite:
		src = sqliteDDL
	default:
		return nil, fmt.Errorf("dolibarr: no DDL for %q", driver)
	}
	// Comment lines go first: they may hold semicolons.
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	ddl := strings.ReplaceAll(strings.Join(lines, "\n"), DefaultPrefix, prefix)
	for _, stmt := range strings.Split(ddl, ";") {
		if s := strings.TrimSpace(stmt); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// EnsureDemo creates and seeds the demo Dolibarr SQLite database at path
// unless the file exists. It is the only code that writes a Dolibarr schema,
// and only to a file of its own.
func EnsureDemo(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dolibarr demo: %w", err)
	}
	tmp := path + ".seeding"
	_ = os.Remove(tmp)
	sqlDB, err := db.Open(ctx, db.Target{Driver: config.DriverSQLite, Database: tmp}, db.Pool{MaxOpen: 1})
	if err != nil {
		return fmt.Errorf("dolibarr demo: %w", err)
	}
	err = CreateAndSeed(ctx, sqlDB, config.DriverSQLite, DefaultPrefix)
	if _, cerr := sqlDB.ExecContext(ctx, "PRAGMA journal_mode=DELETE"); err == nil && cerr != nil {
		err = cerr
	}
	if cerr := sqlDB.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dolibarr demo: %w", err)
	}
	// Renamed into place only when complete, so a crash never leaves half a demo.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dolibarr demo: %w", err)
	}
	return nil
}

// CreateAndSeed creates the Dolibarr tables (with table prefix prefix) on a
// writable connection and fills them with the demo data set. Tests use it on
// a database of their own.
func CreateAndSeed(ctx context.Context, sqlDB *sql.DB, driver, prefix string) error {
	stmts, err := DDL(driver, prefix)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := sqlDB.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create dolibarr tables: %w", err)
		}
	}
	return Seed(ctx, sqlDB, prefix)
}

// SeedDemoIfEmpty creates and seeds the demo tables on a writable connection
// unless the third-party table (with prefix prefix) exists already: it never
// touches a database that holds Dolibarr tables, demo or real. It reports
// whether it seeded. deploy/'s demo Dolibarr database is made with it.
func SeedDemoIfEmpty(ctx context.Context, sqlDB *sql.DB, driver, prefix string) (bool, error) {
	var exists bool
	var q string
	switch driver {
	case config.DriverMySQL:
		q = `SELECT COUNT(*) > 0 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`
	case config.DriverSQLite:
		q = `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`
	default:
		return false, fmt.Errorf("dolibarr: no demo database on %q (mysql or sqlite)", driver)
	}
	if err := sqlDB.QueryRowContext(ctx, q, prefix+"societe").Scan(&exists); err != nil {
		return false, fmt.Errorf("look for %ssociete: %w", prefix, err)
	}
	if exists {
		return false, nil
	}
	return true, CreateAndSeed(ctx, sqlDB, driver, prefix)
}

// Seed inserts the demo countries, shipping methods, third parties and
// contacts into tables with prefix prefix.
func Seed(ctx context.Context, sqlDB *sql.DB, prefix string) error {
	table := func(name string) string { return prefix + name }
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed dolibarr: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, c := range DemoCountries {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO `+table("c_country")+` (rowid, code, code_iso, label, eec, active) VALUES (?, ?, ?, ?, ?, 1)`,
			c.ID, c.Code, nullable(c.CodeISO), c.Label, c.EEC); err != nil {
			return fmt.Errorf("seed country %s: %w", c.Code, err)
		}
	}
	for _, m := range demoShipmentModes {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO `+table("c_shipment_mode")+` (code, libelle, tracking, active) VALUES (?, ?, ?, 1)`,
			m[0], m[1], m[2]); err != nil {
			return fmt.Errorf("seed shipment mode %s: %w", m[0], err)
		}
	}
	created := time.Date(2023, 1, 9, 9, 30, 0, 0, time.UTC)
	for i, t := range DemoThirdParties() {
		_, err := tx.ExecContext(ctx, `INSERT INTO `+table("societe")+`
			(rowid, nom, name_alias, entity, status, client, fournisseur, code_client, address, zip, town, fk_pays,
			 phone, email, url, tva_intra, fk_shipping_method, datec, tms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			i+1, t.Name, nullable(t.Alias), t.Entity, t.Status, t.Client, t.Supplier, nullable(t.Code),
			t.Address, t.Zip, t.Town, t.CountryID, t.Phone, t.Email, nullable(t.URL), nullable(t.VAT),
			nullableInt(t.ShippingMethodID),
			created.Add(time.Duration(i)*73*time.Hour), created.Add(time.Duration(i)*97*time.Hour))
		if err != nil {
			return fmt.Errorf("seed third party %q: %w", t.Name, err)
		}
	}
	for _, c := range DemoContacts() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table("socpeople")+`
			(fk_soc, entity, civility, lastname, firstname, poste, email, phone, phone_mobile, priv, statut, datec)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.CustomerID, c.Entity, nullable(c.Civility), c.LastName, c.FirstName, nullable(c.JobTitle),
			nullable(c.Email), nullable(c.Phone), nullable(c.Mobile), c.Private, c.Status, created); err != nil {
			return fmt.Errorf("seed contact %s: %w", c.LastName, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed dolibarr: %w", err)
	}
	return nil
}

func nullableInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
