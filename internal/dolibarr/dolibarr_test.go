package dolibarr_test

import (
	"context"
	"errors"
	"testing"

	"entgo.io/ent/dialect/sql"

	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestReadOnly proves that the application cannot write to Dolibarr through
// any path it has, even with a database user that could.
func TestReadOnly(t *testing.T) {
	for _, b := range []testutil.Backend{testutil.SQLite, testutil.All()[1]} {
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			d := testutil.NewDolibarr(t, b)
			ctx := context.Background()
			// A writable connection of the test's own, to check nothing changed.
			admin := d.Open(t)
			var before int
			if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM llx_societe").Scan(&before); err != nil {
				t.Fatal(err)
			}

			client, err := dolibarr.Open(ctx, config.Dolibarr{
				Connection: b.Driver, Host: b.Host, Port: b.Port, Database: d.Name,
				Username: b.User, Entity: 1,
			}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = client.Close() }()
			ec := client.Ent()

			writes := map[string]func() error{
				"create": func() error {
					_, err := ec.Customer.Create().SetName("Intruder").SetEntity(1).SetClient(1).SetStatus(1).Save(ctx)
					return err
				},
				"update one": func() error {
					_, err := ec.Customer.UpdateOneID(1).SetName("Renamed").Save(ctx)
					return err
				},
				"update many": func() error {
					_, err := ec.Customer.Update().Where(customer.IDGT(0)).SetName("Renamed").Save(ctx)
					return err
				},
				"delete": func() error {
					_, err := ec.Customer.Delete().Exec(ctx)
					return err
				},
				"country update": func() error {
					_, err := ec.Country.Update().SetLabel("x").Save(ctx)
					return err
				},
				"transaction": func() error {
					_, err := ec.Tx(ctx)
					return err
				},
				"transaction with options": func() error {
					_, err := ec.BeginTx(ctx, nil)
					return err
				},
			}
			for name, write := range writes {
				if err := write(); !errors.Is(err, dolibarr.ErrReadOnly) {
					t.Errorf("%s: err = %v, want ErrReadOnly", name, err)
				}
			}
			// The driver itself refuses anything but SELECT, whatever builds it.
			drv := client.Driver()
			if err := drv.Exec(ctx, "UPDATE llx_societe SET nom = 'x'", []any{}, nil); !errors.Is(err, dolibarr.ErrReadOnly) {
				t.Errorf("driver Exec: %v", err)
			}
			var rows sql.Rows
			if err := drv.Query(ctx, "DELETE FROM llx_societe", []any{}, &rows); !errors.Is(err, dolibarr.ErrReadOnly) {
				t.Errorf("driver Query(DELETE): %v", err)
			}
			if err := drv.Query(ctx, "  with x as (select 1) delete from llx_societe", []any{}, &rows); !errors.Is(err, dolibarr.ErrReadOnly) {
				t.Errorf("driver Query(WITH ... DELETE): %v", err)
			}

			// Reads still work, scoped to customers of entity 1 (with the
			// privacy rules opted out: there is no viewer here).
			n, err := client.Customers().Count(privacy.DecisionContext(ctx, privacy.Allow))
			if err != nil || n != 50 {
				t.Errorf("customers: %d, %v", n, err)
			}
			var after int
			var name string
			if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM llx_societe").Scan(&after); err != nil {
				t.Fatal(err)
			}
			if err := admin.QueryRowContext(ctx, "SELECT nom FROM llx_societe WHERE rowid = 1").Scan(&name); err != nil {
				t.Fatal(err)
			}
			if after != before || name != "Boulangerie Martin SARL" {
				t.Errorf("Dolibarr changed: %d rows (was %d), rowid 1 is %q", after, before, name)
			}
		})
	}
}

func TestSearchTerm(t *testing.T) {
	for in, want := range map[string]string{"  abc ": "abc", "": "", "Électricité": "Électricité"} {
		got, err := dolibarr.SearchTerm(in)
		if err != nil || got != want {
			t.Errorf("SearchTerm(%q) = %q, %v", in, got, err)
		}
	}
	long := make([]rune, 101)
	for i := range long {
		long[i] = 'é'
	}
	if _, err := dolibarr.SearchTerm(string(long)); err == nil {
		t.Error("101 runes accepted")
	}
}

func TestDDLMatchesDemo(t *testing.T) {
	for _, driver := range []string{config.DriverMySQL, config.DriverSQLite} {
		stmts, err := dolibarr.DDL(driver, "llx_")
		if err != nil || len(stmts) < 4 {
			t.Errorf("%s: %d statements, %v", driver, len(stmts), err)
		}
	}
	if _, err := dolibarr.DDL(config.DriverPostgres, "llx_"); err == nil {
		t.Error("pgsql DDL should not exist")
	}
}

// TestSeedDemoIfEmpty seeds an empty database once and never touches one
// that holds Dolibarr tables already (a second run, or a real Dolibarr).
func TestSeedDemoIfEmpty(t *testing.T) {
	for _, b := range []testutil.Backend{testutil.SQLite, testutil.All()[1]} {
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			ctx := context.Background()
			sqlDB := testutil.NewDatabase(t, b).Open(t)
			count := func() int {
				var n int
				if err := sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM llx_societe").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			seeded, err := dolibarr.SeedDemoIfEmpty(ctx, sqlDB, b.Driver, "llx_")
			if err != nil || !seeded {
				t.Fatalf("first run: seeded %v, %v", seeded, err)
			}
			want := len(dolibarr.DemoThirdParties())
			if n := count(); n != want {
				t.Fatalf("%d third parties, want %d", n, want)
			}
			// A row of someone else's: a second run must leave it, and everything, alone.
			if _, err := sqlDB.ExecContext(ctx, "DELETE FROM llx_societe WHERE rowid = 1"); err != nil {
				t.Fatal(err)
			}
			seeded, err = dolibarr.SeedDemoIfEmpty(ctx, sqlDB, b.Driver, "llx_")
			if err != nil || seeded {
				t.Fatalf("second run: seeded %v, %v", seeded, err)
			}
			if n := count(); n != want-1 {
				t.Errorf("second run changed the table: %d third parties, want %d", n, want-1)
			}
		})
	}
	if _, err := dolibarr.SeedDemoIfEmpty(context.Background(), nil, config.DriverPostgres, "llx_"); err == nil {
		t.Error("a PostgreSQL demo Dolibarr was accepted")
	}
}
