package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

type fixture struct {
	Reference      string
	Carrier        string
	ServiceLevel   string
	TrackingNumber string
	ETA            *time.Time
	Events         []domain.Status
	Cancel         string
	Customer       int
}

// seed creates shipments through the shipping service with a clock of its own,
// one minute apart in fixture order (or per the at function).
func (e *env) seed(base time.Time, at func(i int) time.Time, fixtures []fixture) {
	e.t.Helper()
	ctx := system()
	var clock time.Time
	svc := shipping.New(e.app.Client, e.app.Dolibarr, shipping.WithClock(func() time.Time { return clock }))
	for i, f := range fixtures {
		clock = at(i)
		in := shipping.CreateInput{
			CustomerID: activeCustomer, Carrier: f.Carrier, ServiceLevel: f.ServiceLevel,
			Origin:              domain.Address{Name: "A", Line1: "1 a", City: "Lyon", PostalCode: "69001", CountryCode: "FR"},
			Destination:         domain.Address{Name: "B", Line1: "2 b", City: "Köln", PostalCode: "50667", CountryCode: "DE"},
			Parcels:             []domain.Parcel{{WeightGrams: 100 + i, LengthMm: 10, WidthMm: 10, HeightMm: 10}},
			EstimatedDeliveryAt: f.ETA,
		}
		if f.Customer != 0 {
			in.CustomerID = f.Customer
		}
		if f.Reference != "" {
			in.Reference = &f.Reference
		}
		if f.TrackingNumber != "" {
			in.TrackingNumber = &f.TrackingNumber
		}
		sh, err := svc.Create(ctx, in)
		if err != nil {
			e.t.Fatalf("seed %s: %v", f.Reference, err)
		}
		for _, st := range f.Events {
			clock = clock.Add(time.Minute)
			if _, err := svc.AddEvent(ctx, sh.ID, shipping.EventInput{Status: st, OccurredAt: clock}); err != nil {
				e.t.Fatalf("seed event %s of %s: %v", st, f.Reference, err)
			}
		}
		if f.Cancel != "" {
			reason := f.Cancel
			if _, err := svc.Cancel(ctx, sh.ID, &reason); err != nil {
				e.t.Fatalf("seed cancel %s: %v", f.Reference, err)
			}
		}
	}
}

type page struct {
	Shipments struct {
		TotalCount int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage     bool    `json:"hasNextPage"`
			HasPreviousPage bool    `json:"hasPreviousPage"`
			StartCursor     *string `json:"startCursor"`
			EndCursor       *string `json:"endCursor"`
		} `json:"pageInfo"`
		Edges []struct {
			Cursor string         `json:"cursor"`
			Node   map[string]any `json:"node"`
		} `json:"edges"`
	} `json:"shipments"`
}

const pageQuery = `query($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: [ShipmentOrder!], $where: ShipmentWhereInput) {
	shipments(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {
		totalCount
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { reference carrier status createdAt updatedAt version } }
	}
}`

func (e *env) page(vars map[string]any) page {
	e.t.Helper()
	var p page
	e.gql.MustData(pageQuery, vars, &p)
	return p
}

func refs(p page) []string {
	out := make([]string, len(p.Shipments.Edges))
	for i, e := range p.Shipments.Edges {
		out[i] = e.Node["reference"].(string)
	}
	return out
}

func TestPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		carriers := []string{"UPS", "DHL", "GLS", "DPD"}
		var fx []fixture
		for i := range 25 {
			fx = append(fx, fixture{Reference: fmt.Sprintf("P-%03d", i), Carrier: carriers[i%len(carriers)]})
		}
		// Three shipments share each creation time: the order must still be total.
		e.seed(base, func(i int) time.Time { return base.Add(time.Duration(i/3) * time.Minute) }, fx)

		orders := map[string]any{
			"default (newest first)": nil,
			"created ascending":      []any{map[string]any{"field": "CREATED_AT", "direction": "ASC"}},
			"carrier then reference": []any{map[string]any{"field": "CARRIER"}, map[string]any{"field": "REFERENCE", "direction": "DESC"}},
			"status only (all tied)": []any{map[string]any{"field": "STATUS"}},
		}
		for name, orderBy := range orders {
			t.Run(name, func(t *testing.T) {
				all := e.page(map[string]any{"first": 100, "orderBy": orderBy})
				want := refs(all)
				if len(want) != 25 || all.Shipments.TotalCount != 25 || all.Shipments.PageInfo.HasNextPage {
					t.Fatalf("all: %d refs, totalCount %d, next %v", len(want), all.Shipments.TotalCount, all.Shipments.PageInfo.HasNextPage)
				}
				if u := slices.Compact(slices.Sorted(slices.Values(want))); len(u) != 25 {
					t.Fatalf("duplicates in %v", want)
				}

				var forward []string
				var after any
				for pages := 0; ; pages++ {
					p := e.page(map[string]any{"first": 7, "after": after, "orderBy": orderBy})
					forward = append(forward, refs(p)...)
					if p.Shipments.TotalCount != 25 {
						t.Errorf("totalCount %d on a page", p.Shipments.TotalCount)
					}
					if pages > 0 && !p.Shipments.PageInfo.HasPreviousPage {
						t.Errorf("page %d after a cursor: hasPreviousPage false", pages)
					}
					if !p.Shipments.PageInfo.HasNextPage {
						break
					}
					after = *p.Shipments.PageInfo.EndCursor
					if pages > 10 {
						t.Fatal("forward paging does not end")
					}
				}
				if !slices.Equal(forward, want) {
					t.Errorf("forward pages\n got %v\nwant %v", forward, want)
				}

				var backward []string
				var before any
				for pages := 0; ; pages++ {
					p := e.page(map[string]any{"last": 7, "before": before, "orderBy": orderBy})
					backward = append(refs(p), backward...)
					if !p.Shipments.PageInfo.HasPreviousPage {
						break
					}
					before = *p.Shipments.PageInfo.StartCursor
					if pages > 10 {
						t.Fatal("backward paging does not end")
					}
				}
				if !slices.Equal(backward, want) {
					t.Errorf("backward pages\n got %v\nwant %v", backward, want)
				}
			})
		}

		// The default page size is 20.
		if p := e.page(nil); len(p.Shipments.Edges) != 20 || !p.Shipments.PageInfo.HasNextPage {
			t.Errorf("default page: %d edges, next %v", len(p.Shipments.Edges), p.Shipments.PageInfo.HasNextPage)
		}
		// A page in the middle, from a cursor: exactly the next items.
		all := refs(e.page(map[string]any{"first": 100}))
		mid := e.page(map[string]any{"first": 1})
		p := e.page(map[string]any{"first": 3, "after": mid.Shipments.Edges[0].Cursor})
		if !slices.Equal(refs(p), all[1:4]) {
			t.Errorf("after first cursor: %v, want %v", refs(p), all[1:4])
		}
	})
}

// inputFields lists the fields of an input type by introspection.
func (e *env) inputFields(typ string) []string {
	e.t.Helper()
	var out struct {
		Type struct {
			InputFields []struct {
				Name string `json:"name"`
			} `json:"inputFields"`
			EnumValues []struct {
				Name string `json:"name"`
			} `json:"enumValues"`
		} `json:"__type"`
	}
	e.gql.MustData(`query($t: String!) { __type(name: $t) { inputFields { name } enumValues { name } } }`, map[string]any{"t": typ}, &out)
	var names []string
	for _, f := range out.Type.InputFields {
		names = append(names, f.Name)
	}
	for _, v := range out.Type.EnumValues {
		names = append(names, v.Name)
	}
	return names
}

// baseField strips a where-input field to the Ent field it filters.
func baseField(name string) string {
	for _, suffix := range []string{"NEQ", "NotIn", "In", "GTE", "GT", "LTE", "LT", "ContainsFold", "Contains", "HasPrefix", "HasSuffix", "IsNil", "NotNil", "EqualFold"} {
		if strings.HasSuffix(name, suffix) {
			return strings.TrimSuffix(name, suffix)
		}
	}
	return name
}

func TestShipmentFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
		eta := base.Add(72 * time.Hour)
		e.seed(base, func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }, []fixture{
			{Reference: "F-1", Carrier: "UPS", ServiceLevel: "Express", TrackingNumber: "T-1", ETA: &eta},
			{Reference: "F-2", Carrier: "DHL", Events: []domain.Status{domain.StatusLabelCreated, domain.StatusInTransit}},
			{Reference: "F-3", Carrier: "GLS", TrackingNumber: "T-3", Events: []domain.Status{domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusDelivered}},
			{Reference: "F-4", Carrier: "UPS", Cancel: "duplicate order"},
			{Reference: "G-5", Carrier: "ups-freight", ServiceLevel: "Economy"},
		})
		createdF3 := base.Add(2 * time.Hour).Format(time.RFC3339)
		cases := []struct {
			where map[string]any
			want  []string
		}{
			{map[string]any{"reference": "F-1"}, []string{"F-1"}},
			{map[string]any{"referenceIn": []string{"F-1", "G-5"}}, []string{"F-1", "G-5"}},
			{map[string]any{"referenceHasPrefix": "G-"}, []string{"G-5"}},
			{map[string]any{"referenceContainsFold": "f-"}, []string{"F-1", "F-2", "F-3", "F-4"}},
			{map[string]any{"status": "DELIVERED"}, []string{"F-3"}},
			{map[string]any{"statusIn": []string{"CANCELLED", "IN_TRANSIT"}}, []string{"F-2", "F-4"}},
			{map[string]any{"statusNEQ": "DRAFT"}, []string{"F-2", "F-3", "F-4"}},
			{map[string]any{"carrier": "UPS"}, []string{"F-1", "F-4"}},
			{map[string]any{"carrierContainsFold": "ups"}, []string{"F-1", "F-4", "G-5"}},
			{map[string]any{"serviceLevel": "Express"}, []string{"F-1"}},
			{map[string]any{"serviceLevelIsNil": true}, []string{"F-2", "F-3", "F-4"}},
			{map[string]any{"trackingNumber": "T-3"}, []string{"F-3"}},
			{map[string]any{"trackingNumberNotNil": true}, []string{"F-1", "F-3"}},
			{map[string]any{"estimatedDeliveryAtGT": base.Format(time.RFC3339)}, []string{"F-1"}},
			{map[string]any{"deliveredAtNotNil": true}, []string{"F-3"}},
			{map[string]any{"cancelReasonContains": "duplicate"}, []string{"F-4"}},
			{map[string]any{"versionGTE": 3}, []string{"F-2", "F-3"}},
			{map[string]any{"createdAtGTE": createdF3}, []string{"F-3", "F-4", "G-5"}},
			{map[string]any{"createdAtLT": createdF3}, []string{"F-1", "F-2"}},
			{map[string]any{"updatedAtGT": base.Add(3 * time.Hour).Format(time.RFC3339)}, []string{"G-5"}},
			{map[string]any{"or": []any{map[string]any{"carrier": "GLS"}, map[string]any{"reference": "F-1"}}}, []string{"F-1", "F-3"}},
			{map[string]any{"and": []any{map[string]any{"carrier": "UPS"}, map[string]any{"status": "DRAFT"}}}, []string{"F-1"}},
			{map[string]any{"not": map[string]any{"referenceHasPrefix": "F-"}}, []string{"G-5"}},
		}
		covered := map[string]bool{"or": true, "and": true, "not": true}
		for _, c := range cases {
			for k := range c.where {
				covered[baseField(k)] = true
			}
			name, _ := json.Marshal(c.where)
			t.Run(string(name), func(t *testing.T) {
				got := refs(e.page(map[string]any{"first": 100, "where": c.where}))
				sort.Strings(got)
				if !slices.Equal(got, c.want) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}
		// Every field of the generated where input is exercised above.
		for _, f := range e.inputFields("ShipmentWhereInput") {
			if !covered[baseField(f)] {
				t.Errorf("ShipmentWhereInput.%s has no filter test", f)
			}
		}

		// Every order field sorts, both ways.
		for _, field := range e.inputFields("ShipmentOrderField") {
			key := map[string]string{"REFERENCE": "reference", "STATUS": "status", "CARRIER": "carrier", "CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt"}[field]
			if key == "" {
				t.Errorf("order field %s has no test", field)
				continue
			}
			for _, dir := range []string{"ASC", "DESC"} {
				p := e.page(map[string]any{"first": 100, "orderBy": []any{map[string]any{"field": field, "direction": dir}}})
				vals := make([]string, len(p.Shipments.Edges))
				for i, edge := range p.Shipments.Edges {
					vals[i] = sortable(edge.Node[key].(string))
				}
				sorted := slices.IsSorted(vals)
				if dir == "DESC" {
					slices.Reverse(vals)
					sorted = slices.IsSorted(vals)
				}
				if !sorted || len(vals) != 5 {
					t.Errorf("orderBy %s %s: %v", field, dir, vals)
				}
			}
		}
	})
}

