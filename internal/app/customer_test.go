package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

type customerPage struct {
	Customers struct {
		TotalCount int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
		Edges []struct {
			Node struct {
				ID      string `json:"id"`
				Name    string `json:"name"`
				Code    string `json:"code"`
				Active  bool   `json:"active"`
				Country *struct {
					Code  string `json:"code"`
					Label string `json:"label"`
				} `json:"country"`
				UpdatedAt string `json:"updatedAt"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"customers"`
}

const customersQuery = `query($first: Int, $after: Cursor, $search: String, $where: CustomerWhereInput, $orderBy: [CustomerOrder!]) {
	customers(first: $first, after: $after, search: $search, where: $where, orderBy: $orderBy) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { node { id name code active updatedAt country { code label } } }
	}
}`

func names(p customerPage) []string {
	out := make([]string, len(p.Customers.Edges))
	for i, e := range p.Customers.Edges {
		out[i] = e.Node.Name
	}
	return out
}

func TestCustomers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		var all customerPage
		e.gql.MustData(customersQuery, map[string]any{"first": 100}, &all)
		// Only customers (client 1 or 3) of entity 1: no prospects, suppliers or other entities.
		if all.Customers.TotalCount != demoCustomersVisible || len(all.Customers.Edges) != demoCustomersVisible {
			t.Fatalf("totalCount %d, edges %d, want %d", all.Customers.TotalCount, len(all.Customers.Edges), demoCustomersVisible)
		}
		got := names(all)
		// The database's collation decides: SQLite compares bytes, MariaDB and
		// PostgreSQL ignore case and accents here.
		key := foldAccents
		if b.Driver == testutil.SQLite.Driver {
			key = func(s string) string { return s }
		}
		if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(key(a), key(b)) }) {
			t.Errorf("default order is not by name: %v", got)
		}
		for _, n := range got {
			if strings.Contains(n, "Prospect") || strings.Contains(n, "supplier") || strings.Contains(n, "Other Entity") || strings.Contains(n, "Unclassified") {
				t.Errorf("non-customer listed: %s", n)
			}
		}
		closed := 0
		for _, edge := range all.Customers.Edges {
			if !edge.Node.Active {
				closed++
			}
			if edge.Node.Country == nil || len(edge.Node.Country.Code) != 2 {
				t.Errorf("%s: country %+v", edge.Node.Name, edge.Node.Country)
			}
		}
		if closed != 2 {
			t.Errorf("%d closed customers, want 2", closed)
		}

		// Paging through customers.
		var p1, p2 customerPage
		e.gql.MustData(customersQuery, map[string]any{"first": 30}, &p1)
		e.gql.MustData(customersQuery, map[string]any{"first": 30, "after": p1.Customers.PageInfo.EndCursor}, &p2)
		if len(p1.Customers.Edges) != 30 || len(p2.Customers.Edges) != 20 || p2.Customers.PageInfo.HasNextPage {
			t.Errorf("pages of 30: %d + %d", len(p1.Customers.Edges), len(p2.Customers.Edges))
		}
		if !slices.Equal(append(names(p1), names(p2)...), got) {
			t.Errorf("paged customers differ from the full list")
		}

		// Search by name, alias or code, case-insensitively.
		for search, want := range map[string][]string{
			"vandamme":     {"Chocolatier Vandamme"},
			"LUMEN":        {"Studio Graphique Lumen"},
			"cu2301-00016": {"Nordwind Logistik GmbH"},
			"prospect":     nil,
			"  ":           got,
		} {
			var p customerPage
			e.gql.MustData(customersQuery, map[string]any{"first": 100, "search": search}, &p)
			if !slices.Equal(names(p), want) {
				t.Errorf("search %q: %v, want %v", search, names(p), want)
			}
		}
		// Generated filters and orders.
		var de customerPage
		e.gql.MustData(customersQuery, map[string]any{"first": 100, "where": map[string]any{"cityIn": []string{"Hamburg", "München"}, "codeNotNil": true}}, &de)
		if n := names(de); !slices.Equal(n, []string{"Bäckerei Schneider KG", "Nordwind Logistik GmbH"}) {
			t.Errorf("where city: %v", n)
		}
		for _, field := range e.inputFields("CustomerOrderField") {
			for _, dir := range []string{"ASC", "DESC"} {
				var p customerPage
				e.gql.MustData(customersQuery, map[string]any{"first": 100, "orderBy": []any{map[string]any{"field": field, "direction": dir}}}, &p)
				vals := make([]string, len(p.Customers.Edges))
				for i, edge := range p.Customers.Edges {
					switch field {
					case "NAME":
						vals[i] = edge.Node.Name
					case "CODE":
						vals[i] = edge.Node.Code
					case "UPDATED_AT":
						vals[i] = sortable(edge.Node.UpdatedAt)
					default:
						t.Fatalf("order field %s has no test", field)
					}
				}
				if dir == "DESC" {
					slices.Reverse(vals)
				}
				if field == "NAME" {
					for i := range vals {
						vals[i] = key(vals[i])
					}
				}
				if !slices.IsSorted(vals) {
					t.Errorf("customers by %s %s: %v", field, dir, vals)
				}
				if len(vals) != demoCustomersVisible {
					t.Errorf("customers by %s %s: %d", field, dir, len(vals))
				}
			}
		}

		// customer(id), node(id), Customer.shipments and Shipment.customer.
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		e.seed(base, func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }, []fixture{
			{Reference: "C-1", Carrier: "UPS"},
			{Reference: "C-2", Carrier: "DHL", Customer: otherActiveCustomer, Events: []domain.Status{domain.StatusLabelCreated}},
			{Reference: "C-3", Carrier: "GLS", Customer: otherActiveCustomer},
		})
		var one struct {
			Customer struct {
				Name      string `json:"name"`
				Alias     string `json:"alias"`
				Code      string `json:"code"`
				City      string `json:"city"`
				VatNumber string `json:"vatNumber"`
				Country   struct {
					Code    string `json:"code"`
					CodeIso string `json:"codeIso"`
					Label   string `json:"label"`
				} `json:"country"`
				Shipments struct {
					TotalCount int `json:"totalCount"`
					Edges      []struct {
						Node struct {
							Reference string `json:"reference"`
							Customer  struct {
								Name string `json:"name"`
							} `json:"customer"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"shipments"`
			} `json:"customer"`
		}
		e.gql.MustData(`query($id: ID!) { customer(id: $id) { name alias code city vatNumber country { code codeIso label }
			shipments(first: 10) { totalCount edges { node { reference customer { name } } } } } }`,
			map[string]any{"id": customerID(otherActiveCustomer)}, &one)
		c := one.Customer
		if c.Name != "Nordwind Logistik GmbH" || c.Alias != "Nordwind" || c.Code != "CU2301-00016" || c.City != "Hamburg" || c.Country.Code != "DE" || c.Country.CodeIso != "DEU" || c.Country.Label != "Germany" || c.VatNumber == "" {
			t.Errorf("customer: %+v", c)
		}
		var shipRefs []string
		for _, edge := range c.Shipments.Edges {
			shipRefs = append(shipRefs, edge.Node.Reference)
			if edge.Node.Customer.Name != c.Name {
				t.Errorf("Shipment.customer: %+v", edge.Node.Customer)
			}
		}
		sort.Strings(shipRefs)
		if c.Shipments.TotalCount != 2 || !slices.Equal(shipRefs, []string{"C-2", "C-3"}) {
			t.Errorf("Customer.shipments: %d %v", c.Shipments.TotalCount, shipRefs)
		}
		var filtered struct {
			Customer struct {
				Shipments struct {
					TotalCount int `json:"totalCount"`
				} `json:"shipments"`
			} `json:"customer"`
		}
		e.gql.MustData(`query($id: ID!) { customer(id: $id) { shipments(where: {status: LABEL_CREATED}) { totalCount } } }`,
			map[string]any{"id": customerID(otherActiveCustomer)}, &filtered)
		if filtered.Customer.Shipments.TotalCount != 1 {
			t.Errorf("Customer.shipments(where): %d", filtered.Customer.Shipments.TotalCount)
		}

		// Objects outside the configured scope do not exist for the API.
		for _, rowid := range []int{prospect, supplier, otherEntityCustomer, 424242} {
			var r struct {
				Customer *struct{ Name string } `json:"customer"`
				Node     *struct{ ID string }   `json:"node"`
				Nodes    []*struct{ ID string } `json:"nodes"`
			}
			e.gql.MustData(`query($id: ID!) { customer(id: $id) { name } node(id: $id) { id } nodes(ids: [$id]) { id } }`, map[string]any{"id": customerID(rowid)}, &r)
			if r.Customer != nil || r.Node != nil || len(r.Nodes) != 1 || r.Nodes[0] != nil {
				t.Errorf("rowid %d is visible: %+v", rowid, r)
			}
		}
		var nodes struct {
			Nodes []*struct {
				Typename string `json:"__typename"`
				ID       string `json:"id"`
			} `json:"nodes"`
		}
		e.gql.MustData(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, map[string]any{"ids": []string{customerID(activeCustomer), customerID(prospect)}}, &nodes)
		if len(nodes.Nodes) != 2 || nodes.Nodes[0] == nil || nodes.Nodes[0].Typename != "Customer" || nodes.Nodes[0].ID != customerID(activeCustomer) || nodes.Nodes[1] != nil {
			t.Errorf("nodes: %+v", nodes.Nodes)
		}
	})
}

