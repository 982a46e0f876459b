package plan

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/paging"
)

// run is one execution of a plan.
type run struct {
	ctx  context.Context
	oc   *graphql.OperationContext
	s    *Schema
	w    bytesWriter
	errs []error
	// abort, once set, sends the request to the generic executor: what was
	// written is dropped.
	abort error
	// path is the response path of the field being written, kept as keys
	// and indexes and turned into an ast.Path only for an error.
	path []step
	// fields caches the context and arguments of a resolver field, by node,
	// for the whole run: one per field of the document, not per parent.
	fields map[*node]*resolverField
}

type step struct {
	key   string
	index int // a list index when key is ""
}

type resolverField struct {
	ctx  context.Context
	args map[string]any
}

var errNull = errors.New("a non-null value is null")

// exec writes the answer of p, or returns ok false if the generic executor
// must answer instead.
func (r *run) exec(p *operation) (data []byte, errs []error, ok bool) {
	defer func() {
		if recover() != nil {
			data, errs, ok = nil, nil, false
		}
	}()
	r.oc = graphql.GetOperationContext(r.ctx)
	// The answer's buffer starts at the size of the plan's last answer,
	// so that it is not grown (and copied) a dozen times on the way.
	r.w = make(bytesWriter, 0, max(p.size.Load()+p.size.Load()/8, 1<<10))
	r.path = make([]step, 0, 16)
	r.fields = make(map[*node]*resolverField, 4)
	r.w = append(r.w, '{')
	for i, n := range p.root {
		r.key(i, n)
		switch n.id {
		case fTypename:
			r.str("Query")
		case qShipments:
			r.shipments(n)
		case qShipment:
			r.shipmentRoot(n)
		}
		r.pop()
		if r.abort != nil {
			return nil, nil, false
		}
	}
	r.w = append(r.w, '}')
	p.size.Store(int64(len(r.w)))
	return r.w, r.errs, true
}

// key writes the separator and key of the i-th field n of an object and
// enters it in the path; pop leaves it.
func (r *run) key(i int, n *node) {
	if i > 0 {
		r.w = append(r.w, ',')
	}
	r.w = append(r.w, n.key...)
	r.path = append(r.path, step{key: n.field.Alias})
}

func (r *run) pop() { r.path = r.path[:len(r.path)-1] }

// resolver returns the context and the arguments of resolver field n,
// parsed once per run; object is its type's name.
func (r *run) resolver(object string, n *node) (*resolverField, bool) {
	if f, ok := r.fields[n]; ok {
		return f, true
	}
	var args map[string]any
	if len(n.field.Definition.Arguments) > 0 {
		var err error
		if args, err = generated.Args(r.ctx, r.s.ExecutableSchema, object, n.field); err != nil {
			r.abort = err
			return nil, false
		}
	}
	fc := &graphql.FieldContext{Object: object, Field: n.field, Args: args, IsMethod: true, IsResolver: true}
	f := &resolverField{ctx: graphql.WithFieldContext(r.ctx, fc), args: args}
	r.fields[n] = f
	return f, true
}

// call runs resolver fn of field f through the field middleware (the
// tracing extension's spans, for one), as gqlgen's executor does.
func (r *run) call(f *resolverField, fn graphql.Resolver) (any, error) {
	return r.oc.ResolverMiddleware(f.ctx, fn)
}

// fail records err for the nullable field being written, whose value is
// then null, as gqlgen's resolveField does: the error gets the field's path
// and location.
func (r *run) fail(n *node, err error) {
	path := make(ast.Path, 0, len(r.path))
	for _, s := range r.path {
		if s.key == "" {
			path = append(path, ast.PathIndex(s.index))
		} else {
			path = append(path, ast.PathName(s.key))
		}
	}
	var loc []gqlerror.Location
	if p := n.field.Position; p != nil && p.Line != 0 {
		loc = []gqlerror.Location{{Line: p.Line, Column: p.Column}}
	}
	if gqlErr, ok := errors.AsType[*gqlerror.Error](err); ok {
		if gqlErr.Locations == nil {
			gqlErr.Locations = loc
		}
		if gqlErr.Path == nil {
			gqlErr.Path = path
		}
	} else {
		wrapped := gqlerror.WrapPath(path, err)
		wrapped.Locations = loc
		err = wrapped
	}
	r.errs = append(r.errs, err)
	r.null()
}

func (r *run) null() { r.w = append(r.w, "null"...) }

func (r *run) str(s string) { graphql.MarshalString(s).MarshalGQL(&r.w) }

func (r *run) optStr(s *string) {
	if s == nil {
		r.null()
		return
	}
	r.str(*s)
}

func (r *run) int(i int64) { r.w = strconv.AppendInt(r.w, i, 10) }

func (r *run) bool(b bool) { r.w = strconv.AppendBool(r.w, b) }

