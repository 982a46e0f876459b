package loader

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
)

// EdgeKey asks for the first page of a connection under one parent: its first
// First nodes in Order, and the total count when Total is set. Keys with the
// same First, Order and Total are loaded together: one windowed query for all
// parents (ROW_NUMBER() OVER (PARTITION BY parent ...)), plus one grouped
// COUNT when totals are asked.
type EdgeKey struct {
	Parent int
	First  int
	// Order is the ordering as "FIELD:DIRECTION,..." (see OrderKey).
	Order string
	Total bool
	// NoPageInfo: the query does not select pageInfo, so the page is read
	// without the extra node per parent that tells whether there is a next
	// one (HasNextPage is then false).
	NoPageInfo bool
	// Columns are the columns to read, comma-separated ("": all of them):
	// those the query's selection needs; the ordering columns are added.
	Columns string
	// Light: the selection reads no edge of the nodes, so they may be built
	// without an Ent client (PrefetchEventsAndFiles), whose edges could
	// not be queried.
	Light bool
}

// Page is the first page of a connection under one parent.
type Page[N any] struct {
	Nodes       []N
	HasNextPage bool
	TotalCount  int
}

// OrderKey serializes an ordering for EdgeKey. name and direction read one
// order term.
func OrderKey[O any](orderBy []*O, term func(*O) (name string, dir entgql.OrderDirection)) string {
	parts := make([]string, 0, len(orderBy))
	for _, o := range orderBy {
		if o == nil {
			continue
		}
		name, dir := term(o)
		parts = append(parts, name+":"+string(dir))
	}
	return strings.Join(parts, ",")
}

// orderColumns turns an order key into ORDER BY terms for the window and the
// id tiebreaker. By this schema's convention an order field's column is its
// GraphQL name in lower case (CREATED_AT -> created_at); TestOrderColumns holds
// every order field to it.
func orderColumns(order string, columns []string) ([]sql.Querier, error) {
	var terms []sql.Querier
	add := func(col string, desc bool) {
		terms = append(terms, sql.ExprFunc(func(b *sql.Builder) {
			b.Ident(col)
			if desc {
				b.WriteString(" DESC")
			}
		}))
	}
	for _, part := range strings.Split(order, ",") {
		if part == "" {
			continue
		}
		name, dir, _ := strings.Cut(part, ":")
		col := strings.ToLower(name)
		if !slices.Contains(columns, col) {
			return nil, fmt.Errorf("no column for order field %s", name)
		}
		add(col, dir == string(entgql.OrderDirectionDesc))
	}
	add("id", false)
	return terms, nil
}

// edgeBatch is the batch function of a first-page loader. window loads at most
// limit nodes per parent in the given order, grouped by parent in that order;
// count returns the number of nodes per parent.
func edgeBatch[N any](
	kind string,
	window func(ctx context.Context, parents []int, limit int, order []sql.Querier, columns []string) ([]N, error),
	count func(ctx context.Context, parents []int) (map[int]int, error),
	parentOf func(N) int,
	columns []string,
) dataloader.BatchFunc[EdgeKey, *Page[N]] {
	return func(ctx context.Context, keys []EdgeKey) []*dataloader.Result[*Page[N]] {
		observe(ctx, kind, len(keys))
		out := make([]*dataloader.Result[*Page[N]], len(keys))
		groups := map[EdgeKey][]int{} // without Parent -> indexes into keys
		for i, k := range keys {
			g := k
			g.Parent = 0
			groups[g] = append(groups[g], i)
		}
		for g, idx := range groups {
			parents := make([]int, 0, len(idx))
			for _, i := range idx {
				parents = append(parents, keys[i].Parent)
			}
			pages, err := loadPages(ctx, parents, g, window, count, parentOf, columns)
			for _, i := range idx {
				if err != nil {
					out[i] = &dataloader.Result[*Page[N]]{Error: fmt.Errorf("load %s: %w", kind, err)}
					continue
				}
				p := pages[keys[i].Parent]
				if p == nil {
					p = &Page[N]{}
				}
				out[i] = &dataloader.Result[*Page[N]]{Data: p}
			}
		}
		return out
	}
}

