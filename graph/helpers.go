package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"entgo.io/contrib/entgql"
	entgo "entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/ent/predicate"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/ent/webhookdelivery"
	"github.com/shipmentapp/shipmentapp/graph/loader"
	"github.com/shipmentapp/shipmentapp/graph/model"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/paging"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
)

// maxNodes bounds nodes(ids:).
const maxNodes = 100

// node resolves a global ID against the database that holds its type; an
// object that does not exist is nil without an error.
func (r *Resolver) node(ctx context.Context, id gid.ID) (ent.Noder, error) {
	var (
		n   ent.Noder
		err error
	)
	switch id.Type {
	case gid.TypeShipment:
		n, err = r.Client.Noder(ctx, id.Local, ent.WithFixedNodeType(shipment.Table))
	case gid.TypeTrackingEvent:
		n, err = r.Client.Noder(ctx, id.Local, ent.WithFixedNodeType(trackingevent.Table))
	case gid.TypeFile:
		n, err = r.Client.Noder(ctx, id.Local, ent.WithFixedNodeType(file.Table))
	case gid.TypeCustomer:
		n, err = r.Dolibarr.Ent().Noder(ctx, id.Local, ent.WithFixedNodeType(customer.Table))
	default:
		return nil, nil
	}
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load node %s: %w", id.Type, err)
	}
	return n, nil
}

// localID returns the local ID of id if it names an object of type typ, or a
// BAD_USER_INPUT error about the argument field.
func localID(field, typ string, id gid.ID) (int, error) {
	n, err := id.As(typ)
	if err != nil {
		return 0, apperr.Invalid(field, "%s must be a %s ID", field, typ)
	}
	return n, nil
}

// customerOf loads the Dolibarr customer of a shipment through the request's
// dataloader.
func (r *Resolver) customerOf(ctx context.Context, customerID int) (*ent.Customer, error) {
	c, err := r.loaders(ctx).Customer.Load(ctx, customerID)()
	var nf *loader.NotFoundError
	if errors.As(err, &nf) {
		return nil, apperr.NotFoundf("the customer of this shipment no longer exists in Dolibarr")
	}
	return c, err
}

func (r *Resolver) countryOf(ctx context.Context, countryID int) (*ent.Country, error) {
	return loadOptional(ctx, r.loaders(ctx).Country, countryID)
}

func (r *Resolver) shippingMethodOf(ctx context.Context, id int) (*ent.ShippingMethod, error) {
	return loadOptional(ctx, r.loaders(ctx).ShippingMethod, id)
}

// loadOptional loads a Dolibarr dictionary row that a customer may not
// reference (a zero rowid) or that may be gone: both are nil, not an error.
func loadOptional[V any](ctx context.Context, l *dataloader.Loader[int, *V], id int) (*V, error) {
	if id <= 0 {
		return nil, nil
	}
	v, err := l.Load(ctx, id)()
	var nf *loader.NotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	return v, err
}

// defaultShipmentOrder is newest first.
var defaultShipmentOrder = []*ent.ShipmentOrder{{
	Direction: entgql.OrderDirectionDesc, Field: ent.ShipmentOrderFieldCreatedAt,
}}

// defaultEventOrder is newest first by when the event happened.
var defaultEventOrder = []*ent.TrackingEventOrder{{
	Direction: entgql.OrderDirectionDesc, Field: ent.TrackingEventOrderFieldOccurredAt,
}}

var defaultCustomerOrder = []*ent.CustomerOrder{{
	Direction: entgql.OrderDirectionAsc, Field: ent.CustomerOrderFieldName,
}}

// shipmentPage checks the page arguments of a shipments connection and returns
// the normalized sizes and the paginate options.
func shipmentPage(after, before *ent.Cursor, first, last *int, orderBy []*ent.ShipmentOrder, where *ent.ShipmentWhereInput) (*int, *int, []ent.ShipmentPaginateOption, error) {
	first, last, err := paging.Limit(first, last)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(orderBy) == 0 {
		orderBy = defaultShipmentOrder
	}
	if err := paging.Cursors(after, before, orderFields(orderBy, func(o *ent.ShipmentOrder) string { return o.Field.String() })); err != nil {
		return nil, nil, nil, err
	}
	return first, last, []ent.ShipmentPaginateOption{ent.WithShipmentOrder(orderBy), ent.WithShipmentFilter(where.Filter)}, nil
}

type pageBoundKey struct{}

