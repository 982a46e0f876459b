package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// env is one application over fresh databases of one backend.
type env struct {
	t   testing.TB
	app *app.App
	// gql sends the admin key of adminKey.
	gql      *testutil.Client
	db       testutil.Database
	adminKey string
}

func newEnv(t testing.TB, b testutil.Backend, extra ...string) *env {
	t.Helper()
	mainDB := testutil.NewDatabase(t, b)
	dolibarrDB := testutil.NewDolibarr(t, b)
	cfg := testutil.Config(t, mainDB, dolibarrDB, extra...)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start app on %s: %v", b.Name, err)
	}
	t.Cleanup(a.Close)
	e := &env{t: t, app: a, db: mainDB}
	e.adminKey = e.key(auth.RoleAdmin)
	e.gql = testutil.NewClient(t, a.Handler).As(e.adminKey)
	return e
}

// key creates an API key with role and, for partners, customer rowids.
func (e *env) key(role auth.Role, customers ...int) string {
	e.t.Helper()
	return newKey(e.t, e.app, role, customers...)
}

func newKey(t testing.TB, a *app.App, role auth.Role, customers ...int) string {
	t.Helper()
	_, secret, err := a.Keys.Create(system(), auth.CreateInput{Name: "test " + string(role), Role: role, Customers: customers, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// system is a context that bypasses the privacy rules, for test fixtures.
func system() context.Context { return privacy.DecisionContext(context.Background(), privacy.Allow) }

// forEachBackend runs fn as a parallel subtest per database backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b testutil.Backend)) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			testutil.Require(t, b)
			fn(t, b)
		})
	}
}

// Demo Dolibarr rowids (see internal/dolibarr/demodata.go).
const (
	activeCustomer       = 1  // Boulangerie Martin SARL, FR
	otherActiveCustomer  = 16 // Nordwind Logistik GmbH, DE
	closedCustomer       = 10 // Ferme des Trois Chênes (status 0)
	prospect             = 51 // client = 2
	supplier             = 54 // fournisseur only
	otherEntityCustomer  = 57 // entity 2
	demoCustomersVisible = 50
)

func customerID(rowid int) string { return gid.New(gid.TypeCustomer, rowid).String() }

const shipmentFields = `id reference status carrier serviceLevel trackingNumber version
	createdAt updatedAt createdBy updatedBy estimatedDeliveryAt deliveredAt cancelReason nextStatuses
	origin { name company line1 line2 city region postalCode countryCode phone email }
	destination { name line1 city postalCode countryCode }
	parcels { weightGrams lengthMm widthMm heightMm }`

type shipmentJSON struct {
	ID                  string   `json:"id"`
	Reference           string   `json:"reference"`
	Status              string   `json:"status"`
	Carrier             string   `json:"carrier"`
	ServiceLevel        *string  `json:"serviceLevel"`
	TrackingNumber      *string  `json:"trackingNumber"`
	Version             int      `json:"version"`
	CreatedAt           string   `json:"createdAt"`
	UpdatedAt           string   `json:"updatedAt"`
	CreatedBy           string   `json:"createdBy"`
	EstimatedDeliveryAt *string  `json:"estimatedDeliveryAt"`
	DeliveredAt         *string  `json:"deliveredAt"`
	CancelReason        *string  `json:"cancelReason"`
	NextStatuses        []string `json:"nextStatuses"`
	Origin              struct {
		Name        string  `json:"name"`
		Company     *string `json:"company"`
		City        string  `json:"city"`
		CountryCode string  `json:"countryCode"`
	} `json:"origin"`
	Destination struct {
		City string `json:"city"`
	} `json:"destination"`
	Parcels []struct {
		WeightGrams int `json:"weightGrams"`
	} `json:"parcels"`
	Customer *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"customer"`
}

func address(city, country string) map[string]any {
	return map[string]any{
		"name": "Receiving desk", "company": "ACME", "line1": "1 rue de la Paix",
		"city": city, "postalCode": "75002", "countryCode": country,
		"phone": "+33 1 00 00 00 00", "email": "desk@example.com",
	}
}

func createInput(customer int, carrier string) map[string]any {
	return map[string]any{
		"customerId":   customerID(customer),
		"carrier":      carrier,
		"serviceLevel": "Express",
		"origin":       address("Lyon", "FR"),
		"destination":  address("Berlin", "de"),
		"parcels":      []any{map[string]any{"weightGrams": 1200, "lengthMm": 300, "widthMm": 200, "heightMm": 100}},
	}
}

const createMutation = `mutation($input: CreateShipmentInput!) { createShipment(input: $input) { ` + shipmentFields + ` customer { id name } } }`

func (e *env) create(input map[string]any) shipmentJSON {
	e.t.Helper()
	var out struct {
		CreateShipment shipmentJSON `json:"createShipment"`
	}
	e.gql.MustData(createMutation, map[string]any{"input": input}, &out)
	return out.CreateShipment
}

func (e *env) addEvent(id, status, at string) *testutil.Response {
	e.t.Helper()
	return e.gql.Do(`mutation($id: ID!, $in: TrackingEventInput!) {
		addTrackingEvent(shipmentId: $id, input: $in) { id status occurredAt description location { city countryCode } shipment { id status version } }
	}`, map[string]any{"id": id, "in": map[string]any{
		"status": status, "occurredAt": at, "description": "scan " + status,
		"location": map[string]any{"city": "Paris", "countryCode": "fr"},
	}})
}