// sortable makes RFC 3339 times compare as strings; other values are kept.
func sortable(v string) string {
	if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return ts.UTC().Format("2006-01-02T15:04:05.000000000")
	}
	return v
}

func TestEventsConnection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		base := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
		e.seed(base, func(int) time.Time { return base }, []fixture{{Reference: "E-1", Carrier: "UPS", Events: []domain.Status{
			domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusInTransit, domain.StatusInTransit, domain.StatusOutForDelivery,
		}}})
		query := `query($o: [TrackingEventOrder!], $first: Int, $after: Cursor) { shipment(reference: "E-1") {
			events(orderBy: $o, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { status occurredAt } } } } }`
		type resp struct {
			Shipment struct {
				Events struct {
					TotalCount int `json:"totalCount"`
					PageInfo   struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
					Edges []struct {
						Node struct {
							Status     string `json:"status"`
							OccurredAt string `json:"occurredAt"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"events"`
			} `json:"shipment"`
		}
		var r resp
		e.gql.MustData(query, map[string]any{"first": 2}, &r)
		if r.Shipment.Events.TotalCount != 5 || len(r.Shipment.Events.Edges) != 2 || r.Shipment.Events.Edges[0].Node.Status != "OUT_FOR_DELIVERY" || !r.Shipment.Events.PageInfo.HasNextPage {
			t.Fatalf("first page: %+v", r)
		}
		var r2 resp
		e.gql.MustData(query, map[string]any{"first": 10, "after": r.Shipment.Events.PageInfo.EndCursor}, &r2)
		if len(r2.Shipment.Events.Edges) != 3 || r2.Shipment.Events.Edges[2].Node.Status != "LABEL_CREATED" {
			t.Fatalf("second page: %+v", r2)
		}
		for _, field := range e.inputFields("TrackingEventOrderField") {
			var asc resp
			e.gql.MustData(query, map[string]any{"o": []any{map[string]any{"field": field, "direction": "ASC"}}}, &asc)
			if len(asc.Shipment.Events.Edges) != 5 || asc.Shipment.Events.Edges[0].Node.Status != "LABEL_CREATED" {
				t.Errorf("order %s ASC: %+v", field, asc.Shipment.Events.Edges)
			}
		}
	})
}

// TestListColumnSelection: lists read the JSON columns (origin, destination,
// parcels, an event's location) only when selected. A document that selects
// them under one alias and not under another gets both right: the loaders
// batch the two kinds of page apart.
func TestListColumnSelection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		s := e.create(createInput(activeCustomer, "UPS"))
		if r := e.addEvent(s.ID, "LABEL_CREATED", time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)); len(r.Errors) > 0 {
			t.Fatalf("add event: %v", r.Errors)
		}
		node := `reference origin { city } destination { city } parcels { weightGrams }
			events(first: 3) { edges { node { status location { city } } } }`
		lite := `reference events(first: 3) { edges { node { status } } }`
		var out struct {
			Full, Lite struct {
				Edges []struct {
					Node struct {
						Reference   string
						Origin      *struct{ City string }
						Destination *struct{ City string }
						Parcels     []struct{ WeightGrams int }
						Events      struct {
							Edges []struct {
								Node struct {
									Status   string
									Location *struct{ City string }
								}
							}
						}
					}
				}
			}
			Customer struct {
				Full, Lite struct {
					Edges []struct {
						Node struct {
							Origin *struct{ City string }
						}
					}
				}
			}
		}
		e.gql.MustData(`query($c: ID!) {
			full: shipments(first: 5) { edges { node { `+node+` } } }
			lite: shipments(first: 5) { edges { node { `+lite+` } } }
			customer(id: $c) {
				full: shipments(first: 5) { edges { node { origin { city } } } }
				lite: shipments(first: 5) { edges { node { reference } } }
			}
		}`, map[string]any{"c": customerID(activeCustomer)}, &out)
		if len(out.Full.Edges) != 1 || len(out.Lite.Edges) != 1 {
			t.Fatalf("pages: %+v", out)
		}
		full, lt := out.Full.Edges[0].Node, out.Lite.Edges[0].Node
		if full.Origin == nil || full.Origin.City != "Lyon" || full.Destination == nil || full.Destination.City != "Berlin" ||
			len(full.Parcels) != 1 || full.Parcels[0].WeightGrams != 1200 {
			t.Errorf("full shipment: %+v", full)
		}
		if ev := full.Events.Edges; len(ev) != 1 || ev[0].Node.Status != "LABEL_CREATED" || ev[0].Node.Location == nil || ev[0].Node.Location.City != "Paris" {
			t.Errorf("full events: %+v", ev)
		}
		if lt.Reference != full.Reference || len(lt.Events.Edges) != 1 || lt.Events.Edges[0].Node.Status != "LABEL_CREATED" {
			t.Errorf("lite shipment: %+v", lt)
		}
		if c := out.Customer.Full.Edges; len(c) != 1 || c[0].Node.Origin == nil || c[0].Node.Origin.City != "Lyon" {
			t.Errorf("customer shipments: %+v", c)
		}
	})
}

