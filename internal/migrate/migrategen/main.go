// Command migrategen writes a new versioned migration for every dialect from
// the Ent schema: it replays the existing migrations on a scratch development
// database (in-memory SQLite, and fresh databases on the local MariaDB and
// PostgreSQL) and diffs the result against the schema. Run through
// `make migrate-diff NAME=add_something`.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	appmigrate "github.com/shipmentapp/shipmentapp/internal/migrate"
)

func main() {
	name := flag.String("name", "", "migration name (required)")
	only := flag.String("dialect", "", "only this DB_CONNECTION driver (sqlite, mysql, pgsql)")
	mysqlDSN := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MariaDB/MySQL server used as a scratch dev database")
	pgDSN := flag.String("pgsql", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server used as a scratch dev database")
	rehash := flag.Bool("rehash", false, "only rewrite every dialect's atlas.sum (after editing a generated migration by hand)")
	flag.Parse()
	if *rehash {
		if err := rehashAll(); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *name == "" {
		log.Fatal("-name is required")
	}
	ctx := context.Background()
	for _, driver := range []string{config.DriverSQLite, config.DriverMySQL, config.DriverPostgres} {
		if *only != "" && *only != driver {
			continue
		}
		if err := generate(ctx, driver, *name, *mysqlDSN, *pgDSN); err != nil {
			log.Fatalf("%s: %v", driver, err)
		}
	}
}

func generate(ctx context.Context, driver, name, mysqlDSN, pgDSN string) error {
	sqlDB, cleanup, err := scratch(ctx, driver, mysqlDSN, pgDSN)
	if err != nil {
		return err
	}
	defer cleanup()
	dir, err := migrationsDir(driver)
	if err != nil {
		return err
	}
	m, err := entschema.NewMigrate(db.Driver(sqlDB, driver),
		entschema.WithDir(dir),
		entschema.WithMigrationMode(entschema.ModeReplay),
		entschema.WithFormatter(sqltool.GooseFormatter),
		entschema.WithDialect(db.Dialect(driver)),
		entschema.WithDropColumn(true),
		entschema.WithDropIndex(true),
		entschema.WithErrNoPlan(true),
	)
	if err != nil {
		return err
	}
	err = m.NamedDiff(ctx, name, appmigrate.OwnedTables()...)
	if errors.Is(err, migrate.ErrNoPlan) {
		fmt.Printf("%s: no changes\n", driver)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Printf("%s: wrote a migration in %s\n", driver, dir.Path())
	return nil
}

// migrationsDir is the migrations folder of a DB_CONNECTION driver.
func migrationsDir(driver string) (*sqltool.GooseDir, error) {
	sub, err := appmigrate.Dir(driver)
	if err != nil {
		return nil, err
	}
	return sqltool.NewGooseDir(filepath.Join("migrations", sub))
}

// rehashAll rewrites the checksum file of every dialect's migrations.
func rehashAll() error {
	for _, driver := range []string{config.DriverSQLite, config.DriverMySQL, config.DriverPostgres} {
		dir, err := migrationsDir(driver)
		if err != nil {
			return err
		}
		sum, err := dir.Checksum()
		if err != nil {
			return fmt.Errorf("%s: checksum: %w", driver, err)
		}
		if err := migrate.WriteSumFile(dir, sum); err != nil {
			return fmt.Errorf("%s: write atlas.sum: %w", driver, err)
		}
	}
	return nil
}

// scratch opens an empty development database for driver and returns a
// function that drops it.
func scratch(ctx context.Context, driver, mysqlDSN, pgDSN string) (*sql.DB, func(), error) {
	switch driver {
	case config.DriverSQLite:
		sqlDB, err := sql.Open("sqlite3", "file:dev?mode=memory&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, nil, err
		}
		sqlDB.SetMaxOpenConns(1)
		return sqlDB, func() { _ = sqlDB.Close() }, nil
	}
	dbName := fmt.Sprintf("shipmentapp_dev_%d", rand.Uint32())
	var (
		adminDriver, adminDSN, dsn string
	)
	switch driver {
	case config.DriverMySQL:
		adminDriver, adminDSN, dsn = "mysql", mysqlDSN, mysqlDSN+dbName+"?parseTime=true"
	case config.DriverPostgres:
		adminDriver, adminDSN = "pgx", pgDSN
		dsn = "postgres://postgres@127.0.0.1:5432/" + dbName + "?sslmode=disable"
	}
	admin, err := sql.Open(adminDriver, adminDSN)
	if err != nil {
		return nil, nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbName); err != nil {
		return nil, nil, fmt.Errorf("create scratch database: %w", err)
	}
	sqlDB, err := sql.Open(adminDriver, dsn)
	if err != nil {
		return nil, nil, err
	}
	return sqlDB, func() {
		_ = sqlDB.Close()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE "+dbName)
		_ = admin.Close()
	}, nil
}
