package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// whereConn is a connection field of the API that takes a where input: its
// document (with $w for the where input and %s for the node fields listed)
// and the path to the connection in the answer.
type whereConn struct {
	name  string
	query string
	vars  map[string]any
	path  []string
}

// whereConns lists, by where-input type, every connection of the API that
// takes it. TestWhereEmptyLists fails on a where input of the schema that is
// neither here nor in whereGoOnly, so a new one cannot go untested.
var whereConns = map[string][]whereConn{
	"ShipmentWhereInput": {
		{name: "shipments", query: `query($w: ShipmentWhereInput) { c: shipments(first: 100, where: $w) { totalCount edges { node { id %s } } } }`, path: []string{"c"}},
		{name: "customer.shipments", query: `query($w: ShipmentWhereInput, $id: ID!) { customer(id: $id) { c: shipments(first: 100, where: $w) { totalCount edges { node { id %s } } } } }`,
			vars: map[string]any{"id": customerID(activeCustomer)}, path: []string{"customer", "c"}},
	},
	"CustomerWhereInput": {
		{name: "customers", query: `query($w: CustomerWhereInput) { c: customers(first: 100, where: $w) { totalCount edges { node { id %s } } } }`, path: []string{"c"}},
	},
}

// whereGoOnly lists the where inputs of the schema that no field of the API
// takes (entgql generates them for every type); TestWhereInputEmptyListsEnt
// covers them through their Go types.
var whereGoOnly = []string{"TrackingEventWhereInput"}

// seedWhere creates shipments for two customers with every filterable field
// set on some and absent on others, and events with and without a
// description.
func seedWhere(e *env) {
	e.t.Helper()
	base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	eta := base.Add(72 * time.Hour)
	later := base.Add(96 * time.Hour)
	delivered := []domain.Status{domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusOutForDelivery, domain.StatusDelivered}
	e.seed(base, func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }, []fixture{
		{Reference: "W-1", Carrier: "UPS", ServiceLevel: "Express", TrackingNumber: "1Z0001", ETA: &eta, Events: delivered},
		{Reference: "W-2", Carrier: "DHL", ServiceLevel: "Standard", TrackingNumber: "JD0002", ETA: &later, Events: delivered[:2]},
		{Reference: "W-3", Carrier: "UPS", Events: delivered[:1], Cancel: "customer changed their mind"},
		{Reference: "W-4", Carrier: "GLS", Customer: otherActiveCustomer, ServiceLevel: "Express", ETA: &eta},
		{Reference: "W-5", Carrier: "DHL", Customer: otherActiveCustomer, Events: delivered},
		{Reference: "W-6", Carrier: "GLS", Cancel: "duplicate"},
	})
	ctx := system()
	svc := shipping.New(e.app.Client, e.app.Dolibarr)
	s, err := e.app.Client.Shipment.Query().Where(shipment.Reference("W-2")).Only(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, d := range []string{"Left the depot", "Customs cleared"} {
		at := base.Add(time.Duration(200+i) * time.Hour)
		if _, err := svc.AddEvent(ctx, s.ID, shipping.EventInput{Status: s.Status, OccurredAt: at, Description: d, Source: "carrier"}); err != nil {
			e.t.Fatalf("seed event: %v", err)
		}
	}
}

