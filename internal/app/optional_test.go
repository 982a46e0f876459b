package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// optionalShipment selects every nullable scalar of a shipment and of its
// addresses.
const optionalShipment = `id serviceLevel trackingNumber cancelReason
	origin { name company line2 region phone email }
	destination { name company line2 region phone email }`

// optionalShipmentNulls are the paths of optionalShipment that must be null
// when the input left them out or gave them blank.
var optionalShipmentNulls = []string{
	"serviceLevel", "trackingNumber", "cancelReason",
	"origin.company", "origin.line2", "origin.region", "origin.phone", "origin.email",
	"destination.company", "destination.line2", "destination.region", "destination.phone", "destination.email",
}

// optionalEvent selects the nullable scalars of a tracking event.
const optionalEvent = `id description location { city region postalCode countryCode }`

// assertNulls fails unless every dotted path of paths is present in the JSON
// object raw and null ("" is not absent: the schema says null).
func assertNulls(t *testing.T, what string, raw []byte, paths ...string) {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatalf("%s: decode %s: %v", what, raw, err)
	}
	for _, p := range paths {
		var cur any = root
		keys := strings.Split(p, ".")
		for i, k := range keys {
			obj, ok := cur.(map[string]any)
			if !ok {
				t.Errorf("%s: %s: %s is not an object in %s", what, p, strings.Join(keys[:i], "."), raw)
				break
			}
			v, present := obj[k]
			if !present {
				t.Errorf("%s: %s missing from %s", what, p, raw)
				break
			}
			cur = v
		}
		if cur != nil {
			t.Errorf("%s: %s = %#v, want null", what, p, cur)
		}
	}
}

// field returns the JSON of the top-level field name of a response's data.
func field(t *testing.T, r *testutil.Response, name string) []byte {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %s", r.Raw)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
	return data[name]
}

// TestOptionalFieldsNull: an optional field left out, or given as "" or
// blanks, is stored absent and answers null: in the mutation's own result,
// on reads through both executors (planned and generic), and in
// subscription payloads.
func TestOptionalFieldsNull(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e, clients, _ := plannedPair(t, testutil.NewDatabase(t, b), testutil.NewDolibarr(t, b))
		blankAddress := func(blank any) map[string]any {
			a := map[string]any{"name": "Desk", "line1": "1 rue", "city": "Lyon", "postalCode": "69001", "countryCode": "FR"}
			if blank != nil {
				for _, k := range []string{"company", "line2", "region", "phone", "email"} {
					a[k] = blank
				}
			}
			return a
		}
		cases := []struct {
			name   string
			blank  any    // the value given to every optional field; nil: left out
			reason any    // cancelShipment's reason; nil: left out
			event  string // the tracking event's description and location fields
		}{
			{name: "left out", event: `{status: LABEL_CREATED, occurredAt: $at}`},
			{name: "empty strings", blank: "", reason: "", event: `{status: LABEL_CREATED, occurredAt: $at, description: "", location: {city: "", region: "", postalCode: "", countryCode: ""}}`},
			{name: "blanks", blank: "  \t", reason: " ", event: `{status: LABEL_CREATED, occurredAt: $at, description: "   ", location: {city: " "}}`},
		}
		at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				input := map[string]any{
					"customerId": customerID(activeCustomer), "carrier": "UPS",
					"origin": blankAddress(c.blank), "destination": blankAddress(c.blank),
					"parcels": []any{map[string]any{"weightGrams": 1, "lengthMm": 1, "widthMm": 1, "heightMm": 1}},
				}
				if c.blank != nil {
					input["serviceLevel"], input["trackingNumber"] = c.blank, c.blank
				}
				created := field(t, e.gql.Do(`mutation($in: CreateShipmentInput!) { createShipment(input: $in) { `+optionalShipment+` } }`, map[string]any{"in": input}), "createShipment")
				assertNulls(t, "createShipment", created, optionalShipmentNulls...)
				var sh struct{ ID string }
				if err := json.Unmarshal(created, &sh); err != nil {
					t.Fatal(err)
				}

				// The subscriptions first: shipmentUpdated answers the
				// shipment as it is now, trackingEventAdded the event below.
				ws := testutil.MustDialWS(t, e.gql.URL(), "graphql-transport-ws")
				ws.Init(bearer(e.adminKey))
				subscribe(ws, false, "s", `subscription($id: ID!) { shipmentUpdated(id: $id) { `+optionalShipment+` } }`, map[string]any{"id": sh.ID})
				subscribe(ws, false, "e", `subscription($id: ID!) { trackingEventAdded(shipmentId: $id) { `+optionalEvent+` } }`, map[string]any{"id": sh.ID})
				first := nextData(t, ws, "s")
				assertNulls(t, "shipmentUpdated", field(t, first, "shipmentUpdated"), optionalShipmentNulls...)
				waitSubscribers(t, e.app, 2)

				added := field(t, e.gql.Do(`mutation($id: ID!, $at: Time!) { addTrackingEvent(shipmentId: $id, input: `+c.event+`) { `+optionalEvent+` } }`,
					map[string]any{"id": sh.ID, "at": at}), "addTrackingEvent")
				assertNulls(t, "addTrackingEvent", added, "description", "location")
				assertNulls(t, "trackingEventAdded", field(t, nextData(t, ws, "e"), "trackingEventAdded"), "description", "location")

				vars := map[string]any{"id": sh.ID}
				doc := `mutation($id: ID!) { cancelShipment(id: $id) { ` + optionalShipment + ` } }`
				if c.reason != nil {
					vars["reason"] = c.reason
					doc = `mutation($id: ID!, $reason: String) { cancelShipment(id: $id, reason: $reason) { ` + optionalShipment + ` } }`
				}
				assertNulls(t, "cancelShipment", field(t, e.gql.Do(doc, vars), "cancelShipment"), optionalShipmentNulls...)

				read := `query($id: ID) { shipment(id: $id) { ` + optionalShipment + ` events { edges { node { ` + optionalEvent + ` } } } } }`
				for i, executor := range []string{"planned", "generic"} {
					got := field(t, clients["admin"][i].Do(read, vars), "shipment")
					assertNulls(t, executor+" shipment", got, optionalShipmentNulls...)
					var events struct {
						Events struct {
							Edges []struct{ Node json.RawMessage }
						}
					}
					if err := json.Unmarshal(got, &events); err != nil {
						t.Fatal(err)
					}
					if len(events.Events.Edges) != 2 {
						t.Fatalf("%s: want 2 events, got %s", executor, got)
					}
					// The newest, the cancellation, has a description.
					assertNulls(t, executor+" event", events.Events.Edges[1].Node, "description", "location")
					assertNulls(t, executor+" cancellation", events.Events.Edges[0].Node, "location")
				}
			})
		}
	})
}