// time writes a non-null Time; gqlgen answers a zero time with a null and an
// error, which the plan leaves to it.
func (r *run) time(t time.Time) {
	if t.IsZero() {
		r.abort = errNull
		return
	}
	r.appendTime(t)
}

func (r *run) optTime(t *time.Time) {
	if t == nil || t.IsZero() {
		r.null()
		return
	}
	r.appendTime(*t)
}

// appendTime writes t as graphql.MarshalTime does, strconv.Quote of its
// RFC 3339 form, without the intermediate strings: that form has only
// digits, letters and "-:.+", which Quote leaves as they are.
func (r *run) appendTime(t time.Time) {
	r.w = append(r.w, '"')
	r.w = t.AppendFormat(r.w, time.RFC3339Nano)
	r.w = append(r.w, '"')
}

// id writes a global ID as gid.ID.MarshalGQL does (strconv.Quote of its
// string), without the intermediate strings.
func (r *run) id(id gid.ID) { r.w = strconv.AppendQuote(r.w, id.String()) }

func (r *run) marshal(m graphql.Marshaler) { m.MarshalGQL(&r.w) }

func (r *run) cursor(c *entgql.Cursor[int]) {
	if c == nil {
		r.null()
		return
	}
	paging.MarshalCursor(*c).MarshalGQL(&r.w)
}

// object writes an object: a key per node of nodes, its value by write,
// but for __typename, which is typename. Once the run is aborted the rest
// is skipped: the answer is dropped anyway.
func (r *run) object(nodes []*node, typename string, write func(n *node)) {
	r.w = append(r.w, '{')
	for i, n := range nodes {
		r.key(i, n)
		if n.id == fTypename {
			r.str(typename)
		} else {
			write(n)
		}
		r.pop()
		if r.abort != nil {
			return
		}
	}
	r.w = append(r.w, '}')
}

// list writes n elements with write, entering each index in the path.
func (r *run) list(n int, write func(i int)) {
	r.w = append(r.w, '[')
	for i := range n {
		if i > 0 {
			r.w = append(r.w, ',')
		}
		r.path = append(r.path, step{index: i})
		write(i)
		r.path = r.path[:len(r.path)-1]
		if r.abort != nil {
			return
		}
	}
	r.w = append(r.w, ']')
}

func (r *run) shipments(n *node) {
	f, ok := r.resolver("Query", n)
	if !ok {
		return
	}
	a := f.args
	res, err := r.call(f, func(ctx context.Context) (any, error) {
		return r.s.resolvers.Query().Shipments(ctx, a["after"].(*entgql.Cursor[int]), a["first"].(*int), a["before"].(*entgql.Cursor[int]), a["last"].(*int), a["orderBy"].([]*ent.ShipmentOrder), a["where"].(*ent.ShipmentWhereInput))
	})
	conn, _ := res.(*ent.ShipmentConnection)
	if err != nil || conn == nil {
		r.abort = fmt.Errorf("shipments: %w", errors.Join(err, errNull))
		return
	}
	r.shipmentConnection(n.children, conn)
}

func (r *run) shipmentRoot(n *node) {
	f, ok := r.resolver("Query", n)
	if !ok {
		return
	}
	res, err := r.call(f, func(ctx context.Context) (any, error) {
		return r.s.resolvers.Query().Shipment(ctx, f.args["id"].(*gid.ID), f.args["reference"].(*string))
	})
	s, _ := res.(*ent.Shipment)
	if err != nil {
		r.abort = fmt.Errorf("shipment: %w", err)
		return
	}
	r.shipment(n.children, s)
}

func (r *run) shipmentConnection(nodes []*node, conn *ent.ShipmentConnection) {
	r.object(nodes, "ShipmentConnection", func(n *node) {
		switch n.id {
		case connEdges:
			if conn.Edges == nil {
				r.null()
				break
			}
			r.list(len(conn.Edges), func(i int) { r.shipmentEdge(n.children, conn.Edges[i]) })
		case connPageInfo:
			r.pageInfo(n.children, &conn.PageInfo)
		case connTotalCount:
			r.int(int64(conn.TotalCount))
		}
	})
}

func (r *run) shipmentEdge(nodes []*node, e *ent.ShipmentEdge) {
	if e == nil {
		r.null()
		return
	}
	r.object(nodes, "ShipmentEdge", func(n *node) {
		switch n.id {
		case edgeNode:
			r.shipment(n.children, e.Node)
		case edgeCursor:
			r.cursor(&e.Cursor)
		}
	})
}

func (r *run) pageInfo(nodes []*node, p *entgql.PageInfo[int]) {
	r.object(nodes, "PageInfo", func(n *node) {
		switch n.id {
		case piHasNextPage:
			r.bool(p.HasNextPage)
		case piHasPreviousPage:
			r.bool(p.HasPreviousPage)
		case piStartCursor:
			r.cursor(p.StartCursor)
		case piEndCursor:
			r.cursor(p.EndCursor)
		}
	})
}

