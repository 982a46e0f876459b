package app_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestShipmentLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)

		// Create.
		in := createInput(activeCustomer, "UPS")
		in["trackingNumber"] = "1Z999AA10123456784"
		in["estimatedDeliveryAt"] = "2030-01-02T15:04:05Z"
		s := e.create(in)
		if s.Status != "DRAFT" || s.Version != 1 || s.Carrier != "UPS" {
			t.Fatalf("created shipment: %+v", s)
		}
		if len(s.Reference) < 3 || s.Reference[:4] != "SHP-" {
			t.Errorf("generated reference %q, want SHP-…", s.Reference)
		}
		if s.Customer == nil || s.Customer.Name != "Boulangerie Martin SARL" || s.Customer.ID != customerID(activeCustomer) {
			t.Errorf("customer: %+v", s.Customer)
		}
		if s.Origin.Company == nil || *s.Origin.Company != "ACME" || s.Origin.CountryCode != "FR" {
			t.Errorf("origin: %+v", s.Origin)
		}
		if !strings.HasPrefix(s.CreatedBy, "key:") || !slices.Equal(s.NextStatuses, []string{"LABEL_CREATED", "CANCELLED"}) {
			t.Errorf("createdBy %q nextStatuses %v", s.CreatedBy, s.NextStatuses)
		}

		// Read back by ID, by reference and through node().
		var byID, byRef struct {
			Shipment shipmentJSON `json:"shipment"`
		}
		e.gql.MustData(`query($id: ID) { shipment(id: $id) { `+shipmentFields+` } }`, map[string]any{"id": s.ID}, &byID)
		e.gql.MustData(`query($r: String) { shipment(reference: $r) { `+shipmentFields+` } }`, map[string]any{"r": s.Reference}, &byRef)
		if byID.Shipment.ID != s.ID || byRef.Shipment.ID != s.ID || *byID.Shipment.TrackingNumber != "1Z999AA10123456784" {
			t.Fatalf("read back: %+v / %+v", byID.Shipment, byRef.Shipment)
		}
		if byID.Shipment.EstimatedDeliveryAt == nil || *byID.Shipment.EstimatedDeliveryAt != "2030-01-02T15:04:05Z" {
			t.Errorf("estimatedDeliveryAt: %v", byID.Shipment.EstimatedDeliveryAt)
		}
		var node struct {
			Node struct {
				Typename  string `json:"__typename"`
				Reference string `json:"reference"`
			} `json:"node"`
		}
		e.gql.MustData(`query($id: ID!) { node(id: $id) { __typename ... on Shipment { reference } } }`, map[string]any{"id": s.ID}, &node)
		if node.Node.Typename != "Shipment" || node.Node.Reference != s.Reference {
			t.Errorf("node: %+v", node)
		}

		// Update with the current version.
		const updateMutation = `mutation($id: ID!, $v: Int!, $in: UpdateShipmentInput!) {
			updateShipment(id: $id, version: $v, input: $in) { ` + shipmentFields + ` } }`
		var upd struct {
			UpdateShipment shipmentJSON `json:"updateShipment"`
		}
		e.gql.MustData(updateMutation, map[string]any{"id": s.ID, "v": 1, "in": map[string]any{
			"carrier": "DHL", "serviceLevel": nil, "destination": address("Hamburg", "DE"),
		}}, &upd)
		u := upd.UpdateShipment
		if u.Version != 2 || u.Carrier != "DHL" || u.ServiceLevel != nil || u.Destination.City != "Hamburg" {
			t.Fatalf("updated: %+v", u)
		}
		if u.TrackingNumber == nil || *u.TrackingNumber != "1Z999AA10123456784" {
			t.Errorf("absent trackingNumber must be left as is, got %v", u.TrackingNumber)
		}

		// A stale version is a CONFLICT and writes nothing.
		r := e.gql.MustFail(updateMutation, map[string]any{"id": s.ID, "v": 1, "in": map[string]any{"carrier": "FedEx"}}, "CONFLICT")
		if got := r.Errors[0].Extensions["currentVersion"]; got != float64(2) {
			t.Errorf("currentVersion extension = %v, want 2", got)
		}
		e.gql.MustData(`query($id: ID) { shipment(id: $id) { `+shipmentFields+` } }`, map[string]any{"id": s.ID}, &byID)
		if byID.Shipment.Carrier != "DHL" || byID.Shipment.Version != 2 {
			t.Fatalf("stale update changed the shipment: %+v", byID.Shipment)
		}

		// Events and transitions.
		base := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
		at := func(h int) string { return base.Add(time.Duration(h) * time.Minute).Format(time.RFC3339) }
		for i, step := range []string{"LABEL_CREATED", "IN_TRANSIT", "IN_TRANSIT", "OUT_FOR_DELIVERY"} {
			resp := e.addEvent(s.ID, step, at(i*10))
			if len(resp.Errors) > 0 {
				t.Fatalf("event %s: %s", step, resp.Raw)
			}
			var ev struct {
				AddTrackingEvent struct {
					Status   string `json:"status"`
					Location struct {
						CountryCode string `json:"countryCode"`
					} `json:"location"`
					Shipment struct {
						Status  string `json:"status"`
						Version int    `json:"version"`
					} `json:"shipment"`
				} `json:"addTrackingEvent"`
			}
			if err := json.Unmarshal(resp.Data, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.AddTrackingEvent.Shipment.Status != step || ev.AddTrackingEvent.Shipment.Version != 3+i || ev.AddTrackingEvent.Location.CountryCode != "FR" {
				t.Fatalf("after %s: %+v", step, ev)
			}
		}
		// Illegal moves: back to DRAFT (refused as input) and OUT_FOR_DELIVERY -> LABEL_CREATED.
		r = e.gql.MustFail(`mutation($id: ID!) { addTrackingEvent(shipmentId: $id, input: {status: LABEL_CREATED, occurredAt: "`+at(50)+`"}) { id } }`,
			map[string]any{"id": s.ID}, "INVALID_TRANSITION")
		if r.Errors[0].Extensions["from"] != "OUT_FOR_DELIVERY" || r.Errors[0].Extensions["to"] != "LABEL_CREATED" {
			t.Errorf("extensions: %v", r.Errors[0].Extensions)
		}
		e.gql.MustFail(`mutation($id: ID!) { addTrackingEvent(shipmentId: $id, input: {status: DRAFT, occurredAt: "`+at(50)+`"}) { id } }`,
			map[string]any{"id": s.ID}, "BAD_USER_INPUT")
		e.gql.MustFail(`mutation($id: ID!) { addTrackingEvent(shipmentId: $id, input: {status: DELIVERED, occurredAt: "2999-01-01T00:00:00Z"}) { id } }`,
			map[string]any{"id": s.ID}, "BAD_USER_INPUT")
		// Cancelling an in-flight shipment is not allowed.
		e.gql.MustFail(`mutation($id: ID!) { cancelShipment(id: $id, reason: "too late") { id } }`, map[string]any{"id": s.ID}, "INVALID_TRANSITION")

		// Events: newest first, and the refused ones were not written.
		var evs struct {
			Shipment struct {
				Status string `json:"status"`
				Events struct {
					TotalCount int `json:"totalCount"`
					Edges      []struct {
						Node struct {
							Status     string `json:"status"`
							OccurredAt string `json:"occurredAt"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"events"`
			} `json:"shipment"`
		}
		e.gql.MustData(`query($id: ID) { shipment(id: $id) { status events { totalCount edges { node { status occurredAt } } } } }`, map[string]any{"id": s.ID}, &evs)
		if evs.Shipment.Status != "OUT_FOR_DELIVERY" || evs.Shipment.Events.TotalCount != 4 {
			t.Fatalf("events: %+v", evs)
		}
		var statuses []string
		for i, edge := range evs.Shipment.Events.Edges {
			statuses = append(statuses, edge.Node.Status)
			if i > 0 && edge.Node.OccurredAt > evs.Shipment.Events.Edges[i-1].Node.OccurredAt {
				t.Errorf("events not newest first: %+v", evs.Shipment.Events.Edges)
			}
		}
		if !slices.Equal(statuses, []string{"OUT_FOR_DELIVERY", "IN_TRANSIT", "IN_TRANSIT", "LABEL_CREATED"}) {
			t.Errorf("event order %v", statuses)
		}

		// Deliver: final; deliveredAt set; no more updates.
		if resp := e.addEvent(s.ID, "DELIVERED", at(60)); len(resp.Errors) > 0 {
			t.Fatalf("deliver: %s", resp.Raw)
		}
		e.gql.MustData(`query($id: ID) { shipment(id: $id) { `+shipmentFields+` } }`, map[string]any{"id": s.ID}, &byID)
		if byID.Shipment.DeliveredAt == nil || *byID.Shipment.DeliveredAt != at(60) || len(byID.Shipment.NextStatuses) != 0 {
			t.Errorf("delivered: %+v", byID.Shipment)
		}
		e.gql.MustFail(updateMutation, map[string]any{"id": s.ID, "v": byID.Shipment.Version, "in": map[string]any{"carrier": "GLS"}}, "CONFLICT")
		if resp := e.addEvent(s.ID, "IN_TRANSIT", at(70)); len(resp.Errors) == 0 || resp.Errors[0].Code() != "INVALID_TRANSITION" {
			t.Errorf("event after DELIVERED: %s", resp.Raw)
		}

		// Cancel a draft, with a reason; cancelling again is illegal.
		d := e.create(createInput(otherActiveCustomer, "GLS"))
		var c struct {
			CancelShipment shipmentJSON `json:"cancelShipment"`
		}
		e.gql.MustData(`mutation($id: ID!) { cancelShipment(id: $id, reason: "customer changed their mind") { `+shipmentFields+` } }`, map[string]any{"id": d.ID}, &c)
		if c.CancelShipment.Status != "CANCELLED" || c.CancelShipment.CancelReason == nil || *c.CancelShipment.CancelReason != "customer changed their mind" || c.CancelShipment.Version != 2 {
			t.Errorf("cancelled: %+v", c.CancelShipment)
		}
		e.gql.MustFail(`mutation($id: ID!) { cancelShipment(id: $id) { id } }`, map[string]any{"id": d.ID}, "INVALID_TRANSITION")

		// Unknown objects.
		missing := "U2hpcG1lbnQ6OTk5OTk5" // Shipment:999999
		e.gql.MustFail(`mutation($id: ID!) { cancelShipment(id: $id) { id } }`, map[string]any{"id": missing}, "NOT_FOUND")
		e.gql.MustFail(updateMutation, map[string]any{"id": missing, "v": 1, "in": map[string]any{"carrier": "X"}}, "NOT_FOUND")
		var none struct {
			Shipment *shipmentJSON `json:"shipment"`
			Node     *struct{}     `json:"node"`
		}
		e.gql.MustData(`query($id: ID!) { shipment(id: $id) { id } node(id: $id) { id } }`, map[string]any{"id": missing}, &none)
		if none.Shipment != nil || none.Node != nil {
			t.Errorf("missing shipment should be null: %+v", none)
		}
	})
}

func TestCreateConflictsAndCustomerRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		in := createInput(activeCustomer, "UPS")
		in["reference"] = "ORDER-1001"
		in["trackingNumber"] = "TRACK-1"
		e.create(in)

		// The same reference again: CONFLICT on input.reference.
		dup := createInput(activeCustomer, "DHL")
		dup["reference"] = "ORDER-1001"
		r := e.gql.MustFail(createMutation, map[string]any{"input": dup}, "CONFLICT")
		if r.Errors[0].Extensions["field"] != "input.reference" {
			t.Errorf("field: %v", r.Errors[0].Extensions)
		}
		// The same tracking number is fine for another carrier, not for the same one.
		other := createInput(activeCustomer, "DHL")
		other["trackingNumber"] = "TRACK-1"
		e.create(other)
		same := createInput(activeCustomer, "UPS")
		same["trackingNumber"] = "TRACK-1"
		r = e.gql.MustFail(createMutation, map[string]any{"input": same}, "CONFLICT")
		if r.Errors[0].Extensions["field"] != "input.trackingNumber" {
			t.Errorf("field: %v", r.Errors[0].Extensions)
		}

		for name, rowid := range map[string]int{
			"closed customer": closedCustomer, "prospect": prospect, "supplier": supplier,
			"other entity": otherEntityCustomer, "missing": 999999,
		} {
			r := e.gql.MustFail(createMutation, map[string]any{"input": createInput(rowid, "UPS")}, "BAD_USER_INPUT")
			if r.Errors[0].Extensions["field"] != "input.customerId" {
				t.Errorf("%s: %s", name, r.Raw)
			}
		}
		var count struct {
			Shipments struct {
				TotalCount int `json:"totalCount"`
			} `json:"shipments"`
		}
		e.gql.MustData(`{ shipments { totalCount } }`, nil, &count)
		if count.Shipments.TotalCount != 2 {
			t.Errorf("refused creates must write nothing: %d shipments", count.Shipments.TotalCount)
		}
	})
}

