package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

const contactsQuery = `query($id: ID!) { customer(id: $id) { name
	contacts { name civility firstName lastName jobTitle email phone }
	shippingMethod { code label trackingUrl } } }`

type contactsOut struct {
	Customer *struct {
		Name     string
		Contacts []struct {
			Name, FirstName, LastName, JobTitle, Email string
		}
		ShippingMethod *struct{ Code, Label, TrackingURL string }
	}
}

func TestContactsAndShippingMethod(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		var out contactsOut
		e.gql.MustData(contactsQuery, map[string]any{"id": customerID(activeCustomer)}, &out)
		c := out.Customer
		// Customer 1 has one active, public contact; its inactive, private and
		// other-entity contacts are never shown.
		if c == nil || len(c.Contacts) != 1 || c.Contacts[0].Name != c.Contacts[0].FirstName+" "+c.Contacts[0].LastName || c.Contacts[0].Email == "" {
			t.Fatalf("contacts: %+v", c)
		}
		if c.ShippingMethod == nil || c.ShippingMethod.Code != "COLSUI" || c.ShippingMethod.Label != "Colissimo Suivi" {
			t.Errorf("shipping method: %+v", c.ShippingMethod)
		}
		e.gql.MustData(contactsQuery, map[string]any{"id": customerID(2)}, &out)
		if out.Customer == nil || len(out.Customer.Contacts) != 2 || out.Customer.ShippingMethod != nil {
			t.Errorf("customer 2: %+v", out.Customer)
		}
		e.gql.MustData(contactsQuery, map[string]any{"id": customerID(5)}, &out)
		if out.Customer == nil || len(out.Customer.Contacts) != 0 {
			t.Errorf("customer 5 has no contacts: %+v", out.Customer)
		}
	})
}

// TestDolibarrTablePrefix reads a Dolibarr installed with another prefix.
func TestDolibarrTablePrefix(t *testing.T) {
	for _, b := range []testutil.Backend{testutil.SQLite, testutil.All()[1]} {
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			mainDB := testutil.NewDatabase(t, testutil.SQLite)
			dol := testutil.NewDolibarrPrefixed(t, b, "erp_")
			cfg := testutil.Config(t, mainDB, dol, "DOLIBARR_DB_PREFIX=erp_")
			a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			gql := testutil.NewClient(t, a.Handler).As(newKey(t, a, auth.RoleAdmin))
			var out struct {
				Customers struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Country  struct{ Code string }
							Contacts []struct{ Name string }
						}
					}
				}
			}
			gql.MustData(`{ customers(first: 3) { totalCount edges { node { country { code } contacts { name } } } } }`, nil, &out)
			if out.Customers.TotalCount != demoCustomersVisible || out.Customers.Edges[0].Node.Country.Code == "" {
				t.Errorf("customers through prefix erp_: %+v", out)
			}
			// With the default prefix the tables are not found: the prefix is really used.
			cfg2 := testutil.Config(t, mainDB, dol)
			a2, err := app.New(context.Background(), cfg2, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer a2.Close()
			if r := testutil.NewClient(t, a2.Handler).As(newKey(t, a2, auth.RoleAdmin)).Do(`{ customers { totalCount } }`, nil); len(r.Errors) == 0 {
				t.Errorf("llx_ tables found in an erp_ install: %s", r.Raw)
			}
		})
	}
}

// dolibarrBehindProxy is an app (SQLite main database) whose Dolibarr, on
// MariaDB, is reached through a proxy the test can cut, with n shipments of
// an active customer, with its admin client.
func dolibarrBehindProxy(t *testing.T, n int) (*app.App, *testutil.Client, *testutil.Proxy) {
	t.Helper()
	m := testutil.All()[1]
	testutil.Require(t, m)
	mainDB := testutil.NewDatabase(t, testutil.SQLite)
	dol := testutil.NewDolibarr(t, m)
	proxy := testutil.NewProxy(t, m.Host+":"+itoa(m.Port))
	cfg := testutil.Config(t, mainDB, dol, "DOLIBARR_DB_HOST="+proxy.Host(), "DOLIBARR_DB_PORT="+itoa(proxy.Port()), "DOLIBARR_DB_TIMEOUT=1s")
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	gql := testutil.NewClient(t, a.Handler).As(newKey(t, a, auth.RoleAdmin))
	for range n {
		gql.MustData(createMutation, map[string]any{"input": createInput(activeCustomer, "UPS")}, nil)
	}
	return a, gql, proxy
}

// TestDolibarrDown: with Dolibarr unreachable, shipments are still served,
// each customer field null with DOLIBARR_UNAVAILABLE at its path.
func TestDolibarrDown(t *testing.T) {
	_, gql, proxy := dolibarrBehindProxy(t, 3)

	proxy.Cut()
	r := gql.Do(`{ shipments { totalCount edges { node { reference status customer { name } } } } }`, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
	}
	var out struct {
		Shipments struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Reference string
					Customer  *struct{ Name string }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Shipments.TotalCount != 3 || len(out.Shipments.Edges) != 3 {
		t.Fatalf("shipments with Dolibarr down: %s", r.Raw)
	}
	for _, edge := range out.Shipments.Edges {
		if edge.Node.Reference == "" || edge.Node.Customer != nil {
			t.Errorf("edge: %+v", edge)
		}
	}
	if len(r.Errors) != 3 {
		t.Errorf("want one error per customer field: %s", r.Raw)
	}
	for _, e := range r.Errors {
		if e.Code() != "DOLIBARR_UNAVAILABLE" || len(e.Path) != 5 || e.Path[4] != "customer" {
			t.Errorf("error: %+v", e)
		}
	}
	// A new shipment needs its customer checked: refused cleanly, nothing written.
	gql.MustFail(createMutation, map[string]any{"input": createInput(activeCustomer, "UPS")}, "DOLIBARR_UNAVAILABLE")

	proxy.Restore()
	gql.MustData(`{ shipments { totalCount edges { node { customer { name } } } } }`, nil, &out)
	if out.Shipments.TotalCount != 3 || out.Shipments.Edges[0].Node.Customer == nil {
		t.Errorf("after Dolibarr returns: %+v", out)
	}
}