func (r *run) shipment(nodes []*node, s *ent.Shipment) {
	if s == nil {
		r.null()
		return
	}
	r.object(nodes, "Shipment", func(n *node) {
		switch n.id {
		case sID:
			r.id(s.GlobalID())
		case sReference:
			r.str(s.Reference)
		case sStatus:
			r.marshal(s.Status)
		case sCarrier:
			r.str(s.Carrier)
		case sServiceLevel:
			r.optStr(s.ServiceLevel)
		case sTrackingNumber:
			r.optStr(s.TrackingNumber)
		case sOrigin:
			r.address(n.children, &s.Origin)
		case sDestination:
			r.address(n.children, &s.Destination)
		case sParcels:
			r.list(len(s.Parcels), func(i int) { r.parcel(n.children, &s.Parcels[i]) })
		case sEstimatedDeliveryAt:
			r.optTime(s.EstimatedDeliveryAt)
		case sDeliveredAt:
			r.optTime(s.DeliveredAt)
		case sCancelReason:
			r.optStr(s.CancelReason)
		case sVersion:
			r.int(int64(s.Version))
		case sCreatedAt:
			r.time(s.CreatedAt)
		case sUpdatedAt:
			r.time(s.UpdatedAt)
		case sCreatedBy:
			r.str(s.CreatedBy)
		case sUpdatedBy:
			r.str(s.UpdatedBy)
		case sCustomer:
			r.customerOf(n, s)
		case sEvents:
			r.events(n, s)
		case sFiles:
			r.files(n, s)
		case sNextStatuses:
			f, ok := r.resolver("Shipment", n)
			if !ok {
				break
			}
			res, err := r.call(f, func(ctx context.Context) (any, error) { return r.s.resolvers.Shipment().NextStatuses(ctx, s) })
			statuses, _ := res.([]domain.Status)
			if err != nil {
				r.abort = err
				break
			}
			r.list(len(statuses), func(i int) { r.marshal(statuses[i]) })
		}
	})
}

func (r *run) address(nodes []*node, a *domain.Address) {
	r.object(nodes, "Address", func(n *node) {
		switch n.id {
		case aName:
			r.str(a.Name)
		case aCompany:
			r.optStr(a.Company)
		case aLine1:
			r.str(a.Line1)
		case aLine2:
			r.optStr(a.Line2)
		case aCity:
			r.str(a.City)
		case aRegion:
			r.optStr(a.Region)
		case aPostalCode:
			r.str(a.PostalCode)
		case aCountryCode:
			r.str(a.CountryCode)
		case aPhone:
			r.optStr(a.Phone)
		case aEmail:
			r.optStr(a.Email)
		}
	})
}

func (r *run) parcel(nodes []*node, p *domain.Parcel) {
	r.object(nodes, "Parcel", func(n *node) {
		switch n.id {
		case pWeightGrams:
			r.int(int64(p.WeightGrams))
		case pLengthMm:
			r.int(int64(p.LengthMm))
		case pWidthMm:
			r.int(int64(p.WidthMm))
		case pHeightMm:
			r.int(int64(p.HeightMm))
		}
	})
}

func (r *run) location(nodes []*node, l *domain.Location) {
	if l == nil {
		r.null()
		return
	}
	r.object(nodes, "Location", func(n *node) {
		switch n.id {
		case lCity:
			r.optStr(l.City)
		case lRegion:
			r.optStr(l.Region)
		case lPostalCode:
			r.optStr(l.PostalCode)
		case lCountryCode:
			r.optStr(l.CountryCode)
		}
	})
}

// customerOf writes Shipment.customer, nullable: a customer that cannot be
// read is null with its error (Dolibarr unreachable, or the customer gone).
func (r *run) customerOf(n *node, s *ent.Shipment) {
	f, ok := r.resolver("Shipment", n)
	if !ok {
		return
	}
	res, err := r.call(f, func(ctx context.Context) (any, error) { return r.s.resolvers.Shipment().Customer(ctx, s) })
	c, _ := res.(*ent.Customer)
	if err != nil {
		r.fail(n, err)
		return
	}
	r.customer(n.children, c)
}