// TestWhereEmptyLists runs every list filter (…In, …NotIn) of every where
// input the API takes, on every connection that takes it, with an empty
// list, null, and one value: an empty In matches nothing, an empty NotIn
// matches everything (as in SQL), null is no filter, and one value matches
// what it says. The filters come from introspection, so a new one is covered
// without a change here.
func TestWhereEmptyLists(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		seedWhere(e)
		covered := 0
		for _, input := range whereInputTypes(t, e.gql) {
			conns, ok := whereConns[input]
			if !ok {
				if !slices.Contains(whereGoOnly, input) {
					t.Errorf("where input %s is taken by no connection of whereConns and is not in whereGoOnly: add it to one", input)
				}
				continue
			}
			filters := listFilters(t, e.gql, input)
			if len(filters) == 0 {
				t.Errorf("%s: no list filters found by introspection", input)
			}
			var fields []string
			for _, f := range filters {
				if base := filterField(f); !slices.Contains(fields, base) {
					fields = append(fields, base)
				}
			}
			for _, c := range conns {
				all := whereRows(t, e.gql, c, fields, nil)
				if len(all) < 2 {
					t.Fatalf("%s: the fixture has %d rows, want at least 2", c.name, len(all))
				}
				// An empty where is no filter; an empty where nested in
				// not/and/or says nothing and is the client's mistake.
				if got := whereRows(t, e.gql, c, fields, map[string]any{}); !slices.Equal(mapKeys(got), mapKeys(all)) {
					t.Errorf("%s: where {} gave %d rows, want all %d", c.name, len(got), len(all))
				}
				for _, w := range []map[string]any{{"not": map[string]any{}}, {"or": []any{map[string]any{}}}, {"and": []any{map[string]any{}, map[string]any{}}}} {
					q := fmt.Sprintf(c.query, "")
					vars := map[string]any{"w": w}
					for k, v := range c.vars {
						vars[k] = v
					}
					if r := e.gql.MustFail(q, vars, "BAD_USER_INPUT"); !strings.Contains(r.Errors[0].Message, input) {
						t.Errorf("%s where %v: message %q does not name %s", c.name, w, r.Errors[0].Message, input)
					}
				}
				for _, f := range filters {
					field := filterField(f)
					notIn := strings.HasSuffix(f, "NotIn")
					v, ok := sampleValue(all, field)
					if !ok {
						t.Errorf("%s.%s: no row of the fixture has a %s: extend the fixture", c.name, f, field)
						continue
					}
					// want says whether a row must be in the answer, and
					// whether the test can tell (sure).
					cases := []struct {
						name string
						list any
						want func(row map[string]any) (in, sure bool)
					}{
						{"empty", []any{}, func(map[string]any) (bool, bool) { return notIn, true }},
						{"null", nil, func(map[string]any) (bool, bool) { return true, true }},
						{"one value", []any{v}, func(row map[string]any) (bool, bool) {
							switch {
							case row[field] == nil:
								return false, true // NULL is neither in nor not in a list, as in SQL
							case row[field] == "" && v != "" && notIn:
								// An absent optional field still reads as ""
								// where it is NULL (issue 18, defect 3): in
								// the answer if it is "", not if NULL.
								return false, false
							}
							return jsonEqual(row[field], v) != notIn, true
						}},
					}
					for _, tc := range cases {
						t.Run(fmt.Sprintf("%s/%s/%s", c.name, f, tc.name), func(t *testing.T) {
							covered++
							var want []string
							unsure := map[string]bool{}
							for id, row := range all {
								in, sure := tc.want(row)
								if !sure {
									unsure[id] = true
								} else if in {
									want = append(want, id)
								}
							}
							slices.Sort(want)
							got := whereRows(t, e.gql, c, fields, map[string]any{f: tc.list})
							ids := slices.DeleteFunc(mapKeys(got), func(id string) bool { return unsure[id] })
							if !slices.Equal(ids, want) {
								t.Errorf("%s: %v = %v: got %d rows %v, want %d %v", c.name, f, tc.list, len(ids), ids, len(want), want)
							}
						})
					}
				}
			}
		}
		// The empty list is a predicate like any other: false inside an or,
		// true inside a not.
		var n struct {
			Or, Not, And struct{ TotalCount int }
		}
		e.gql.MustData(`{ or: shipments(where: {or: [{statusIn: []}, {reference: "W-2"}]}) { totalCount }
			not: shipments(where: {not: {referenceIn: []}}) { totalCount }
			and: shipments(where: {and: [{carrierNotIn: []}, {carrierIn: []}]}) { totalCount } }`, nil, &n)
		if n.Or.TotalCount != 1 || n.Not.TotalCount != 6 || n.And.TotalCount != 0 {
			t.Errorf("or/not/and with empty lists: %+v, want 1, 6, 0", n)
		}
		if covered == 0 {
			t.Error("no filter was tested")
		}
	})
}

// whereInputTypes is the names of the schema's where inputs.
func whereInputTypes(t *testing.T, c *testutil.Client) []string {
	t.Helper()
	var s struct {
		Schema struct{ Types []struct{ Name, Kind string } } `json:"__schema"`
	}
	c.MustData(`{ __schema { types { name kind } } }`, nil, &s)
	var out []string
	for _, ty := range s.Schema.Types {
		if ty.Kind == "INPUT_OBJECT" && strings.HasSuffix(ty.Name, "WhereInput") {
			out = append(out, ty.Name)
		}
	}
	if len(out) == 0 {
		t.Fatal("introspection found no where inputs")
	}
	return out
}

// listFilters is the names of the list fields of input named …In or …NotIn.
func listFilters(t *testing.T, c *testutil.Client, input string) []string {
	t.Helper()
	var ty struct {
		Type struct {
			InputFields []struct {
				Name string
				Type struct{ Kind string }
			}
		} `json:"__type"`
	}
	c.MustData(`query($n: String!) { __type(name: $n) { inputFields { name type { kind } } } }`, map[string]any{"n": input}, &ty)
	var out []string
	for _, f := range ty.Type.InputFields {
		if f.Type.Kind == "LIST" && strings.HasSuffix(f.Name, "In") {
			out = append(out, f.Name)
		}
	}
	return out
}

// filterField is the field a list filter filters on: statusNotIn -> status.
func filterField(filter string) string {
	return strings.TrimSuffix(strings.TrimSuffix(filter, "NotIn"), "In")
}

