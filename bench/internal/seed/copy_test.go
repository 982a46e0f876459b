package seed_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/bench/internal/seed"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestMainCopy: the bulk mode writes the same rows, sequences and indexes
// as the INSERT path, and refuses rows without their shipment.
func TestMainCopy(t *testing.T) {
	pgB := testutil.All()[2]
	testutil.Require(t, pgB)
	ctx := context.Background()
	customers := seed.GenerateCustomers(1, 50)
	data, err := seed.Generate(customers, seed.Options{Shipments: 200, Events: 1000, Files: 400, Years: 3})
	if err != nil {
		t.Fatal(err)
	}
	open := func() *sql.DB {
		db := testutil.NewDatabase(t, pgB).Open(t)
		if err := seed.Migrate(ctx, db, config.DriverPostgres); err != nil {
			t.Fatal(err)
		}
		return db
	}
	inserted, copied := open(), open()
	if err := seed.Main(ctx, inserted, true, data); err != nil {
		t.Fatal(err)
	}
	var steps int
	if err := seed.MainCopy(ctx, copied, data, func(string, time.Duration) { steps++ }); err != nil {
		t.Fatal(err)
	}
	if steps == 0 {
		t.Error("MainCopy reported no step")
	}
	for _, q := range []string{
		`SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM shipments t`,
		`SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM tracking_events t`,
		`SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM files t`,
		`SELECT value::text FROM sequences WHERE id = 'tracking_events'`,
		`SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes WHERE tablename IN ('shipments', 'tracking_events', 'files')`,
		`SELECT nextval(pg_get_serial_sequence('tracking_events', 'id'))::text`,
	} {
		var a, b string
		if err := inserted.QueryRowContext(ctx, q).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := copied.QueryRowContext(ctx, q).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a != b || a == "" {
			t.Errorf("%s:\nINSERT %s\nCOPY   %s", q, a, b)
		}
	}
	// An event of a shipment that is not there: the bulk check refuses it
	// (COPY itself does not check the foreign key).
	orphan := *data
	orphan.Events = append([]seed.Event(nil), data.Events...)
	orphan.Events[0].ShipmentID = 1_000_000
	if err := seed.MainCopy(ctx, open(), &orphan, nil); err == nil {
		t.Error("MainCopy wrote an event without its shipment")
	}
}
