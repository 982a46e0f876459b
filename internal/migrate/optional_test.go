package migrate_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestMigrationOptionalTextNull writes rows the way they could be written
// before optional fields were null (blank columns, blank keys in the address
// and location JSON), migrates up and reads them back through Ent: every
// blank optional value is absent, every other value is untouched.
func TestMigrationOptionalTextNull(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sqlDB, m := migratedUpToBefore(t, b, "_optional_text_null.sql")
			const at = "2026-01-02 03:04:05"
			rows := []string{
				`INSERT INTO shipments (id, reference, customer_id, status, carrier, service_level, tracking_number, origin, destination, parcels, cancel_reason, version, created_at, updated_at, created_by, updated_by)
				VALUES (1, 'OLD-1', 1, 'CANCELLED', 'UPS', '', '', '{"name":"A","company":"","line1":"1 a","line2":" ","city":"Lyon","region":"","postalCode":"69001","countryCode":"FR","phone":"","email":""}',
				'{"name":"B","company":"ACME","line1":"2 b","city":"Köln","postalCode":"50667","countryCode":"DE","phone":"+49 1"}', '[]', '', 2, '` + at + `', '` + at + `', 'test', 'test')`,
				`INSERT INTO shipments (id, reference, customer_id, status, carrier, service_level, tracking_number, origin, destination, parcels, cancel_reason, version, created_at, updated_at, created_by, updated_by)
				VALUES (2, 'OLD-2', 1, 'DRAFT', 'UPS', 'Express', '1Z1', '{"name":"A","line1":"1 a","city":"Lyon","postalCode":"69001","countryCode":"FR"}', '{"name":"B","line1":"2 b","city":"Köln","postalCode":"50667","countryCode":"DE"}', '[]', NULL, 1, '` + at + `', '` + at + `', 'test', 'test')`,
				`INSERT INTO tracking_events (id, seq, status, occurred_at, description, location, source, created_at, created_by, shipment_id)
				VALUES (1, 1, 'LABEL_CREATED', '` + at + `', '', '{"city":"","region":"","postalCode":"","countryCode":""}', 'api', '` + at + `', 'test', 1)`,
				`INSERT INTO tracking_events (id, seq, status, occurred_at, description, location, source, created_at, created_by, shipment_id)
				VALUES (2, 2, 'CANCELLED', '` + at + `', 'Shipment cancelled', '{"city":"Paris","region":"","countryCode":"FR"}', 'system', '` + at + `', 'test', 1)`,
				`INSERT INTO tracking_events (id, seq, status, occurred_at, description, location, source, created_at, created_by, shipment_id)
				VALUES (3, 3, 'LABEL_CREATED', '` + at + `', NULL, '{}', 'api', '` + at + `', 'test', 2)`,
			}
			for _, r := range rows {
				if _, err := sqlDB.ExecContext(ctx, r); err != nil {
					t.Fatalf("%s: %v", r, err)
				}
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}

			client := ent.NewClient(ent.Driver(db.Driver(sqlDB, b.Driver)))
			rctx := privacy.DecisionContext(ctx, privacy.Allow)
			s1, err := client.Shipment.Get(rctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := client.Shipment.Get(rctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			events, err := client.TrackingEvent.Query().Order(trackingevent.ByID()).All(rctx)
			if err != nil || len(events) != 3 {
				t.Fatalf("events: %v, %v", events, err)
			}
			text := func(s string) *string { return &s }
			for _, c := range []struct {
				name      string
				got, want *string
			}{
				{"serviceLevel ''", s1.ServiceLevel, nil},
				{"trackingNumber ''", s1.TrackingNumber, nil},
				{"cancelReason ''", s1.CancelReason, nil},
				{"origin.company ''", s1.Origin.Company, nil},
				{"origin.line2 ' '", s1.Origin.Line2, nil},
				{"origin.region ''", s1.Origin.Region, nil},
				{"origin.phone ''", s1.Origin.Phone, nil},
				{"origin.email ''", s1.Origin.Email, nil},
				{"destination.company kept", s1.Destination.Company, text("ACME")},
				{"destination.phone kept", s1.Destination.Phone, text("+49 1")},
				{"destination.region absent", s1.Destination.Region, nil},
				{"serviceLevel kept", s2.ServiceLevel, text("Express")},
				{"trackingNumber kept", s2.TrackingNumber, text("1Z1")},
				{"description ''", events[0].Description, nil},
				{"description kept", events[1].Description, text("Shipment cancelled")},
				{"location.city kept", events[1].Location.City, text("Paris")},
				{"location.region ''", events[1].Location.Region, nil},
				{"location.countryCode kept", events[1].Location.CountryCode, text("FR")},
			} {
				if (c.got == nil) != (c.want == nil) || (c.got != nil && *c.got != *c.want) {
					t.Errorf("%s: got %s, want %s", c.name, show(c.got), show(c.want))
				}
			}
			for _, i := range []int{0, 2} {
				if events[i].Location != nil {
					t.Errorf("event %d: location %+v, want null (it said nothing)", events[i].ID, *events[i].Location)
				}
			}
			if s1.Origin.Name != "A" || s1.Origin.City != "Lyon" || s1.Destination.CountryCode != "DE" {
				t.Errorf("required address fields changed: %+v %+v", s1.Origin, s1.Destination)
			}
			// Down is a no-op that keeps the rows.
			if _, err := m.Down(ctx); err != nil {
				t.Fatalf("down: %v", err)
			}
			if n, err := client.Shipment.Query().Count(rctx); err != nil || n != 2 {
				t.Fatalf("after down: %d shipments, %v", n, err)
			}
		})
	}
}

func show(s *string) string {
	if s == nil {
		return "null"
	}
	return "\"" + *s + "\""
}

// migratedUpToBefore opens a new database of b migrated up to the migration
// just before the one whose file name ends with suffix, and returns it with
// its Migrator.
func migratedUpToBefore(t *testing.T, b testutil.Backend, suffix string) (*sql.DB, *migrate.Migrator) {
	t.Helper()
	ctx := context.Background()
	sqlDB := testutil.NewDatabase(t, b).Open(t)
	m, err := migrate.New(sqlDB, b.Driver)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var before int64 = -1
	for i, s := range st {
		if strings.HasSuffix(s.Name, suffix) && i > 0 {
			before = st[i-1].Version
		}
	}
	if before < 0 {
		t.Fatalf("no migration *%s in %v", suffix, st)
	}
	if _, err := m.UpTo(ctx, before); err != nil {
		t.Fatal(err)
	}
	return sqlDB, m
}
