package migrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// diffMu serializes schema diffs: Ent's Atlas integration writes to the
// package-level table definitions while it plans.
var diffMu sync.Mutex

// assertNoDrift fails if the Ent schema differs from the database's.
func assertNoDrift(t *testing.T, d testutil.Database) {
	t.Helper()
	diffMu.Lock()
	defer diffMu.Unlock()
	sqlDB := d.Open(t)
	dir := &atlasmigrate.MemDir{}
	m, err := entschema.NewMigrate(db.Driver(sqlDB, d.Backend.Driver),
		entschema.WithDir(dir),
		entschema.WithDialect(db.Dialect(d.Backend.Driver)),
		entschema.WithDropColumn(true),
		entschema.WithDropIndex(true),
		entschema.WithErrNoPlan(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = m.NamedDiff(context.Background(), "drift", migrate.OwnedTables()...)
	if errors.Is(err, atlasmigrate.ErrNoPlan) {
		return
	}
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	files, _ := dir.Files()
	for _, f := range files {
		t.Errorf("the migrations differ from the Ent schema; `make migrate-diff NAME=...` would write %s:\n%s", f.Name(), f.Bytes())
	}
}

func tables(t *testing.T, d testutil.Database) int {
	t.Helper()
	sqlDB := d.Open(t)
	q := map[string]string{
		"sqlite": `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('shipments', 'tracking_events')`,
		"mysql":  `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('shipments', 'tracking_events')`,
		"pgsql":  `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('shipments', 'tracking_events')`,
	}[d.Backend.Driver]
	var n int
	if err := sqlDB.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrations(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			d := testutil.NewDatabase(t, b)
			ctx := context.Background()
			m, err := migrate.New(d.Open(t), b.Driver)
			if err != nil {
				t.Fatal(err)
			}
			pending, err := m.Pending(ctx)
			if err != nil || len(pending) == 0 {
				t.Fatalf("pending on an empty database: %v, %v", pending, err)
			}
			var perr *migrate.ErrPending
			if err := m.CheckCurrent(ctx); !errors.As(err, &perr) {
				t.Fatalf("CheckCurrent on an empty database: %v", err)
			}

			// Up on an empty database gives exactly Ent's schema.
			applied, err := m.Up(ctx)
			if err != nil || len(applied) != len(pending) {
				t.Fatalf("up: %v, %v", applied, err)
			}
			assertNoDrift(t, d)
			if err := m.CheckCurrent(ctx); err != nil {
				t.Fatalf("after up: %v", err)
			}
			if again, err := m.Up(ctx); err != nil || len(again) != 0 {
				t.Fatalf("second up: %v, %v", again, err)
			}

			// Down to nothing, then up again, round-trips.
			if _, err := m.Reset(ctx); err != nil {
				t.Fatalf("down: %v", err)
			}
			if n := tables(t, d); n != 0 {
				t.Fatalf("%d tables left after down", n)
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatalf("up after down: %v", err)
			}
			assertNoDrift(t, d)
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range st {
				if !s.Applied {
					t.Errorf("%s not applied", s.Name)
				}
			}
			// One step down reverts exactly the last migration.
			last, err := m.Down(ctx)
			if err != nil || last.Name != st[len(st)-1].Name {
				t.Fatalf("down one: %v, %v", last, err)
			}
		})
	}
}

func TestOwnedTablesExcludeDolibarr(t *testing.T) {
	for _, tb := range migrate.OwnedTables() {
		if tb.Name == "llx_societe" || tb.Name == "llx_c_country" {
			t.Errorf("Dolibarr table %s would be migrated", tb.Name)
		}
	}
	var names []string
	for _, tb := range migrate.OwnedTables() {
		names = append(names, tb.Name)
	}
	if strings.Join(names, ",") != "api_keys,files,persisted_queries,replication_heartbeat,sequences,shipments,tracking_events,webhook_attempts,webhook_deliveries,webhook_endpoints" {
		t.Errorf("owned tables: %v", names)
	}
}
