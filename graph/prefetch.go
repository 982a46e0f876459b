package graph

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/graph/loader"
	"github.com/shipmentapp/shipmentapp/internal/paging"
)

// A list resolver looks ahead at what the query selects under edges.node and
// prefetches it for the whole page (see loader.Loaders.PrefetchCustomers).

// nodeFields returns the fields selected under edges { node { ... } } of the
// connection being resolved, for node types typ.
func nodeFields(ctx context.Context, typ ...string) []graphql.CollectedField {
	return connectionNodes(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, nil), typ...)
}

// connectionNodes returns the fields selected under edges { node { ... } }
// among fields, the selection of a connection, for node types typ.
func connectionNodes(oc *graphql.OperationContext, fields []graphql.CollectedField, typ ...string) []graphql.CollectedField {
	var out []graphql.CollectedField
	for _, edges := range fields {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(oc, edges.Selections, nil) {
			if node.Name == "node" {
				out = append(out, graphql.CollectFields(oc, node.Selections, append(typ, "Node"))...)
			}
		}
	}
	return out
}

func subFields(ctx context.Context, f graphql.CollectedField, typ string) []graphql.CollectedField {
	return graphql.CollectFields(graphql.GetOperationContext(ctx), f.Selections, []string{typ, "Node"})
}

// undeferred returns the fields of fields that are not @defer'd: the ones a
// list resolver prefetches. A deferred field is resolved after the first
// payload is sent, through the dataloaders that batch it on their own;
// prefetched with the page, it would hold back the very answer @defer is
// there to hasten (the shipment list waiting on Dolibarr's customers).
func undeferred(fields []graphql.CollectedField) []graphql.CollectedField {
	out := fields[:0:0]
	for _, f := range fields {
		if !f.IsDeferred() {
			out = append(out, f)
		}
	}
	return out
}