// TestListSelectionThroughFragments: what a list reads follows its selection
// through fragments on every level (connection, edge, node types), inline and
// named: the JSON columns, totalCount and pageInfo are there when asked for
// that way.
func TestListSelectionThroughFragments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		s := e.create(createInput(activeCustomer, "UPS"))
		now := time.Now().UTC()
		for i, st := range []string{"LABEL_CREATED", "IN_TRANSIT"} {
			if r := e.addEvent(s.ID, st, now.Add(time.Duration(i-3)*time.Hour).Format(time.RFC3339)); len(r.Errors) > 0 {
				t.Fatalf("add event: %v", r.Errors)
			}
		}
		type page struct {
			Shipments struct {
				Edges []struct {
					Node struct {
						Origin *struct{ City string }
						Events struct {
							TotalCount int
							PageInfo   struct{ HasNextPage bool }
							Edges      []struct {
								Node struct{ Location *struct{ City string } }
							}
						}
					}
				}
			}
		}
		for name, doc := range map[string]string{
			"inline": `{ shipments(first: 5) { ... on ShipmentConnection { edges { ... on ShipmentEdge { node { ... on Shipment {
				origin { city }
				events(first: 1) { ... on TrackingEventConnection { totalCount pageInfo { hasNextPage } edges { ... on TrackingEventEdge { node { ... on TrackingEvent { location { city } } } } } } } } } } } } } }`,
			"named": `{ shipments(first: 5) { ...Conn } }
				fragment Conn on ShipmentConnection { edges { ...Edge } }
				fragment Edge on ShipmentEdge { node { ...Ship } }
				fragment Ship on Shipment { origin { city } events(first: 1) { ...Events } }
				fragment Events on TrackingEventConnection { totalCount pageInfo { hasNextPage } edges { node { ...Event } } }
				fragment Event on TrackingEvent { location { city } }`,
			"on Node": `{ shipments(first: 5) { edges { node { ... on Node { ... on Shipment { origin { city }
				events(first: 1) { totalCount pageInfo { hasNextPage } edges { node { ... on Node { ... on TrackingEvent { location { city } } } } } } } } } } } }`,
		} {
			var out page
			e.gql.MustData(doc, nil, &out)
			if len(out.Shipments.Edges) != 1 {
				t.Fatalf("%s: %+v", name, out)
			}
			n := out.Shipments.Edges[0].Node
			if n.Origin == nil || n.Origin.City != "Lyon" {
				t.Errorf("%s: origin %+v", name, n.Origin)
			}
			if n.Events.TotalCount != 2 || !n.Events.PageInfo.HasNextPage || len(n.Events.Edges) != 1 ||
				n.Events.Edges[0].Node.Location == nil || n.Events.Edges[0].Node.Location.City != "Paris" {
				t.Errorf("%s: events %+v", name, n.Events)
			}
		}
	})
}