// whereRows runs c's document with where (absent when nil) and returns its
// rows by id; it checks totalCount against the rows.
func whereRows(t *testing.T, gql *testutil.Client, c whereConn, fields []string, where map[string]any) map[string]map[string]any {
	t.Helper()
	vars := map[string]any{}
	for k, v := range c.vars {
		vars[k] = v
	}
	if where != nil {
		vars["w"] = where
	}
	var data map[string]any
	gql.MustData(fmt.Sprintf(c.query, strings.Join(fields, " ")), vars, &data)
	var conn any = data
	for _, p := range c.path {
		conn = conn.(map[string]any)[p]
	}
	m := conn.(map[string]any)
	rows := map[string]map[string]any{}
	for _, edge := range m["edges"].([]any) {
		node := edge.(map[string]any)["node"].(map[string]any)
		rows[node["id"].(string)] = node
	}
	if total := int(m["totalCount"].(float64)); total != len(rows) {
		t.Errorf("%s where %v: totalCount %d, %d rows", c.name, where, total, len(rows))
	}
	return rows
}

// sampleValue is a value of field that some row has, non-empty if any row has
// one, taken from the row with the smallest id (so runs agree).
func sampleValue(rows map[string]map[string]any, field string) (any, bool) {
	var found any
	ok := false
	for _, id := range mapKeys(rows) {
		v := rows[id][field]
		if v == nil {
			continue
		}
		if !ok || (found == "" && v != "") {
			found, ok = v, true
		}
	}
	return found, ok
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestWhereInputEmptyListsEnt checks every list filter of every generated
// where-input Go type (found by reflection, so a new one is covered) against
// the databases, below the API: an empty In list matches no row, an empty
// NotIn list every row. It covers the where inputs no field takes
// (whereGoOnly) as well as the others.
func TestWhereInputEmptyListsEnt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		seedWhere(e)
		ctx := system()
		// count runs the where input (a pointer to a generated where-input
		// type) on its type's query and counts the rows.
		counts := map[reflect.Type]func(ctx context.Context, in any) (int, error){
			reflect.TypeFor[ent.ShipmentWhereInput](): func(ctx context.Context, in any) (int, error) {
				q, err := in.(*ent.ShipmentWhereInput).Filter(e.app.Client.Shipment.Query())
				if err != nil {
					return 0, err
				}
				return q.Count(ctx)
			},
			reflect.TypeFor[ent.TrackingEventWhereInput](): func(ctx context.Context, in any) (int, error) {
				q, err := in.(*ent.TrackingEventWhereInput).Filter(e.app.Client.TrackingEvent.Query())
				if err != nil {
					return 0, err
				}
				return q.Count(ctx)
			},
			reflect.TypeFor[ent.CustomerWhereInput](): func(ctx context.Context, in any) (int, error) {
				q, err := in.(*ent.CustomerWhereInput).Filter(e.app.Dolibarr.Customers())
				if err != nil {
					return 0, err
				}
				return q.Count(ctx)
			},
		}
		for _, name := range append(mapKeys(whereConns), whereGoOnly...) {
			found := false
			for ty := range counts {
				found = found || ty.Name() == name
			}
			if !found {
				t.Errorf("where input %s has no query in this test: add it to counts", name)
			}
		}
		for ty, count := range counts {
			all, err := count(ctx, reflect.New(ty).Interface())
			if err != nil || all == 0 {
				t.Fatalf("%s: all rows: %d, %v (the fixture needs rows)", ty.Name(), all, err)
			}
			filters := 0
			for i := range ty.NumField() {
				f := ty.Field(i)
				tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() == reflect.Pointer || !strings.HasSuffix(tag, "In") {
					continue // not a list filter: Or, And, Has…With, Predicates
				}
				filters++
				want := 0
				if strings.HasSuffix(tag, "NotIn") {
					want = all
				}
				t.Run(ty.Name()+"/"+tag, func(t *testing.T) {
					in := reflect.New(ty).Interface()
					if err := json.Unmarshal([]byte(`{"`+tag+`": []}`), in); err != nil {
						t.Fatal(err)
					}
					got, err := count(ctx, in)
					if err != nil {
						t.Fatalf("%s: []: %v", tag, err)
					}
					if got != want {
						t.Errorf("%s: []: %d rows, want %d", tag, got, want)
					}
				})
			}
			if filters == 0 {
				t.Errorf("%s: no list filters found by reflection", ty.Name())
			}
		}
	})
}

// TestWhereInputNoEmptyListGuard fails if the generated where inputs ever
// again skip an empty list filter (`if len(i.StatusIn) > 0`), as entgql's own
// template does: ent/entc.go patches the template, and this catches an entgql
// upgrade that changes it under the patch.
func TestWhereInputNoEmptyListGuard(t *testing.T) {
	src, err := os.ReadFile("../../ent/gql_where_input.go")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`len\(i\.\w+In\) > 0`).FindAll(src, -1); len(m) > 0 {
		t.Errorf("ent/gql_where_input.go skips %d empty list filters, e.g. %s: run make generate with ent/entc.go's where-input template", len(m), m[0])
	}
	if n := len(regexp.MustCompile(`if i\.\w+In != nil \{`).FindAll(src, -1)); n == 0 {
		t.Error("ent/gql_where_input.go has no list filter applied when present (i.XIn != nil)")
	}
}