func selects(fields []graphql.CollectedField, name string) bool {
	for _, f := range fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// prefetchShipments loads, for a page of shipments, their customers (and
// those customers' countries) and the first page of their events, as the
// query selects them under edges.node.
func (r *Resolver) prefetchShipments(ctx context.Context, shipments []*ent.Shipment) {
	r.prefetchShipmentFields(ctx, shipments, nodeFields(ctx, "Shipment"))
}

// paginateShipments is q.Paginate reading only the columns the selection
// under edges.node needs, then prefetching what it selects.
func (r *Resolver) paginateShipments(ctx context.Context, q *ent.ShipmentQuery, after *ent.Cursor, first *int, before *ent.Cursor, last *int, opts ...ent.ShipmentPaginateOption) (*ent.ShipmentConnection, error) {
	fields := nodeFields(ctx, "Shipment")
	if cols := shipmentColumns(fields); cols != nil {
		q.Select(cols...)
	}
	conn, err := q.Paginate(ctx, after, first, before, last, opts...)
	if err != nil {
		return nil, err
	}
	r.prefetchShipmentFields(ctx, shipmentNodes(conn), fields)
	return conn, nil
}

// prefetchShipment is prefetchShipments for a field that returns one shipment.
func (r *Resolver) prefetchShipment(ctx context.Context, s *ent.Shipment) {
	if s != nil {
		fields := graphql.CollectFieldsCtx(ctx, []string{"Shipment", "Node"})
		r.prefetchShipmentFields(ctx, []*ent.Shipment{s}, fields)
	}
}

func (r *Resolver) prefetchShipmentFields(ctx context.Context, shipments []*ent.Shipment, fields []graphql.CollectedField) {
	fields = undeferred(fields)
	if len(shipments) == 0 || len(fields) == 0 {
		return
	}
	l := r.loaders(ctx)
	ids := make([]int, len(shipments))
	for i, s := range shipments {
		ids[i] = s.ID
	}
	// The customers live in Dolibarr, another database: they are read while
	// the main database reads the events and files, not after.
	var dolibarr sync.WaitGroup
	for _, f := range fields {
		if f.Name != "customer" {
			continue
		}
		cids := make([]int, 0, len(shipments))
		for _, s := range shipments {
			cids = append(cids, s.CustomerID)
		}
		countries := selects(undeferred(subFields(ctx, f, "Customer")), "country")
		dolibarr.Go(func() {
			customers := l.PrefetchCustomers(ctx, cids)
			if countries {
				r.prefetchCountries(ctx, customers)
			}
		})
		break
	}
	defer dolibarr.Wait()
	// The first events field and the files, when both are selected, come
	// with one statement where the database allows; the rest apart.
	files := selects(fields, "files")
	tried, together := !files, false
	for _, f := range fields {
		if f.Name != "events" {
			continue
		}
		keys := r.eventKeys(ctx, f, ids)
		first := !tried
		tried = true
		if keys == nil {
			continue
		}
		if first && keys[0].Light && l.PrefetchEventsAndFiles(ctx, keys, ids) {
			together = true
			continue
		}
		l.PrefetchEvents(ctx, keys)
	}
	if files && !together {
		l.PrefetchFiles(ctx, ids)
	}
}

// eventEdges are the edges of TrackingEvent a selection may read.
var eventEdges = []string{"shipment"}

// eventKeys returns the loader keys that the events field f will ask for
// under each shipment of ids, or nil if it does not read a first page in
// the default form (its resolver then loads on its own).
func (r *Resolver) eventKeys(ctx context.Context, f graphql.CollectedField, ids []int) []loader.EdgeKey {
	key, ok := firstPageKey(ctx, f, loader.OrderKey(defaultEventOrder, eventTerm))
	if !ok {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	nodes := connectionNodes(oc, graphql.CollectFields(oc, f.Selections, nil), "TrackingEvent")
	key.Columns = columnsKey(eventColumns(nodes))
	key.Light = !selectsAny(nodes, eventEdges...)
	keys := make([]loader.EdgeKey, len(ids))
	for i, id := range ids {
		key.Parent = id
		keys[i] = key
	}
	return keys
}

// prefetchCustomers loads, for a page of customers, their countries.
func (r *Resolver) prefetchCustomers(ctx context.Context, customers []*ent.Customer) {
	if selects(undeferred(nodeFields(ctx, "Customer")), "country") {
		r.prefetchCountries(ctx, customers)
	}
}

func (r *Resolver) prefetchCountries(ctx context.Context, customers []*ent.Customer) {
	ids := make([]int, 0, len(customers))
	for _, c := range customers {
		if c != nil && c.CountryID > 0 {
			ids = append(ids, c.CountryID)
		}
	}
	if len(ids) > 0 {
		r.loaders(ctx).PrefetchCountries(ctx, ids)
	}
}

// firstPageKey returns the loader key the resolver of the connection field f
// will ask for, when f asks for a first page in the default order; otherwise
// the resolver loads on its own.
func firstPageKey(ctx context.Context, f graphql.CollectedField, defaultOrder string) (loader.EdgeKey, bool) {
	args := f.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	for _, a := range []string{"after", "before", "last", "orderBy", "where"} {
		if args[a] != nil {
			return loader.EdgeKey{}, false
		}
	}
	first := paging.DefaultSize
	if v, ok := args["first"]; ok && v != nil {
		n, ok := toInt(v)
		if !ok || n < 0 || n > paging.MaxSize {
			return loader.EdgeKey{}, false
		}
		first = n
	}
	sel := graphql.CollectFields(graphql.GetOperationContext(ctx), f.Selections, nil)
	return loader.EdgeKey{First: first, Order: defaultOrder, Total: selects(sel, "totalCount"), NoPageInfo: !selects(sel, "pageInfo")}, true
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), float64(int(n)) == n
	}
	return 0, false
}

func shipmentNodes(conn *ent.ShipmentConnection) []*ent.Shipment {
	if conn == nil {
		return nil
	}
	out := make([]*ent.Shipment, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		out = append(out, e.Node)
	}
	return out
}

func customerNodes(conn *ent.CustomerConnection) []*ent.Customer {
	if conn == nil {
		return nil
	}
	out := make([]*ent.Customer, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		out = append(out, e.Node)
	}
	return out
}
