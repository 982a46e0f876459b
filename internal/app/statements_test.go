package app_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// nestedQuery is the list of issue 3: N shipments with their customer's name
// and country and their last 3 events, and the total.
const nestedQuery = `query($n: Int) { shipments(first: $n) { totalCount edges { node {
	reference customer { name country { code } } events(first: 3) { edges { node { status occurredAt } } } } } } }`

// seedMany creates n shipments for varied customers, each with a few events.
func (e *env) seedMany(n int) {
	e.t.Helper()
	base := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	fx := make([]fixture, n)
	for i := range fx {
		fx[i] = fixture{
			Reference: fmt.Sprintf("N-%04d", i), Carrier: "UPS", Customer: 1 + rng.IntN(50),
			Events: []domain.Status{domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusInTransit, domain.StatusOutForDelivery}[:1+rng.IntN(4)],
		}
		if fx[i].Customer == closedCustomer || fx[i].Customer == 34 {
			fx[i].Customer = activeCustomer
		}
	}
	e.seed(base, func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }, fx)
}

func TestStatementsPerRequest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		e.seedMany(100)
		counting := &countingHandler{h: e.app.Handler}
		gql := testutil.NewClient(t, counting).As(e.adminKey)
		gql.MustData(`{ viewer { role } }`, nil, nil) // the key is verified once, then cached
		// The first list also reads Dolibarr's table of countries, then
		// cached for every request (dolibarr.CountryCacheTTL).
		gql.MustData(nestedQuery, map[string]any{"n": 1}, nil)
		if c := counting.Last(); c.Total() > 5 || c.Get(dbroute.TargetDolibarr) != 2 {
			t.Errorf("first list: %d statements, %d on Dolibarr; want at most 5, 2 on Dolibarr (customers, countries)", c.Total(), c.Get(dbroute.TargetDolibarr))
		}
		counts := map[int]int{}
		for _, n := range []int{1, 10, 100} {
			var out struct {
				Shipments struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Customer *struct{ Name string }
							Events   struct{ Edges []struct{} }
						}
					}
				}
			}
			gql.MustData(nestedQuery, map[string]any{"n": n}, &out)
			if len(out.Shipments.Edges) != n || out.Shipments.TotalCount != 100 {
				t.Fatalf("N=%d: %d edges, total %d", n, len(out.Shipments.Edges), out.Shipments.TotalCount)
			}
			for _, edge := range out.Shipments.Edges {
				if edge.Node.Customer == nil || len(edge.Node.Events.Edges) == 0 || len(edge.Node.Events.Edges) > 3 {
					t.Fatalf("N=%d: incomplete node %+v", n, edge.Node)
				}
			}
			c := counting.Last()
			counts[n] = c.Total()
			t.Logf("%s N=%d: %d statements (primary %d, dolibarr %d)", b.Name, n, c.Total(), c.Get(dbroute.TargetPrimary), c.Get(dbroute.TargetDolibarr))
		}
		if counts[1] != counts[10] || counts[10] != counts[100] || counts[100] > 4 {
			t.Errorf("statements per request for N=1,10,100: %v; want the same number, at most 4 (3 on the primary, the customers on Dolibarr)", counts)
		}

		// Workload (a)'s shape, events and files under each shipment: the
		// events' first pages and the files come with one statement on
		// MariaDB and PostgreSQL (graph/loader.PrefetchEventsAndFiles), so
		// the page, its children and its customers are 3 statements.
		want := 3
		if b.Name == "sqlite" {
			want = 4 // events and files apart
		}
		for _, n := range []int{1, 10, 100} {
			gql.MustData(`query($n: Int) { shipments(first: $n) { edges { node { reference customer { name country { code } } events(first: 3) { edges { node { status occurredAt } } } files { name } } } } }`, map[string]any{"n": n}, nil)
			if c := counting.Last(); c.Total() != want {
				t.Errorf("%s events and files, N=%d: %d statements (primary %d, dolibarr %d), want %d", b.Name, n, c.Total(), c.Get(dbroute.TargetPrimary), c.Get(dbroute.TargetDolibarr), want)
			}
		}

		// The batched pages belong to their parents, newest first, and
		// match what each shipment alone answers.
		var out struct {
			Shipments struct {
				Edges []struct {
					Node struct {
						Reference string
						Events    struct {
							Edges []struct {
								Node struct {
									OccurredAt string
									Shipment   struct{ Reference string }
								}
							}
						}
					}
				}
			}
		}
		gql.MustData(`{ shipments(first: 100) { edges { node { reference events(first: 2) { edges { node { occurredAt shipment { reference } } } } } } } }`, nil, &out)
		for _, edge := range out.Shipments.Edges {
			prev := ""
			for _, ev := range edge.Node.Events.Edges {
				if ev.Node.Shipment.Reference != edge.Node.Reference {
					t.Fatalf("event of %s listed under %s", ev.Node.Shipment.Reference, edge.Node.Reference)
				}
				if prev != "" && sortable(ev.Node.OccurredAt) > sortable(prev) {
					t.Fatalf("%s: events not newest first", edge.Node.Reference)
				}
				prev = ev.Node.OccurredAt
			}
		}
	})
}