// Concurrent events on one shipment queue on its row lock: all are stored, in
// some order, and the version counts exactly the changes made.
func TestConcurrentEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		s := e.create(createInput(activeCustomer, "UPS"))
		at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
		if r := e.addEvent(s.ID, "LABEL_CREATED", at); len(r.Errors) > 0 {
			t.Fatal(string(r.Raw))
		}
		const n = 8
		results := make(chan *testutil.Response, n)
		for range n {
			go func() {
				results <- e.gql.Do(`mutation($id: ID!, $at: Time!) { addTrackingEvent(shipmentId: $id, input: {status: IN_TRANSIT, occurredAt: $at}) { id } }`, map[string]any{"id": s.ID, "at": at})
			}()
		}
		ok := 0
		for range n {
			r := <-results
			switch {
			case len(r.Errors) == 0:
				ok++
			case r.Errors[0].Code() != "CONFLICT":
				t.Errorf("concurrent event: %s", r.Raw)
			}
		}
		var out struct {
			Shipment struct {
				Version int `json:"version"`
				Events  struct {
					TotalCount int `json:"totalCount"`
				} `json:"events"`
			} `json:"shipment"`
		}
		e.gql.MustData(`query($id: ID) { shipment(id: $id) { version events { totalCount } } }`, map[string]any{"id": s.ID}, &out)
		if out.Shipment.Events.TotalCount != 1+ok || out.Shipment.Version != 2+ok || ok != n {
			t.Errorf("%d acknowledged, but %d events and version %d", ok, out.Shipment.Events.TotalCount, out.Shipment.Version)
		}
		t.Logf("%s: %d of %d concurrent events acknowledged", b.Name, ok, n)
	})
}