// nextData reads the next message of subscription id and returns it as a
// response, failing on anything but data; data of the connection's other
// subscriptions is skipped (shipmentUpdated answers every change).
func nextData(t *testing.T, ws *testutil.WS, id string) *testutil.Response {
	t.Helper()
	m := ws.Next(10 * time.Second)
	for m.Type == "next" && m.ID != id {
		m = ws.Next(10 * time.Second)
	}
	if m.Type != "next" {
		t.Fatalf("want next of %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	r := &testutil.Response{Raw: m.Payload}
	if err := json.Unmarshal(m.Payload, r); err != nil {
		t.Fatalf("decode %s: %v", m.Payload, err)
	}
	return r
}

// TestDolibarrOptionalFieldsNull: Dolibarr stores "" (or blanks) as often as
// NULL for a value it does not have; either answers null, on both executors.
func TestDolibarrOptionalFieldsNull(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		dolibarrDB := testutil.NewDolibarr(t, b)
		e, clients, _ := plannedPair(t, testutil.NewDatabase(t, b), dolibarrDB)
		sh := e.create(createInput(activeCustomer, "UPS"))
		ddb := dolibarrDB.Open(t)
		for _, stmt := range []string{
			`UPDATE llx_societe SET name_alias = '', address = ' ', zip = '', town = NULL, phone = '', email = '', url = '', tva_intra = '' WHERE rowid = 1`,
			`UPDATE llx_socpeople SET civility = '', firstname = '', poste = ' ', email = '', phone = NULL, phone_mobile = '' WHERE fk_soc = 1`,
			`UPDATE llx_c_country SET code_iso = '' WHERE rowid = (SELECT fk_pays FROM llx_societe WHERE rowid = 1)`,
			`UPDATE llx_c_shipment_mode SET tracking = '' WHERE rowid = (SELECT fk_shipping_method FROM llx_societe WHERE rowid = 1)`,
		} {
			if _, err := ddb.ExecContext(system(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		customerNulls := []string{"alias", "address", "postalCode", "city", "phone", "email", "url", "vatNumber", "country.codeIso"}
		const customerFields = `alias address postalCode city phone email url vatNumber country { codeIso }`
		cases := []struct {
			name, query string
			vars        map[string]any
			field       string
			paths       []string
			executors   int // how many of planned, generic answer it: the plan covers Shipment.customer, not Query.customer
		}{
			{name: "shipment's customer", query: `query($id: ID) { shipment(id: $id) { customer { ` + customerFields + ` } } }`, vars: map[string]any{"id": sh.ID},
				field: "shipment", paths: prefixed("customer.", customerNulls), executors: 2},
			{name: "customer", query: `query($id: ID!) { customer(id: $id) { ` + customerFields + ` shippingMethod { trackingUrl } } }`, vars: map[string]any{"id": customerID(activeCustomer)},
				field: "customer", paths: append(customerNulls, "shippingMethod.trackingUrl"), executors: 1},
		}
		for _, c := range cases {
			for i, executor := range []string{"planned", "generic"}[:c.executors] {
				assertNulls(t, c.name+" ("+executor+")", field(t, clients["admin"][i].Do(c.query, c.vars), c.field), c.paths...)
			}
		}
		var contacts struct {
			Customer struct{ Contacts []json.RawMessage }
		}
		e.gql.MustData(`query($id: ID!) { customer(id: $id) { contacts { civility firstName jobTitle email phone mobilePhone } } }`, map[string]any{"id": customerID(activeCustomer)}, &contacts)
		if len(contacts.Customer.Contacts) == 0 {
			t.Fatal("customer 1 has no contacts")
		}
		for _, c := range contacts.Customer.Contacts {
			assertNulls(t, "contact", c, "civility", "firstName", "jobTitle", "email", "phone", "mobilePhone")
		}
	})
}

func prefixed(prefix string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}
