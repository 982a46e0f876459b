package loader

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/auth/rule"
	"github.com/shipmentapp/shipmentapp/internal/domain"
)

// Option configures Loaders.
type Option func(*Loaders)

// WithDriver lets the loaders read the first pages of a list's events and
// its files with one statement through drv, the main database's driver (see
// PrefetchEventsAndFiles). Without it, and on SQLite, they are two.
func WithDriver(drv dialect.Driver) Option {
	return func(l *Loaders) {
		if d := drv.Dialect(); d == dialect.Postgres || d == dialect.MySQL {
			l.driver = drv
		}
	}
}

// PrefetchEventsAndFiles loads, with one statement, the first page of
// events of every key of keys (all alike but for Parent, without totals)
// and the files of every shipment of shipments, and primes the Events and
// Files loaders with them, as PrefetchEvents and PrefetchFiles would with
// two. It returns false, having read nothing, when it cannot (no driver,
// SQLite, totals asked, too many parents): the caller reads them apart.
//
// The statement is the union of the two reads the loaders make: the events
// of the parents numbered per parent in the page's order (ROW_NUMBER() OVER
// (PARTITION BY shipment_id ...), the first ones kept) and the parents'
// files numbered in upload order, each read scoped by the viewer with the
// same predicates as the Ent privacy rules (rule.TrackingEventScope,
// rule.FileScope). Columns line up by position: id, shipment_id, one number
// (seq, size), two times, six strings (the event's location as JSON text).
func (l *Loaders) PrefetchEventsAndFiles(ctx context.Context, keys []EdgeKey, shipments []int) bool {
	if l.driver == nil || len(keys) == 0 || len(keys) > maxBatch || len(shipments) > maxBatch || keys[0].First <= 0 {
		return false
	}
	g := keys[0]
	g.Parent = 0
	for _, k := range keys {
		k.Parent = 0
		if k != g {
			return false
		}
	}
	if g.Total {
		return false
	}
	evScope, err := rule.TrackingEventScope(ctx)
	if err != nil {
		return false
	}
	fScope, err := rule.FileScope(ctx)
	if err != nil {
		return false
	}
	terms, err := orderColumns(g.Order, trackingevent.Columns)
	if err != nil {
		return false
	}
	parents := make([]int, len(keys))
	for i, k := range keys {
		parents[i] = k.Parent
	}
	limit := g.First + 1 // one more tells whether there is a next page
	if g.NoPageInfo {
		limit = g.First
	}
	query, args := childrenStatement(l.driver.Dialect(), parents, shipments, limit, terms, selectColumns(g.Columns, g.Order), evScope, fScope)
	observe(ctx, "events", len(parents))
	observe(ctx, "files", len(shipments))
	pages, files, err := l.readChildren(ctx, query, args, parents, shipments, g.First)
	if err != nil {
		// Left to the loaders, which read them apart and report their
		// errors where the fields ask.
		return false
	}
	for _, k := range keys {
		l.Events.Prime(ctx, k, pages[k.Parent])
	}
	for _, s := range shipments {
		l.Files.Prime(ctx, s, files[s])
	}
	return true
}