func loadPages[N any](ctx context.Context, parents []int, g EdgeKey,
	window func(context.Context, []int, int, []sql.Querier, []string) ([]N, error),
	count func(context.Context, []int) (map[int]int, error),
	parentOf func(N) int, columns []string,
) (map[int]*Page[N], error) {
	pages := make(map[int]*Page[N], len(parents))
	for _, p := range parents {
		pages[p] = &Page[N]{}
	}
	if first := g.First; first > 0 {
		terms, err := orderColumns(g.Order, columns)
		if err != nil {
			return nil, err
		}
		// One more than asked tells whether there is a next page.
		limit := first + 1
		if g.NoPageInfo {
			limit = first
		}
		nodes, err := window(ctx, parents, limit, terms, selectColumns(g.Columns, g.Order))
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			p := pages[parentOf(n)]
			if p == nil {
				continue
			}
			if len(p.Nodes) == first {
				p.HasNextPage = true
				continue
			}
			p.Nodes = append(p.Nodes, n)
		}
	}
	if g.Total {
		counts, err := count(ctx, parents)
		if err != nil {
			return nil, err
		}
		for parent, p := range pages {
			p.TotalCount = counts[parent]
		}
	}
	return pages, nil
}

// limitPerRow keeps the first limit rows of each parent in the window's order
// and returns them grouped by parent in that order.
func limitPerRow(partitionBy string, limit int, order []sql.Querier) []func(*sql.Selector) {
	return []func(*sql.Selector){
		entgql.LimitPerRow(partitionBy, limit, order...),
		func(s *sql.Selector) { s.OrderBy(s.C(partitionBy), s.C("row_number")) },
	}
}

func eventsBatch(client *ent.Client) dataloader.BatchFunc[EdgeKey, *Page[*ent.TrackingEvent]] {
	return edgeBatch("events",
		func(ctx context.Context, parents []int, limit int, order []sql.Querier, columns []string) ([]*ent.TrackingEvent, error) {
			q := client.TrackingEvent.Query().Where(trackingevent.ShipmentIDIn(parents...))
			if columns != nil {
				q.Select(columns...)
			}
			return q.Modify(limitPerRow(trackingevent.FieldShipmentID, limit, order)...).All(ctx)
		},
		func(ctx context.Context, parents []int) (map[int]int, error) {
			var rows []struct {
				ShipmentID int `json:"shipment_id"`
				Count      int `json:"count"`
			}
			err := client.TrackingEvent.Query().
				Where(trackingevent.ShipmentIDIn(parents...)).
				GroupBy(trackingevent.FieldShipmentID).
				Aggregate(ent.Count()).
				Scan(ctx, &rows)
			m := make(map[int]int, len(rows))
			for _, r := range rows {
				m[r.ShipmentID] = r.Count
			}
			return m, err
		},
		func(e *ent.TrackingEvent) int { return e.ShipmentID },
		trackingevent.Columns,
	)
}

func newCustomerShipmentsLoader(client *ent.Client) *dataloader.Loader[EdgeKey, *Page[*ent.Shipment]] {
	return dataloader.NewBatchedLoader(
		edgeBatch("customer shipments",
			func(ctx context.Context, parents []int, limit int, order []sql.Querier, columns []string) ([]*ent.Shipment, error) {
				q := client.Shipment.Query().Where(shipment.CustomerIDIn(parents...))
				if columns != nil {
					q.Select(columns...)
				}
				return q.Modify(limitPerRow(shipment.FieldCustomerID, limit, order)...).All(ctx)
			},
			func(ctx context.Context, parents []int) (map[int]int, error) {
				var rows []struct {
					CustomerID int `json:"customer_id"`
					Count      int `json:"count"`
				}
				err := client.Shipment.Query().
					Where(shipment.CustomerIDIn(parents...)).
					GroupBy(shipment.FieldCustomerID).
					Aggregate(ent.Count()).
					Scan(ctx, &rows)
				m := make(map[int]int, len(rows))
				for _, r := range rows {
					m[r.CustomerID] = r.Count
				}
				return m, err
			},
			func(s *ent.Shipment) int { return s.CustomerID },
			shipment.Columns,
		),
		dataloader.WithBatchCapacity[EdgeKey, *Page[*ent.Shipment]](maxBatch),
		dataloader.WithWait[EdgeKey, *Page[*ent.Shipment]](wait),
	)
}

// selectColumns returns the columns of a key's Columns plus those of its
// order, which the cursors are made of; nil (all) for "".
func selectColumns(columns, order string) []string {
	if columns == "" {
		return nil
	}
	out := strings.Split(columns, ",")
	for _, part := range strings.Split(order, ",") {
		name, _, _ := strings.Cut(part, ":")
		if col := strings.ToLower(name); col != "" && !slices.Contains(out, col) {
			out = append(out, col)
		}
	}
	return out
}