// withPageBound returns ctx carrying, for the page query of a shipments
// connection with these arguments, the predicates of cursorBound; the
// PageBound interceptor adds them to that query only, not to the count of
// the connection (which must count every row of the filter).
func withPageBound(ctx context.Context, after, before *ent.Cursor, orderBy []*ent.ShipmentOrder, last *int) context.Context {
	if len(orderBy) == 0 {
		orderBy = defaultShipmentOrder
	}
	var ps []predicate.Shipment
	for _, c := range []*ent.Cursor{after, before} {
		if p := cursorBound(c, orderBy, last != nil); p != nil {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return ctx
	}
	return context.WithValue(ctx, pageBoundKey{}, ps)
}

// PageBound is the Ent interceptor of the shipments' page queries: it adds
// the predicates withPageBound put in the context to a query's All, never to
// its Count. Register it on the client (client.Shipment.Intercept).
func PageBound() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			if ps, ok := ctx.Value(pageBoundKey{}).([]predicate.Shipment); ok {
				if qc := entgo.QueryFromContext(ctx); qc != nil && qc.Op == entgo.OpQueryAll {
					if sq, ok := q.(*ent.ShipmentQuery); ok {
						sq.Where(ps...)
					}
				}
			}
			return next.Query(ctx, q)
		})
	})
}

// cursorBound returns a predicate that the pager's own cursor predicate
// implies, on the first order column alone: entgql writes "x < x1 OR (x =
// x1 AND id > id1)", which PostgreSQL cannot use as an index bound, so a
// page 100,000 rows deep walked the index from the top (docs/BENCHMARKS.md,
// "Cost as the data grows"); "x <= x1 AND (...)" reads from the cursor on.
// The same rows either way. reverse is the pager's (a last page). nil when
// the cursor has no values.
func cursorBound(c *ent.Cursor, orderBy []*ent.ShipmentOrder, reverse bool) predicate.Shipment {
	if c == nil || len(orderBy) == 0 || orderBy[0] == nil {
		return nil
	}
	values, ok := c.Value.([]any)
	if !ok || len(values) == 0 || values[0] == nil {
		return nil
	}
	// An order field's column is its name in lower case (TestOrderColumns).
	col, v := strings.ToLower(orderBy[0].Field.String()), values[0]
	dir := orderBy[0].Direction
	if reverse {
		dir = dir.Reverse()
	}
	if dir == entgql.OrderDirectionAsc {
		return sql.FieldGTE(col, v)
	}
	return sql.FieldLTE(col, v)
}

func orderFields[O any](orderBy []*O, name func(*O) string) []string {
	out := make([]string, 0, len(orderBy))
	for _, o := range orderBy {
		if o != nil {
			out = append(out, name(o))
		}
	}
	return out
}

// address maps an AddressInput to the domain type as given; the shipping
// service normalises it (domain.NormalizeAddress: blank is absent).
func address(in *model.AddressInput) domain.Address {
	if in == nil {
		return domain.Address{}
	}
	return domain.Address{
		Name: in.Name, Company: in.Company, Line1: in.Line1, Line2: in.Line2,
		City: in.City, Region: in.Region, PostalCode: in.PostalCode,
		CountryCode: in.CountryCode, Phone: in.Phone, Email: in.Email,
	}
}

func addressPtr(in *model.AddressInput) *domain.Address {
	if in == nil {
		return nil
	}
	a := address(in)
	return &a
}

func parcels(in []*model.ParcelInput) []domain.Parcel {
	if in == nil {
		return nil
	}
	out := make([]domain.Parcel, 0, len(in))
	for _, p := range in {
		if p != nil {
			out = append(out, domain.Parcel{WeightGrams: p.WeightGrams, LengthMm: p.LengthMm, WidthMm: p.WidthMm, HeightMm: p.HeightMm})
		}
	}
	return out
}

func location(in *model.LocationInput) *domain.Location {
	if in == nil {
		return nil
	}
	return &domain.Location{City: in.City, Region: in.Region, PostalCode: in.PostalCode, CountryCode: in.CountryCode}
}