// childrenStatement is the statement of PrefetchEventsAndFiles. Of the
// events it reads the columns of evColumns (nil: all), as the events
// loader does for a key's Columns, and a constant of the column's type in
// place of the others. The files are read whole: their loader's key is the
// shipment alone, so another selection of them may need any column.
func childrenStatement(d string, parents, shipments []int, limit int, order []sql.Querier, evColumns []string, evScope, fScope func(*sql.Selector)) (string, []any) {
	b := sql.Dialect(d)
	text := "TEXT"
	if d == dialect.MySQL {
		text = "CHAR"
	}
	cast := func(col string) sql.Querier {
		return sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("CAST(")
			if col == "" {
				b.WriteString("NULL")
			} else {
				b.Ident(col)
			}
			b.WriteString(" AS " + text + ")")
		})
	}
	number := func(s *sql.Selector, orderBy ...sql.Querier) {
		s.AppendSelectExprAs(sql.RowNumber().PartitionBy(trackingevent.FieldShipmentID).OrderExpr(orderBy...), "rn")
	}
	ev := b.Select().From(b.Table(trackingevent.Table))
	read := func(col string) bool { return evColumns == nil || slices.Contains(evColumns, col) }
	column := func(col, as string, otherwise sql.Querier) {
		if read(col) {
			ev.AppendSelectAs(col, as)
		} else {
			ev.AppendSelectExprAs(otherwise, as)
		}
	}
	ev.AppendSelectExprAs(sql.Expr("0"), "k").
		AppendSelectAs(trackingevent.FieldID, "id").
		AppendSelectAs(trackingevent.FieldShipmentID, "shipment_id")
	column(trackingevent.FieldSeq, "n", sql.Expr("0"))
	ev.AppendSelectAs(trackingevent.FieldOccurredAt, "t1")
	column(trackingevent.FieldCreatedAt, "t2", sql.ExprFunc(func(b *sql.Builder) { b.Ident(trackingevent.FieldOccurredAt) }))
	column(trackingevent.FieldStatus, "s1", sql.Expr("''"))
	column(trackingevent.FieldDescription, "s2", sql.Expr("''"))
	column(trackingevent.FieldSource, "s3", sql.Expr("''"))
	column(trackingevent.FieldCreatedBy, "s4", sql.Expr("''"))
	if read(trackingevent.FieldLocation) {
		ev.AppendSelectExprAs(cast(trackingevent.FieldLocation), "s5")
	} else {
		ev.AppendSelectExprAs(cast(""), "s5")
	}
	ev.AppendSelectExprAs(cast(""), "s6")
	number(ev, order...)
	ev.Where(sql.InInts(ev.C(trackingevent.FieldShipmentID), parents...))
	if evScope != nil {
		evScope(ev)
	}
	fs := b.Select().From(b.Table(file.Table))
	fs.AppendSelectExprAs(sql.Expr("1"), "k").
		AppendSelectAs(file.FieldID, "id").
		AppendSelectAs(file.FieldShipmentID, "shipment_id").
		AppendSelectAs(file.FieldSize, "n").
		AppendSelectAs(file.FieldUploadedAt, "t1").
		AppendSelectAs(file.FieldUploadedAt, "t2").
		AppendSelectAs(file.FieldKind, "s1").
		AppendSelectAs(file.FieldName, "s2").
		AppendSelectAs(file.FieldContentType, "s3").
		AppendSelectAs(file.FieldUploadedBy, "s4").
		AppendSelectAs(file.FieldSha256, "s5").
		AppendSelectAs(file.FieldStorageKey, "s6")
	number(fs, sql.ExprFunc(func(b *sql.Builder) { b.Ident(file.FieldUploadedAt) }), sql.ExprFunc(func(b *sql.Builder) { b.Ident(file.FieldID) }))
	fs.Where(sql.InInts(fs.C(file.FieldShipmentID), shipments...))
	if fScope != nil {
		fScope(fs)
	}
	events := b.Select("*").From(ev.As("events")).Where(sql.LTE("rn", limit))
	events.UnionAll(fs).OrderBy("k", "shipment_id", "rn")
	return events.Query()
}

// readChildren runs the statement and groups its rows: the events pages by
// parent (first nodes at most, HasNextPage when there was one more) and the
// files by shipment (an empty list for a shipment without any).
func (l *Loaders) readChildren(ctx context.Context, query string, args []any, parents, shipments []int, first int) (map[int]*Page[*ent.TrackingEvent], map[int][]*ent.File, error) {
	pages := make(map[int]*Page[*ent.TrackingEvent], len(parents))
	for _, p := range parents {
		pages[p] = &Page[*ent.TrackingEvent]{}
	}
	files := make(map[int][]*ent.File, len(shipments))
	for _, s := range shipments {
		files[s] = []*ent.File{}
	}
	var rows sql.Rows
	if err := l.driver.Query(ctx, query, args, &rows); err != nil {
		return nil, nil, fmt.Errorf("load events and files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k, id, parent int
			n, rn         int64
			t1, t2        time.Time
			s1, s3, s4    string
			s2, s5, s6    stdsql.NullString
		)
		if err := rows.Scan(&k, &id, &parent, &n, &t1, &t2, &s1, &s2, &s3, &s4, &s5, &s6, &rn); err != nil {
			return nil, nil, fmt.Errorf("load events and files: %w", err)
		}
		if k == 0 {
			p := pages[parent]
			if p == nil {
				continue
			}
			if len(p.Nodes) == first {
				p.HasNextPage = true
				continue
			}
			e := &ent.TrackingEvent{ID: id, ShipmentID: parent, Seq: n, Status: domain.Status(s1), OccurredAt: t1,
				Description: nullable(s2), Source: s3, CreatedAt: t2, CreatedBy: s4}
			if s5.Valid && s5.String != "" {
				if err := json.Unmarshal([]byte(s5.String), &e.Location); err != nil {
					return nil, nil, fmt.Errorf("load events and files: location of event %d: %w", id, err)
				}
			}
			p.Nodes = append(p.Nodes, e)
			continue
		}
		if _, ok := files[parent]; ok {
			files[parent] = append(files[parent], &ent.File{ID: id, ShipmentID: parent, Kind: file.Kind(s1), Name: s2.String,
				ContentType: s3, Size: n, Sha256: s5.String, StorageKey: s6.String, UploadedAt: t1, UploadedBy: s4})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load events and files: %w", err)
	}
	return pages, files, nil
}

// nullable is a nullable column's value: nil for NULL, as Ent scans it.
func nullable(s stdsql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}