func (r *run) customer(nodes []*node, c *ent.Customer) {
	if c == nil {
		r.null()
		return
	}
	r.object(nodes, "Customer", func(n *node) {
		switch n.id {
		case cID:
			r.id(c.GlobalID())
		case cName:
			r.str(c.Name)
		case cAlias:
			r.optStr(c.Alias)
		case cCode:
			r.str(c.Code)
		case cAddress:
			r.optStr(c.Address)
		case cPostalCode:
			r.optStr(c.PostalCode)
		case cCity:
			r.optStr(c.City)
		case cPhone:
			r.optStr(c.Phone)
		case cEmail:
			r.optStr(c.Email)
		case cURL:
			r.optStr(c.URL)
		case cVatNumber:
			r.optStr(c.VatNumber)
		case cCreatedAt:
			r.optTime(c.CreatedAt)
		case cUpdatedAt:
			r.optTime(c.UpdatedAt)
		case cCountry:
			f, ok := r.resolver("Customer", n)
			if !ok {
				break
			}
			res, err := r.call(f, func(ctx context.Context) (any, error) { return r.s.resolvers.Customer().Country(ctx, c) })
			co, _ := res.(*ent.Country)
			if err != nil {
				r.fail(n, err)
				break
			}
			r.country(n.children, co)
		}
	})
}

func (r *run) country(nodes []*node, c *ent.Country) {
	if c == nil {
		r.null()
		return
	}
	r.object(nodes, "Country", func(n *node) {
		switch n.id {
		case coCode:
			r.str(c.Code)
		case coCodeIso:
			r.optStr(c.CodeIso)
		case coLabel:
			r.str(c.Label)
		}
	})
}

// events writes Shipment.events, non-null: an error goes to the generic
// executor.
func (r *run) events(n *node, s *ent.Shipment) {
	f, ok := r.resolver("Shipment", n)
	if !ok {
		return
	}
	a := f.args
	res, err := r.call(f, func(ctx context.Context) (any, error) {
		return r.s.resolvers.Shipment().Events(ctx, s, a["after"].(*entgql.Cursor[int]), a["first"].(*int), a["before"].(*entgql.Cursor[int]), a["last"].(*int), a["orderBy"].([]*ent.TrackingEventOrder))
	})
	conn, _ := res.(*ent.TrackingEventConnection)
	if err != nil || conn == nil {
		r.abort = fmt.Errorf("events: %w", errors.Join(err, errNull))
		return
	}
	r.object(n.children, "TrackingEventConnection", func(n *node) {
		switch n.id {
		case connEdges:
			if conn.Edges == nil {
				r.null()
				break
			}
			r.list(len(conn.Edges), func(i int) { r.eventEdge(n.children, conn.Edges[i]) })
		case connPageInfo:
			r.pageInfo(n.children, &conn.PageInfo)
		case connTotalCount:
			r.int(int64(conn.TotalCount))
		}
	})
}

func (r *run) eventEdge(nodes []*node, e *ent.TrackingEventEdge) {
	if e == nil {
		r.null()
		return
	}
	r.object(nodes, "TrackingEventEdge", func(n *node) {
		switch n.id {
		case edgeNode:
			r.event(n.children, e.Node)
		case edgeCursor:
			r.cursor(&e.Cursor)
		}
	})
}

func (r *run) event(nodes []*node, e *ent.TrackingEvent) {
	if e == nil {
		r.null()
		return
	}
	r.object(nodes, "TrackingEvent", func(n *node) {
		switch n.id {
		case eID:
			r.id(e.GlobalID())
		case eStatus:
			r.marshal(e.Status)
		case eOccurredAt:
			r.time(e.OccurredAt)
		case eDescription:
			r.optStr(e.Description)
		case eLocation:
			r.location(n.children, e.Location)
		case eSource:
			r.str(e.Source)
		case eCreatedAt:
			r.time(e.CreatedAt)
		case eCreatedBy:
			r.str(e.CreatedBy)
		}
	})
}

// files writes Shipment.files, non-null: an error goes to the generic
// executor.
func (r *run) files(n *node, s *ent.Shipment) {
	f, ok := r.resolver("Shipment", n)
	if !ok {
		return
	}
	res, err := r.call(f, func(ctx context.Context) (any, error) {
		return r.s.resolvers.Shipment().Files(ctx, s, f.args["kind"].(*file.Kind))
	})
	files, _ := res.([]*ent.File)
	if err != nil {
		r.abort = fmt.Errorf("files: %w", err)
		return
	}
	r.list(len(files), func(i int) { r.file(n.children, files[i]) })
}

func (r *run) file(nodes []*node, f *ent.File) {
	if f == nil {
		r.abort = errNull
		return
	}
	r.object(nodes, "File", func(n *node) {
		switch n.id {
		case fID:
			r.id(f.GlobalID())
		case fKind:
			r.marshal(f.Kind)
		case fName:
			r.str(f.Name)
		case fContentType:
			r.str(f.ContentType)
		case fSize:
			r.int(f.Size)
		case fSha256:
			r.str(f.Sha256)
		case fUploadedAt:
			r.time(f.UploadedAt)
		case fUploadedBy:
			r.str(f.UploadedBy)
		}
	})
}