func optional[T any](o interface {
	IsSet() bool
	Value() *T
}) shipping.Optional[T] {
	return shipping.Optional[T]{Set: o.IsSet(), Value: o.Value()}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// wantsTotal reports whether the connection being resolved selects totalCount.
func wantsTotal(ctx context.Context) bool {
	return selects(graphql.CollectFieldsCtx(ctx, nil), "totalCount")
}

// wantsPageInfo reports whether the connection being resolved selects pageInfo.
func wantsPageInfo(ctx context.Context) bool {
	return selects(graphql.CollectFieldsCtx(ctx, nil), "pageInfo")
}

// selectionKey returns the part of a first-page loader key that the
// connection being resolved derives from its selection alone (totalCount,
// pageInfo, the node columns, whether it reads an edge of the nodes), for
// nodes of type node whose columns come from columns and whose edges are
// edges: computed once per field of the document and request, not once per
// parent.
func selectionKey(ctx context.Context, l *loader.Loaders, node string, columns func([]graphql.CollectedField) []string, edges ...string) loader.EdgeKey {
	type memoKey struct {
		field *ast.Field
		node  string
	}
	return l.Memo(memoKey{graphql.GetFieldContext(ctx).Field.Field, node}, func() any {
		fields := nodeFields(ctx, node)
		return loader.EdgeKey{Total: wantsTotal(ctx), NoPageInfo: !wantsPageInfo(ctx), Columns: columnsKey(columns(fields)), Light: !selectsAny(fields, edges...)}
	}).(loader.EdgeKey)
}

func selectsAny(fields []graphql.CollectedField, names ...string) bool {
	for _, n := range names {
		if selects(fields, n) {
			return true
		}
	}
	return false
}

// firstPageOnly reports whether a connection asks for its first page only,
// the case the batched loaders serve.
func firstPageOnly(after, before *ent.Cursor, last *int) bool {
	return after == nil && before == nil && last == nil
}

// cursors builds the cursors of nodes the way entgql's multi-field pager does
// (the node's ID and its value for each order field), so a client can page
// on from a batched first page with after:.
func cursors[N, O any](nodes []N, id func(N) int, orderBy []*O, value func(*O, N) (any, error)) ([]ent.Cursor, *ent.PageInfo, error) {
	out := make([]ent.Cursor, len(nodes))
	for i, n := range nodes {
		vals := make([]any, 0, len(orderBy))
		for _, o := range orderBy {
			v, err := value(o, n)
			if err != nil {
				return nil, nil, err
			}
			vals = append(vals, v)
		}
		out[i] = ent.Cursor{ID: id(n), Value: vals}
	}
	info := &ent.PageInfo{}
	if len(out) > 0 {
		info.StartCursor, info.EndCursor = &out[0], &out[len(out)-1]
	}
	return out, info, nil
}

func eventConnection(p *loader.Page[*ent.TrackingEvent], orderBy []*ent.TrackingEventOrder) (*ent.TrackingEventConnection, error) {
	cs, info, err := cursors(p.Nodes, func(e *ent.TrackingEvent) int { return e.ID }, orderBy,
		func(o *ent.TrackingEventOrder, e *ent.TrackingEvent) (any, error) { return o.Field.Value(e) })
	if err != nil {
		return nil, err
	}
	info.HasNextPage = p.HasNextPage
	conn := &ent.TrackingEventConnection{PageInfo: *info, TotalCount: p.TotalCount, Edges: make([]*ent.TrackingEventEdge, len(p.Nodes))}
	for i, n := range p.Nodes {
		conn.Edges[i] = &ent.TrackingEventEdge{Node: n, Cursor: cs[i]}
	}
	return conn, nil
}

func shipmentConnection(p *loader.Page[*ent.Shipment], orderBy []*ent.ShipmentOrder) (*ent.ShipmentConnection, error) {
	cs, info, err := cursors(p.Nodes, func(s *ent.Shipment) int { return s.ID }, orderBy,
		func(o *ent.ShipmentOrder, s *ent.Shipment) (any, error) { return o.Field.Value(s) })
	if err != nil {
		return nil, err
	}
	info.HasNextPage = p.HasNextPage
	conn := &ent.ShipmentConnection{PageInfo: *info, TotalCount: p.TotalCount, Edges: make([]*ent.ShipmentEdge, len(p.Nodes))}
	for i, n := range p.Nodes {
		conn.Edges[i] = &ent.ShipmentEdge{Node: n, Cursor: cs[i]}
	}
	return conn, nil
}

func eventTerm(o *ent.TrackingEventOrder) (string, entgql.OrderDirection) {
	return o.Field.String(), o.Direction
}

func shipmentTerm(o *ent.ShipmentOrder) (string, entgql.OrderDirection) {
	return o.Field.String(), o.Direction
}

func customerGIDs(ids []int) []*gid.ID {
	out := make([]*gid.ID, len(ids))
	for i, id := range ids {
		g := gid.New(gid.TypeCustomer, id)
		out[i] = &g
	}
	return out
}

// deliveries is a page of an endpoint's delivery log.
func (r *Resolver) deliveries(ctx context.Context, endpointID int, status *model.WebhookDeliveryStatus, first *int, after *entgql.Cursor[int]) (*model.WebhookDeliveryConnection, error) {
	n := 20
	if first != nil {
		n = *first
	}
	var st *webhookdelivery.Status
	if status != nil {
		s := webhookdelivery.Status(*status)
		st = &s
	}
	var from *int
	if after != nil {
		from = &after.ID
	}
	page, err := r.Webhooks.Deliveries(ctx, endpointID, st, n, from)
	if err != nil {
		return nil, err
	}
	conn := &model.WebhookDeliveryConnection{Edges: make([]*model.WebhookDeliveryEdge, 0, len(page.Deliveries)), PageInfo: &entgql.PageInfo[int]{HasNextPage: page.HasNext}}
	for i := range page.Deliveries {
		d := &page.Deliveries[i]
		conn.Edges = append(conn.Edges, &model.WebhookDeliveryEdge{Node: d, Cursor: entgql.Cursor[int]{ID: d.ID}})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}
