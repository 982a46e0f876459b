// Package migrate applies the embedded versioned migrations (migrations/) to
// the main database with goose, and knows which Ent tables are ours: the
// Dolibarr tables are mapped by Ent but never migrated.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"

	entschema "entgo.io/ent/dialect/sql/schema"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	entmigrate "github.com/shipmentapp/shipmentapp/ent/migrate"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/migrations"
)

// DolibarrTablePrefix marks the Ent tables that live in Dolibarr.
const DolibarrTablePrefix = "llx_"

// OwnedTables returns the Ent tables of the main database, the ones the
// migrations create.
func OwnedTables() []*entschema.Table {
	var out []*entschema.Table
	for _, t := range entmigrate.Tables {
		if !strings.HasPrefix(t.Name, DolibarrTablePrefix) {
			out = append(out, t)
		}
	}
	return out
}

// Dir returns the migrations directory of a DB_CONNECTION driver.
func Dir(driver string) (string, error) {
	switch driver {
	case config.DriverSQLite:
		return "sqlite", nil
	case config.DriverMySQL:
		return "mysql", nil
	case config.DriverPostgres:
		return "postgres", nil
	}
	return "", fmt.Errorf("migrate: unsupported driver %q", driver)
}

// Migrator applies the migrations of one dialect to one database.
type Migrator struct {
	p *goose.Provider
}

// New returns a Migrator for the open database sqlDB of the given driver.
func New(sqlDB *sql.DB, driver string) (*Migrator, error) {
	dir, err := Dir(driver)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	var d goose.Dialect
	switch driver {
	case config.DriverSQLite:
		d = goose.DialectSQLite3
	case config.DriverMySQL:
		d = goose.DialectMySQL
	case config.DriverPostgres:
		d = goose.DialectPostgres
		// Several instances may run `migrate up` at once during a rollout.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(d, sqlDB, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Result is one applied (or reverted) migration.
type Result struct {
	Version int64
	Name    string
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]Result, error) {
	res, err := m.p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	return results(res), nil
}

// UpTo applies the pending migrations up to and including version: a test
// writes rows in the shape of an older schema, then migrates the rest.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]Result, error) {
	res, err := m.p.UpTo(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("migrate up to %d: %w", version, err)
	}
	return results(res), nil
}

// Down reverts the last applied migration.
func (m *Migrator) Down(ctx context.Context) (Result, error) {
	res, err := m.p.Down(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrate down: %w", err)
	}
	return results([]*goose.MigrationResult{res})[0], nil
}

// Reset reverts every applied migration.
func (m *Migrator) Reset(ctx context.Context) ([]Result, error) {
	res, err := m.p.DownTo(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("migrate reset: %w", err)
	}
	return results(res), nil
}

// Status is the state of one migration.
type Status struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	st, err := m.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{
			Version: s.Source.Version,
			Name:    baseName(s.Source.Path),
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// Pending returns the migrations not applied yet.
func (m *Migrator) Pending(ctx context.Context) ([]Status, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, s := range st {
		if !s.Applied {
			out = append(out, s)
		}
	}
	return out, nil
}

// ErrPending is returned by CheckCurrent when migrations are pending.
type ErrPending struct {
	Pending []Status
}

func (e *ErrPending) Error() string {
	names := make([]string, len(e.Pending))
	for i, p := range e.Pending {
		names[i] = p.Name
	}
	return fmt.Sprintf("%d pending migration(s): %s; run `shipmentapp migrate up`", len(e.Pending), strings.Join(names, ", "))
}

// CheckCurrent returns *ErrPending if any migration is not applied.
func (m *Migrator) CheckCurrent(ctx context.Context) error {
	p, err := m.Pending(ctx)
	if err != nil {
		return err
	}
	if len(p) > 0 {
		return &ErrPending{Pending: p}
	}
	return nil
}

func results(in []*goose.MigrationResult) []Result {
	out := make([]Result, 0, len(in))
	for _, r := range in {
		if r == nil || r.Source == nil {
			continue
		}
		out = append(out, Result{Version: r.Source.Version, Name: baseName(r.Source.Path)})
	}
	return out
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
