package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The main tables' columns, as Main and MainCopy write them.
var (
	shipmentColumns = []string{"id", "reference", "customer_id", "status", "carrier",
		"service_level", "tracking_number", "origin", "destination", "parcels", "estimated_delivery_at", "delivered_at",
		"cancel_reason", "version", "created_at", "updated_at", "created_by", "updated_by"}
	eventColumns = []string{"id", "seq", "shipment_id", "status", "occurred_at",
		"description", "location", "source", "created_at", "created_by"}
	fileColumns = []string{"id", "shipment_id", "kind", "name", "content_type",
		"size", "sha256", "storage_key", "uploaded_at", "uploaded_by"}
)

func shipmentRow(s *Shipment) []any {
	return []any{s.ID, s.Reference, s.CustomerID, string(s.Status), s.Carrier, s.ServiceLevel, s.TrackingNumber,
		string(s.Origin), string(s.Destination), string(s.Parcels), s.EstimatedDeliveryAt, s.DeliveredAt, s.CancelReason,
		s.Version, s.CreatedAt, s.UpdatedAt, Actor, Actor}
}

func eventRow(e *Event) []any {
	return []any{e.ID, e.Seq, e.ShipmentID, string(e.Status), e.OccurredAt, e.Description, string(e.Location), "carrier", e.CreatedAt, Actor}
}

func fileRow(f *File) []any {
	return []any{f.ID, f.ShipmentID, f.Kind, f.Name, f.ContentType, f.Size, f.SHA256, f.StorageKey, f.UploadedAt, Actor}
}

// MainCopy writes d to the migrated main PostgreSQL database as Main does,
// in one transaction, with COPY (pgx CopyFrom) instead of INSERTs: the bulk
// mode of benchseed, for millions of rows. The secondary indexes of the
// three tables are dropped before the COPY and created again after it from
// their own definitions (pg_indexes), the same indexes the migrations made;
// foreign keys are not checked row by row (session_replication_role =
// replica, the data is consistent by construction) but once, in bulk, at
// the end. progress, if not nil, is told each step and its duration.
func MainCopy(ctx context.Context, sqlDB *sql.DB, d *Data, progress func(step string, took time.Duration)) error {
	if progress == nil {
		progress = func(string, time.Duration) {}
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("seed: MainCopy wants a pgx connection, got %T", dc)
		}
		return mainCopy(ctx, sc.Conn(), d, progress)
	})
}

func mainCopy(ctx context.Context, c *pgx.Conn, d *Data, progress func(string, time.Duration)) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, s := range []string{
		"SET LOCAL maintenance_work_mem = '512MB'",
		"SET LOCAL session_replication_role = replica",
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	tables := []string{"shipments", "tracking_events", "files"}
	// Secondary indexes: every index that backs no constraint.
	type index struct{ name, def string }
	var indexes []index
	rows, err := tx.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = ANY($1)
		AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid::regclass::text = ANY($1))
		ORDER BY tablename, indexname`, tables)
	if err != nil {
		return err
	}
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			return err
		}
		indexes = append(indexes, ix)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	copyRows := func(table string, cols []string, n int, row func(i int) []any) error {
		t := time.Now()
		i := 0
		got, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		}))
		if err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		if got != int64(n) {
			return fmt.Errorf("copy into %s: %d rows of %d", table, got, n)
		}
		progress(fmt.Sprintf("copy %d rows into %s", n, table), time.Since(t))
		return nil
	}
	if err := copyRows("shipments", shipmentColumns, len(d.Shipments), func(i int) []any { return shipmentRow(&d.Shipments[i]) }); err != nil {
		return err
	}
	if err := copyRows("tracking_events", eventColumns, len(d.Events), func(i int) []any { return eventRow(&d.Events[i]) }); err != nil {
		return err
	}
	if err := copyRows("files", fileColumns, len(d.Files), func(i int) []any { return fileRow(&d.Files[i]) }); err != nil {
		return err
	}
	t := time.Now()
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, ix.def); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	progress(fmt.Sprintf("create %d secondary indexes", len(indexes)), time.Since(t))
	t = time.Now()
	// The foreign keys COPY did not check, checked once.
	for _, q := range []string{
		`SELECT count(*) FROM tracking_events e WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.id = e.shipment_id)`,
		`SELECT count(*) FROM files f WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.id = f.shipment_id)`,
	} {
		var orphans int
		if err := tx.QueryRow(ctx, q).Scan(&orphans); err != nil {
			return err
		}
		if orphans != 0 {
			return errors.New("seed: rows without their shipment: " + q)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE sequences SET value = $1 WHERE id = 'tracking_events'", int64(len(d.Events))); err != nil {
		return fmt.Errorf("set the tracking_events sequence: %w", err)
	}
	for _, t := range tables {
		if _, err := tx.Exec(ctx, fmt.Sprintf(
			`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), COALESCE((SELECT MAX(id) FROM %[1]s), 0) + 1, false)`, t)); err != nil {
			return fmt.Errorf("reset %s identity: %w", t, err)
		}
	}
	progress("check foreign keys, sequences", time.Since(t))
	return tx.Commit(ctx)
}