// foldAccents lower-cases s and removes its diacritics.
func foldAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A shipment whose customer no longer exists in Dolibarr keeps being served:
// its customer is null with a NOT_FOUND error at that path, the rest intact.
func TestMissingCustomer(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	e.create(createInput(activeCustomer, "UPS"))
	now := time.Now().UTC()
	_, err := e.app.Client.Shipment.Create().SetReference("ORPHAN-1").SetCustomerID(999999).SetCarrier("DHL").
		SetOrigin(domain.Address{}).SetDestination(domain.Address{}).SetParcels([]domain.Parcel{}).
		SetCreatedAt(now).SetUpdatedAt(now).SetCreatedBy("test").SetUpdatedBy("test").Save(system())
	if err != nil {
		t.Fatal(err)
	}
	r := e.gql.Do(`{ shipments(orderBy: [{field: REFERENCE}]) { edges { node { reference customer { name } } } } }`, nil)
	var data struct {
		Shipments struct {
			Edges []struct {
				Node struct {
					Reference string `json:"reference"`
					Customer  *struct {
						Name string `json:"name"`
					} `json:"customer"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"shipments"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	edges := data.Shipments.Edges
	if len(edges) != 2 || edges[0].Node.Reference != "ORPHAN-1" || edges[0].Node.Customer != nil || edges[1].Node.Customer == nil || edges[1].Node.Customer.Name != "Boulangerie Martin SARL" {
		t.Fatalf("partial data: %s", r.Raw)
	}
	if len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" || fmt.Sprint(r.Errors[0].Path) != "[shipments edges 0 node customer]" {
		t.Errorf("errors: %s", r.Raw)
	}
}

func TestCustomerFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		cases := []struct {
			where map[string]any
			want  []string
		}{
			{map[string]any{"name": "Optique Bernard"}, []string{"Optique Bernard"}},
			{map[string]any{"nameHasPrefix": "Fromagerie"}, []string{"Fromagerie Lefèvre", "Fromagerie du Léman Sàrl"}},
			{map[string]any{"alias": "Nordwind"}, []string{"Nordwind Logistik GmbH"}},
			{map[string]any{"code": "CU2301-00006"}, []string{"Optique Bernard"}},
			{map[string]any{"address": "Am Sandtorkai 41"}, []string{"Nordwind Logistik GmbH"}},
			{map[string]any{"postalCode": "1017 KH"}, []string{"De Vries Fietsen BV"}},
			{map[string]any{"city": "Toronto"}, []string{"Great Lakes Paddle Co."}},
			{map[string]any{"phone": "+49 40 3039 8812"}, []string{"Nordwind Logistik GmbH"}},
			{map[string]any{"emailHasPrefix": "orders@studio-graphique"}, []string{"Studio Graphique Lumen"}},
			{map[string]any{"urlContains": "riviera"}, []string{"Riviera Yachting SAM"}},
			{map[string]any{"vatNumberIsNil": true, "cityIn": []string{"Zürich", "Phoenix", "Lyon"}}, []string{"Schmid Uhrenmanufaktur AG", "Sonoran Leather Goods LLC"}},
			{map[string]any{"createdAtLT": "2023-01-10T00:00:00Z"}, []string{"Boulangerie Martin SARL"}},
			{map[string]any{"updatedAtLT": "2023-01-13T10:00:00Z"}, []string{"Boulangerie Martin SARL"}},
			{map[string]any{"or": []any{map[string]any{"city": "Gent"}, map[string]any{"city": "Liège"}}}, []string{"Brasserie Artisanale de Liège", "Van den Berg Tuinmaterialen"}},
			{map[string]any{"and": []any{map[string]any{"city": "Lyon"}}, "not": map[string]any{"name": "Nobody"}}, []string{"Boulangerie Martin SARL"}},
		}
		covered := map[string]bool{}
		for _, c := range cases {
			for k := range c.where {
				covered[baseField(k)] = true
			}
			var p customerPage
			e.gql.MustData(customersQuery, map[string]any{"first": 100, "where": c.where}, &p)
			got := names(p)
			sort.Strings(got)
			want := slices.Clone(c.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("where %v: %v, want %v", c.where, got, want)
			}
		}
		for _, f := range e.inputFields("CustomerWhereInput") {
			if !covered[baseField(f)] {
				t.Errorf("CustomerWhereInput.%s has no filter test", f)
			}
		}
	})
}
