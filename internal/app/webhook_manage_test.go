package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// partnerKey creates a PARTNER key for customers and returns its secret
// and its row ID (what ownerId names).
func (e *env) partnerKey(customers ...int) (string, int) {
	e.t.Helper()
	row, secret, err := e.app.Keys.Create(system(), auth.CreateInput{Name: "partner", Role: auth.RolePartner, Customers: customers, CreatedBy: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret, row.ID
}

// event adds a tracking event to shipment id and returns its ID (the
// webhook-id of its deliveries).
func (e *env) event(id, status string) string {
	e.t.Helper()
	r := e.addEvent(id, status, time.Now().UTC().Format(time.RFC3339))
	if len(r.Errors) > 0 {
		e.t.Fatalf("add event: %s", r.Raw)
	}
	var ev struct {
		AddTrackingEvent struct{ ID string } `json:"addTrackingEvent"`
	}
	if err := json.Unmarshal(r.Data, &ev); err != nil {
		e.t.Fatal(err)
	}
	return ev.AddTrackingEvent.ID
}

// endpointJSON is what the tests read of a WebhookEndpoint.
type endpointJSON struct {
	ID                  string     `json:"id"`
	URL                 string     `json:"url"`
	Description         *string    `json:"description"`
	State               string     `json:"state"`
	OwnerID             string     `json:"ownerId"`
	DisabledReason      *string    `json:"disabledReason"`
	PreviousSecretUntil *time.Time `json:"previousSecretUntil"`
}

const endpointFields = `id url description state ownerId disabledReason previousSecretUntil`

// readEndpoint reads endpoint id as c (nil: not visible to c).
func readEndpoint(c *testutil.Client, id string) *endpointJSON {
	var out struct {
		WebhookEndpoint *endpointJSON `json:"webhookEndpoint"`
	}
	c.MustData(`query($id: ID!) { webhookEndpoint(id: $id) { `+endpointFields+` } }`, map[string]any{"id": id}, &out)
	return out.WebhookEndpoint
}

// listEndpoints returns the IDs of the endpoints c manages.
func listEndpoints(c *testutil.Client) []string {
	var out struct {
		WebhookEndpoints []endpointJSON `json:"webhookEndpoints"`
	}
	c.MustData(`{ webhookEndpoints { id } }`, nil, &out)
	ids := make([]string, 0, len(out.WebhookEndpoints))
	for _, ep := range out.WebhookEndpoints {
		ids = append(ids, ep.ID)
	}
	slices.Sort(ids)
	return ids
}

// mustCode asserts r failed with code alone and a message containing want.
func mustCode(t *testing.T, r *testutil.Response, code, want string) {
	t.Helper()
	if len(r.Errors) == 0 || r.Errors[0].Code() != code {
		t.Fatalf("want %s: %s", code, r.Raw)
	}
	if !strings.Contains(strings.ToLower(r.Errors[0].Message), strings.ToLower(want)) {
		t.Fatalf("want a message saying %q: %s", want, r.Raw)
	}
}

type deliveryJSON struct {
	ID           string `json:"id"`
	MessageID    string `json:"messageId"`
	EventType    string `json:"eventType"`
	Status       string `json:"status"`
	AttemptCount int    `json:"attemptCount"`
	Attempts     []struct {
		StatusCode *int    `json:"statusCode"`
		Error      *string `json:"error"`
		Response   *string `json:"response"`
	} `json:"attempts"`
}

const deliveryFields = `id messageId eventType status attemptCount attempts { statusCode error response }`

// deliveries returns endpoint id's delivery log, newest first.
func deliveries(c *testutil.Client, id string) []deliveryJSON {
	var out struct {
		WebhookDeliveries struct {
			Edges []struct{ Node deliveryJSON } `json:"edges"`
		} `json:"webhookDeliveries"`
	}
	c.MustData(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 100) { edges { node { `+deliveryFields+` } } } }`,
		map[string]any{"id": id}, &out)
	ds := make([]deliveryJSON, 0, len(out.WebhookDeliveries.Edges))
	for _, e := range out.WebhookDeliveries.Edges {
		ds = append(ds, e.Node)
	}
	return ds
}

// quiet waits a little and fails when r took more than n requests.
func (r *receiver) quiet(n int, d time.Duration) {
	r.t.Helper()
	time.Sleep(d)
	if reqs, _ := r.snapshot(); len(reqs) != n {
		ids := make([]string, len(reqs))
		for i, q := range reqs {
			ids[i] = q.ID
		}
		r.t.Fatalf("%d requests, want %d: %v", len(reqs), n, ids)
	}
}

// TestWebhookManagement: a partner manages its own endpoints and no one
// else's (NOT_FOUND, as if they did not exist); staff and admins manage
// all; a partner's endpoints deliver as itself (FORBIDDEN otherwise); an
// admin's endpoint owned by a partner key delivers what that partner may
// see; the per-owner limit answers CONFLICT; the secret is only ever in
// the answers of create and rotate.
func TestWebhookManagement(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b, "WEBHOOK_MAX_ENDPOINTS=2")
		rcv := newReceiver(t)
		aKey, aRow := e.partnerKey(activeCustomer)
		bKey, bRow := e.partnerKey(otherActiveCustomer)
		a, bp := e.gql.As(aKey), e.gql.As(bKey)
		staff := e.gql.As(e.key(auth.RoleStaff))

		ep := e.endpoint(a, map[string]any{"url": rcv.srv.URL + "/a", "description": "A's ERP"})
		if ep.Endpoint.OwnerID != gid.New(gid.TypeAPIKey, aRow).String() || ep.Endpoint.State != "ENABLED" || !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("created: %+v", ep)
		}
		epB := e.endpoint(bp, map[string]any{"url": rcv.srv.URL + "/b"})
		id := ep.Endpoint.ID

		// The partner's own life cycle of its endpoint.
		if got := listEndpoints(a); !slices.Equal(got, []string{id}) {
			t.Errorf("A lists %v, want only its own %s", got, id)
		}
		if got := readEndpoint(a, id); got == nil || got.Description == nil || *got.Description != "A's ERP" {
			t.Errorf("A reads its endpoint: %+v", got)
		}
		// No description is null, never "" (as every optional text).
		if got := readEndpoint(bp, epB.Endpoint.ID); got == nil || got.Description != nil {
			t.Errorf("an endpoint created without a description: %+v, want description null", got)
		}
		var upd struct{ UpdateWebhookEndpoint endpointJSON }
		a.MustData(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {description: "renamed"}) { `+endpointFields+` } }`,
			map[string]any{"id": id}, &upd)
		if d := upd.UpdateWebhookEndpoint.Description; d == nil || *d != "renamed" || *readEndpoint(a, id).Description != "renamed" {
			t.Errorf("update: %+v", upd.UpdateWebhookEndpoint)
		}
		// Blanks remove it.
		var cleared struct{ UpdateWebhookEndpoint endpointJSON }
		a.MustData(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {description: "  "}) { `+endpointFields+` } }`,
			map[string]any{"id": id}, &cleared)
		if cleared.UpdateWebhookEndpoint.Description != nil || readEndpoint(a, id).Description != nil {
			t.Errorf("a blank description is kept (%+v), want null", cleared.UpdateWebhookEndpoint)
		}
		var dis struct{ DisableWebhookEndpoint endpointJSON }
		a.MustData(`mutation($id: ID!) { disableWebhookEndpoint(id: $id) { `+endpointFields+` } }`, map[string]any{"id": id}, &dis)
		if dis.DisableWebhookEndpoint.State != "DISABLED" || dis.DisableWebhookEndpoint.DisabledReason == nil ||
			!strings.Contains(*dis.DisableWebhookEndpoint.DisabledReason, "disabled by") {
			t.Errorf("disable: %+v", dis.DisableWebhookEndpoint)
		}
		var en struct{ EnableWebhookEndpoint endpointJSON }
		a.MustData(`mutation($id: ID!) { enableWebhookEndpoint(id: $id) { `+endpointFields+` } }`, map[string]any{"id": id}, &en)
		if en.EnableWebhookEndpoint.State != "ENABLED" || en.EnableWebhookEndpoint.DisabledReason != nil {
			t.Errorf("enable: %+v", en.EnableWebhookEndpoint)
		}
		rcv.set(ep.Secret, nil)
		var test struct{ SendTestWebhook deliveryJSON }
		a.MustData(`mutation($id: ID!) { sendTestWebhook(id: $id) { `+deliveryFields+` } }`, map[string]any{"id": id}, &test)

		// Another partner: as if A's endpoint did not exist.
		vars := map[string]any{"id": id, "d": test.SendTestWebhook.ID}
		for _, c := range []struct{ name, doc string }{
			{"webhookDeliveries", `query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { id } } } }`},
			{"webhookEndpoint deliveries", `query($id: ID!) { webhookEndpoint(id: $id) { deliveries { edges { node { id } } } } }`},
			{"update", `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {description: "mine"}) { id } }`},
			{"rotate", `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`},
			{"disable", `mutation($id: ID!) { disableWebhookEndpoint(id: $id) { id } }`},
			{"enable", `mutation($id: ID!) { enableWebhookEndpoint(id: $id) { id } }`},
			{"delete", `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`},
			{"sendTest", `mutation($id: ID!) { sendTestWebhook(id: $id) { id } }`},
			{"redeliver", `mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { id } }`},
			{"replay", `mutation($id: ID!) { replayWebhooks(endpointId: $id, since: "2020-01-01T00:00:00Z") { id } }`},
		} {
			t.Run("other partner "+c.name, func(t *testing.T) {
				v := map[string]any{}
				for k, val := range vars {
					if strings.Contains(c.doc, "$"+k) {
						v[k] = val
					}
				}
				r := bp.Do(c.doc, v)
				if c.name == "webhookEndpoint deliveries" {
					if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"webhookEndpoint":null`) {
						t.Fatalf("want null: %s", r.Raw)
					}
					return
				}
				mustCode(t, r, "NOT_FOUND", "not found")
			})
		}
		if got := readEndpoint(bp, id); got != nil {
			t.Errorf("B reads A's endpoint: %+v", got)
		}
		if got := listEndpoints(bp); !slices.Equal(got, []string{epB.Endpoint.ID}) {
			t.Errorf("B lists %v, want only %s", got, epB.Endpoint.ID)
		}
		if got := readEndpoint(a, id); got == nil || got.Description != nil || got.State != "ENABLED" {
			t.Errorf("A's endpoint after B's attempts: %+v", got)
		}

		// Staff and admins see and manage every endpoint.
		all := []string{id, epB.Endpoint.ID}
		slices.Sort(all)
		for name, c := range map[string]*testutil.Client{"staff": staff, "admin": e.gql} {
			if got := listEndpoints(c); !slices.Equal(got, all) {
				t.Errorf("%s lists %v, want %v", name, got, all)
			}
			c.MustData(`mutation($id: ID!) { disableWebhookEndpoint(id: $id) { id } }`, map[string]any{"id": epB.Endpoint.ID}, nil)
			if got := readEndpoint(c, epB.Endpoint.ID); got == nil || got.State != "DISABLED" {
				t.Errorf("%s disabled B's endpoint: %+v", name, got)
			}
			c.MustData(`mutation($id: ID!) { enableWebhookEndpoint(id: $id) { id } }`, map[string]any{"id": epB.Endpoint.ID}, nil)
		}

		// A partner's endpoints deliver as itself.
		r := a.Do(createEndpoint, map[string]any{"in": map[string]any{"url": rcv.srv.URL, "ownerId": gid.New(gid.TypeAPIKey, bRow).String()}})
		mustCode(t, r, "FORBIDDEN", "own key")

		// The limit per owner (2): A has one; a second, then CONFLICT.
		second := e.endpoint(a, map[string]any{"url": rcv.srv.URL + "/a2"})
		r = a.Do(createEndpoint, map[string]any{"in": map[string]any{"url": rcv.srv.URL + "/a3"}})
		mustCode(t, r, "CONFLICT", "WEBHOOK_MAX_ENDPOINTS")
		var del struct{ DeleteWebhookEndpoint endpointJSON }
		a.MustData(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, map[string]any{"id": second.Endpoint.ID}, &del)
		if del.DeleteWebhookEndpoint.ID != second.Endpoint.ID || readEndpoint(a, second.Endpoint.ID) != nil {
			t.Errorf("deleted %+v, still readable", del.DeleteWebhookEndpoint)
		}

		// An admin's endpoint owned by A's key delivers as A: A's
		// customers' events only.
		rcvAdmin := newReceiver(t)
		adm := e.endpoint(e.gql, map[string]any{"url": rcvAdmin.srv.URL, "ownerId": gid.New(gid.TypeAPIKey, aRow).String()})
		if adm.Endpoint.OwnerID != gid.New(gid.TypeAPIKey, aRow).String() {
			t.Fatalf("admin's endpoint for A: owner %s", adm.Endpoint.OwnerID)
		}
		if got := listEndpoints(a); !slices.Contains(got, adm.Endpoint.ID) {
			t.Errorf("A does not list the endpoint made for its key: %v", got)
		}
		rcvAdmin.set(adm.Secret, nil)
		mine := e.create(createInput(activeCustomer, "DHL"))
		other := e.create(createInput(otherActiveCustomer, "UPS"))
		e.event(other.ID, "LABEL_CREATED")
		want := e.event(mine.ID, "LABEL_CREATED")
		e.event(other.ID, "IN_TRANSIT")
		got := rcvAdmin.waitDelivered(1, 10*time.Second)
		rcvAdmin.quiet(1, 500*time.Millisecond)
		if got[0].ID != want || got[0].Verify != nil {
			t.Errorf("delivered %s (%v), want only A's event %s", got[0].ID, got[0].Verify, want)
		}

		// No field of an endpoint holds its secret: create and rotate are
		// the only answers that carry it.
		var schema struct {
			Type struct {
				Fields []struct{ Name string }
			} `json:"__type"`
		}
		e.gql.MustData(`{ __type(name: "WebhookEndpoint") { fields { name } } }`, nil, &schema)
		if len(schema.Type.Fields) == 0 {
			t.Fatal("introspection: no fields")
		}
		for _, f := range schema.Type.Fields {
			if strings.Contains(strings.ToLower(f.Name), "secret") && f.Name != "previousSecretUntil" {
				t.Errorf("WebhookEndpoint.%s exposes the secret", f.Name)
			}
		}
		var rot struct{ RotateWebhookSecret createdEndpoint }
		a.MustData(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }`, map[string]any{"id": id}, &rot)
		if !strings.HasPrefix(rot.RotateWebhookSecret.Secret, "whsec_") || rot.RotateWebhookSecret.Secret == ep.Secret {
			t.Errorf("rotated secret %q", rot.RotateWebhookSecret.Secret)
		}
	})
}

// TestWebhookDocuments: documents are checked at creation (refused with a
// clear message), and each endpoint's deliveries are its document's
// result: the default one, trackingEventAdded for one shipment, a filter
// of statuses, with variables.
func TestWebhookDocuments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b, "GRAPHQL_MAX_DEPTH=5")
		key, _ := e.partnerKey(activeCustomer)
		p := e.gql.As(key)
		rcv := newReceiver(t)

		for _, c := range []struct {
			name, doc string
			vars      map[string]any
			code      string
			says      string
		}{
			{"mutation", `mutation { deleteWebhookEndpoint(id: "x") { id } }`, nil, "BAD_USER_INPUT", "must be a subscription"},
			{"query", `query { shipments { totalCount } }`, nil, "BAD_USER_INPUT", "must be a subscription"},
			{"shipmentUpdated", `subscription { shipmentUpdated(id: "U2hpcG1lbnQ6MQ") { id status } }`, nil, "BAD_USER_INPUT", "shipmentEvents or trackingEventAdded"},
			{"shipmentEvents after", `subscription { shipmentEvents(after: "MTA") { cursor } }`, nil, "BAD_USER_INPUT", "no after"},
			{"syntax error", `subscription { shipmentEvents { cursor }`, nil, "BAD_USER_INPUT", "expected"},
			{"unknown field", `subscription { shipmentEvents { cursor colour } }`, nil, "BAD_USER_INPUT", "colour"},
			{"too deep", `subscription { shipmentEvents { node { shipment { customer { country { code } } } } } }`, nil, "", "deep"},
			{"missing variable", `subscription($s: [ShipmentStatus!]!) { shipmentEvents(where: {statuses: $s}) { cursor } }`, nil, "BAD_USER_INPUT", "variable.s must be defined"},
			{"two root fields", `subscription { shipmentEvents { cursor } trackingEventAdded(shipmentId: "x") { id } }`, nil, "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				in := map[string]any{"url": rcv.srv.URL, "document": c.doc}
				if c.vars != nil {
					in["variables"] = c.vars
				}
				r := p.Do(createEndpoint, map[string]any{"in": in})
				if len(r.Errors) == 0 {
					t.Fatalf("accepted: %s", r.Raw)
				}
				if code := r.Errors[0].Code(); c.code != "" && code != c.code || c.code == "" && code != "BAD_USER_INPUT" && code != "QUERY_TOO_DEEP" &&
					code != "GRAPHQL_VALIDATION_FAILED" {
					t.Fatalf("code %s: %s", code, r.Raw)
				}
				if !strings.Contains(strings.ToLower(r.Errors[0].Message), strings.ToLower(c.says)) {
					t.Fatalf("want a message saying %q: %s", c.says, r.Raw)
				}
			})
		}
		if got := listEndpoints(p); len(got) != 0 {
			t.Fatalf("refused documents made endpoints: %v", got)
		}

		mine := e.create(createInput(activeCustomer, "DHL"))
		mine2 := e.create(createInput(activeCustomer, "GLS"))
		type hook struct {
			name string
			in   map[string]any
			rcv  *receiver
		}
		hooks := []*hook{
			{name: "default", in: map[string]any{}},
			{name: "trackingEventAdded", in: map[string]any{"document": `subscription($id: ID!) { trackingEventAdded(shipmentId: $id) { id status shipment { id } } }`,
				"variables": map[string]any{"id": mine.ID}}},
			{name: "delivered", in: map[string]any{"document": `subscription { shipmentEvents(where: {statuses: [DELIVERED]}) { node { id status } } }`}},
			{name: "variables", in: map[string]any{"document": `subscription($s: [ShipmentStatus!]) { shipmentEvents(where: {statuses: $s}) { node { id status } } }`,
				"variables": map[string]any{"s": []string{"IN_TRANSIT", "OUT_FOR_DELIVERY"}}}},
		}
		for _, h := range hooks {
			h.rcv = newReceiver(t)
			h.in["url"] = h.rcv.srv.URL
			ep := e.endpoint(p, h.in)
			h.rcv.set(ep.Secret, nil)
		}
		var ids []string
		statusOf := map[string]string{}
		for _, st := range []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"} {
			id := e.event(mine.ID, st)
			ids, statusOf[id] = append(ids, id), st
			if st == "IN_TRANSIT" {
				id := e.event(mine2.ID, "LABEL_CREATED")
				ids, statusOf[id] = append(ids, id), "LABEL_CREATED"
			}
		}
		want := map[string][]string{
			"default":            ids,
			"trackingEventAdded": {ids[0], ids[1], ids[3], ids[4]},
			"delivered":          {ids[4]},
			"variables":          {ids[1], ids[3]},
		}
		for _, h := range hooks {
			h.rcv.waitDelivered(len(want[h.name]), 15*time.Second)
		}
		time.Sleep(500 * time.Millisecond)
		for _, h := range hooks {
			reqs, got := h.rcv.snapshot()
			if !slices.Equal(eventIDs(got), want[h.name]) || len(reqs) != len(got) {
				t.Errorf("%s: delivered %v (%d requests), want %v", h.name, eventIDs(got), len(reqs), want[h.name])
				continue
			}
			for _, d := range got {
				if d.Verify != nil {
					t.Errorf("%s: %v", h.name, d.Verify)
				}
				var data struct {
					ShipmentEvents *struct {
						Cursor string
						Node   struct {
							ID, Status, OccurredAt string
							Location               *struct{ City string }
							Shipment               *struct{ ID, Reference, Status, Carrier string }
						}
					} `json:"shipmentEvents"`
					TrackingEventAdded *struct {
						ID, Status string
						Shipment   struct{ ID string }
					} `json:"trackingEventAdded"`
				}
				if err := json.Unmarshal(d.Body.Data, &data); err != nil {
					t.Fatal(err)
				}
				switch h.name {
				case "default":
					n := data.ShipmentEvents.Node
					if data.ShipmentEvents.Cursor == "" || n.ID != d.ID || n.Status != statusOf[d.ID] || n.OccurredAt == "" ||
						n.Location == nil || n.Location.City != "Paris" || n.Shipment == nil || n.Shipment.Reference == "" || n.Shipment.Carrier == "" {
						t.Errorf("default data: %s", d.Body.Data)
					}
				case "trackingEventAdded":
					if ev := data.TrackingEventAdded; ev == nil || ev.ID != d.ID || ev.Shipment.ID != mine.ID {
						t.Errorf("trackingEventAdded data: %s", d.Body.Data)
					}
				default:
					if data.ShipmentEvents == nil || data.ShipmentEvents.Node.ID != d.ID || data.ShipmentEvents.Node.Status != statusOf[d.ID] {
						t.Errorf("%s data: %s", h.name, d.Body.Data)
					}
				}
			}
		}
	})
}

// TestWebhookScope: a partner's endpoint receives its customers' events
// only, as its key is at delivery time: narrowed to another customer, the
// old one's events stop and the new one's come; revoked, the endpoint is
// disabled with the reason and sends nothing more, not even the delivery
// it was retrying.
func TestWebhookScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b)
		mine := e.create(createInput(activeCustomer, "DHL"))
		other := e.create(createInput(otherActiveCustomer, "UPS"))

		key, row := e.partnerKey(activeCustomer)
		rcv := newReceiver(t)
		ep := e.endpoint(e.gql.As(key), map[string]any{"url": rcv.srv.URL})
		rcv.set(ep.Secret, nil)
		// The other customer's first: once mine1 is delivered, the
		// endpoint has passed it (a delivery runs as the key is then).
		e.event(other.ID, "LABEL_CREATED")
		mine1 := e.event(mine.ID, "LABEL_CREATED")
		rcv.waitDelivered(1, 10*time.Second)
		if _, err := e.app.Keys.SetCustomers(system(), row, []int{otherActiveCustomer}); err != nil {
			t.Fatal(err)
		}
		e.event(mine.ID, "IN_TRANSIT")
		other2 := e.event(other.ID, "IN_TRANSIT")
		rcv.waitDelivered(2, 10*time.Second)
		rcv.quiet(2, 500*time.Millisecond)
		if _, got := rcv.snapshot(); !slices.Equal(eventIDs(got), []string{mine1, other2}) {
			t.Errorf("delivered %v, want %v: the old customer's before the change, the new one's after", eventIDs(got), []string{mine1, other2})
		}

		// Revoked while a delivery is retrying (the receiver answers 503).
		key2, row2 := e.partnerKey(activeCustomer)
		failing := newReceiver(t)
		ep2 := e.endpoint(e.gql.As(key2), map[string]any{"url": failing.srv.URL})
		failing.set(ep2.Secret, func(_ int, w http.ResponseWriter) bool { w.WriteHeader(http.StatusServiceUnavailable); return true })
		e.event(mine.ID, "OUT_FOR_DELIVERY")
		waitUntil(t, 10*time.Second, "the first attempts", func() bool { reqs, _ := failing.snapshot(); return len(reqs) >= 2 })
		if _, err := e.app.Keys.Revoke(system(), row2); err != nil {
			t.Fatal(err)
		}
		atRevoke, _ := failing.snapshot()
		var state *endpointJSON
		waitUntil(t, 10*time.Second, "the endpoint is disabled", func() bool {
			state = readEndpoint(e.gql, ep2.Endpoint.ID)
			return state.State == "DISABLED"
		})
		if state.DisabledReason == nil || !strings.Contains(strings.ToLower(*state.DisabledReason), "revoked") {
			t.Errorf("disabled for %q, want its key's revocation", deref(state.DisabledReason))
		}
		reqs, got := failing.snapshot()
		if len(reqs) > len(atRevoke)+1 { // one attempt may have been under way
			t.Errorf("%d attempts after the revocation, want the one under way at most", len(reqs)-len(atRevoke))
		}
		e.event(mine.ID, "DELIVERED") // after the revocation
		failing.set(ep2.Secret, nil)  // healthy now: still nothing may reach it
		failing.quiet(len(reqs), time.Second)
		if len(got) != 0 {
			t.Errorf("a revoked key's endpoint delivered %v", eventIDs(got))
		}
		for _, d := range deliveries(e.gql, ep2.Endpoint.ID) {
			if d.Status == "SUCCEEDED" {
				t.Errorf("delivery %s succeeded after the revocation", d.MessageID)
			}
		}
		r := e.gql.Do(`mutation($id: ID!) { enableWebhookEndpoint(id: $id) { id } }`, map[string]any{"id": ep2.Endpoint.ID})
		mustCode(t, r, "CONFLICT", "revoked")
	})
}

// TestWebhookSecretRotation: after a rotation, deliveries carry a v1
// signature by each secret, so that the receiver verifies with either,
// for 24 hours.
func TestWebhookSecretRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b)
		key, _ := e.partnerKey(activeCustomer)
		p := e.gql.As(key)
		rcv := newReceiver(t)
		ep := e.endpoint(p, map[string]any{"url": rcv.srv.URL})
		var rot struct {
			RotateWebhookSecret struct {
				Secret   string
				Endpoint endpointJSON
			}
		}
		p.MustData(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { `+endpointFields+` } } }`,
			map[string]any{"id": ep.Endpoint.ID}, &rot)
		next := rot.RotateWebhookSecret.Secret
		until := rot.RotateWebhookSecret.Endpoint.PreviousSecretUntil
		if next == ep.Secret || !strings.HasPrefix(next, "whsec_") {
			t.Fatalf("new secret %q", next)
		}
		if until == nil || time.Until(*until) < 24*time.Hour-time.Minute || time.Until(*until) > 24*time.Hour+time.Minute {
			t.Errorf("previousSecretUntil %v, want 24 h from now", until)
		}
		mine := e.create(createInput(activeCustomer, "DHL"))
		rcv.set(next, nil)
		e.event(mine.ID, "LABEL_CREATED")
		got := rcv.waitDelivered(1, 10*time.Second)[0]
		sigs := strings.Fields(got.Headers.Get("webhook-signature"))
		if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") || sigs[0] == sigs[1] {
			t.Errorf("webhook-signature %q, want two v1 signatures", got.Headers.Get("webhook-signature"))
		}
		third := e.endpoint(p, map[string]any{"url": rcv.srv.URL + "/other"}).Secret
		for _, c := range []struct {
			name, secret string
			ok           bool
		}{{"old", ep.Secret, true}, {"new", next, true}, {"another endpoint's", third, false}} {
			err := whsign.Verify(c.secret, got.Headers, got.Raw, time.Now(), 5*time.Minute)
			if (err == nil) != c.ok {
				t.Errorf("verify with the %s secret: %v, want ok=%v", c.name, err, c.ok)
			}
		}
	})
}

// TestSendTestWebhook: a test message is sent at once and answered with its
// delivery: SUCCEEDED with the answer's first KiB, or FAILED with the
// receiver's status.
func TestSendTestWebhook(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b)
		key, _ := e.partnerKey(activeCustomer)
		p := e.gql.As(key)
		rcv := newReceiver(t)
		ep := e.endpoint(p, map[string]any{"url": rcv.srv.URL})
		answer := strings.Repeat("0123456789abcdef", 3*1024/16) // 3 KiB
		for _, c := range []struct {
			name   string
			code   int
			status string
		}{
			{"ok", http.StatusOK, "SUCCEEDED"},
			{"500", http.StatusInternalServerError, "FAILED"},
		} {
			t.Run(c.name, func(t *testing.T) {
				rcv.set(ep.Secret, func(_ int, w http.ResponseWriter) bool {
					w.WriteHeader(c.code)
					_, _ = io.WriteString(w, answer)
					return true
				})
				before, _ := rcv.snapshot()
				var out struct{ SendTestWebhook deliveryJSON }
				p.MustData(`mutation($id: ID!) { sendTestWebhook(id: $id) { `+deliveryFields+` } }`, map[string]any{"id": ep.Endpoint.ID}, &out)
				d := out.SendTestWebhook
				if d.EventType != "webhook.test" || d.Status != c.status || d.AttemptCount != 1 || len(d.Attempts) != 1 {
					t.Fatalf("delivery: %+v", d)
				}
				at := d.Attempts[0]
				if at.StatusCode == nil || *at.StatusCode != c.code || at.Response == nil || *at.Response != answer[:1024] {
					t.Errorf("attempt: status %v, response of %d bytes, want %d and the first 1024", at.StatusCode, len(deref(at.Response)), c.code)
				}
				reqs, _ := rcv.snapshot()
				if len(reqs) != len(before)+1 {
					t.Fatalf("%d requests, want 1", len(reqs)-len(before))
				}
				got := reqs[len(reqs)-1]
				if got.Verify != nil || got.Body.Type != "webhook.test" || got.ID != d.MessageID || got.Body.ID != d.MessageID {
					t.Errorf("received %+v (%v), want webhook.test %s", got.Body, got.Verify, d.MessageID)
				}
			})
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestWebhookRedeliverReplay: a redelivery is queued behind what is queued
// with the same webhook-id; a replay from a cursor or a time delivers the
// events again, in order.
func TestWebhookRedeliverReplay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := webhookEnv(t, b)
		key, _ := e.partnerKey(activeCustomer)
		p := e.gql.As(key)
		rcv := newReceiver(t)
		ep := e.endpoint(p, map[string]any{"url": rcv.srv.URL})
		var hold atomic.Bool // the receiver answers 503 while held
		rcv.set(ep.Secret, func(_ int, w http.ResponseWriter) bool {
			if hold.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		})
		mine := e.create(createInput(activeCustomer, "DHL"))
		since := time.Now().UTC().Add(-time.Second)
		var ids []string
		for _, st := range []string{"LABEL_CREATED", "IN_TRANSIT"} {
			ids = append(ids, e.event(mine.ID, st))
		}
		got := rcv.waitDelivered(2, 10*time.Second)
		// The third is retrying when the first is redelivered: the
		// redelivery comes after it.
		hold.Store(true)
		ids = append(ids, e.event(mine.ID, "OUT_FOR_DELIVERY"))
		waitUntil(t, 10*time.Second, "the third event is refused once", func() bool { reqs, _ := rcv.snapshot(); return len(reqs) >= 3 })
		var first struct {
			ShipmentEvents struct{ Cursor string } `json:"shipmentEvents"`
		}
		if err := json.Unmarshal(got[0].Body.Data, &first); err != nil || first.ShipmentEvents.Cursor == "" {
			t.Fatalf("cursor of the first delivery: %v %s", err, got[0].Body.Data)
		}

		log := deliveries(p, ep.Endpoint.ID)
		oldest := log[len(log)-1]
		if oldest.MessageID != ids[0] {
			t.Fatalf("oldest delivery %s, want %s", oldest.MessageID, ids[0])
		}
		var re struct{ RedeliverWebhook deliveryJSON }
		p.MustData(`mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { `+deliveryFields+` } }`, map[string]any{"d": oldest.ID}, &re)
		if re.RedeliverWebhook.MessageID != ids[0] || re.RedeliverWebhook.ID == oldest.ID || re.RedeliverWebhook.Status != "PENDING" {
			t.Errorf("redelivery: %+v", re.RedeliverWebhook)
		}
		hold.Store(false)
		rcv.waitDelivered(4, 10*time.Second)

		p.MustData(`mutation($id: ID!, $after: Cursor) { replayWebhooks(endpointId: $id, after: $after) { id } }`,
			map[string]any{"id": ep.Endpoint.ID, "after": first.ShipmentEvents.Cursor}, nil)
		rcv.waitDelivered(6, 10*time.Second)
		p.MustData(`mutation($id: ID!, $since: Time) { replayWebhooks(endpointId: $id, since: $since) { id } }`,
			map[string]any{"id": ep.Endpoint.ID, "since": since.Format(time.RFC3339Nano)}, nil)
		rcv.waitDelivered(9, 10*time.Second)
		time.Sleep(300 * time.Millisecond) // a tenth would be a stray
		_, got = rcv.snapshot()
		order := make([]string, len(got))
		for i, d := range got {
			order[i] = d.ID
		}
		want := []string{ids[0], ids[1], ids[2], ids[0], ids[1], ids[2], ids[0], ids[1], ids[2]}
		if !slices.Equal(order, want) {
			t.Errorf("received %v, want %v", order, want)
		}

		for _, c := range []struct {
			name string
			vars map[string]any
		}{
			{"neither", map[string]any{}},
			{"both", map[string]any{"after": first.ShipmentEvents.Cursor, "since": since.Format(time.RFC3339)}},
		} {
			c.vars["id"] = ep.Endpoint.ID
			r := p.Do(`mutation($id: ID!, $after: Cursor, $since: Time) { replayWebhooks(endpointId: $id, after: $after, since: $since) { id } }`, c.vars)
			if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: want BAD_USER_INPUT: %s", c.name, r.Raw)
			}
		}
	})
}

// TestWebhookDisabledAfterFailures: an endpoint failing continuously for
// WEBHOOK_DISABLE_AFTER is disabled, with the failure as its reason and
// the metric; enabled again, it delivers what waited, in order.
func TestWebhookDisabledAfterFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b, "WEBHOOK_RETRY_SCHEDULE=0s,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms",
			"WEBHOOK_TIMEOUT=1s", "WEBHOOK_LEASE=10s", "SUBSCRIPTION_POLL_INTERVAL=200ms", "WEBHOOK_DISABLE_AFTER=1s")
		key, _ := e.partnerKey(activeCustomer)
		p := e.gql.As(key)
		rcv := newReceiver(t)
		ep := e.endpoint(p, map[string]any{"url": rcv.srv.URL})
		rcv.set(ep.Secret, func(_ int, w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		})
		const disabled = "shipmentapp_webhook_endpoints_disabled_total"
		before := metric(t, e.gql.URL(), disabled)
		mine := e.create(createInput(activeCustomer, "DHL"))
		var ids []string
		for _, st := range []string{"LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY"} {
			ids = append(ids, e.event(mine.ID, st))
		}
		var state *endpointJSON
		waitUntil(t, 10*time.Second, "the endpoint is disabled", func() bool {
			state = readEndpoint(p, ep.Endpoint.ID)
			return state.State == "DISABLED"
		})
		if state.DisabledReason == nil || !strings.Contains(*state.DisabledReason, "HTTP 503") || !strings.Contains(*state.DisabledReason, "failing since") {
			t.Errorf("disabled for %q, want the failure", deref(state.DisabledReason))
		}
		if after := metric(t, e.gql.URL(), disabled); after != before+1 {
			t.Errorf("%s went from %v to %v, want +1", disabled, before, after)
		}
		reqs, _ := rcv.snapshot()
		rcv.quiet(len(reqs), 700*time.Millisecond) // disabled: nothing more is sent

		rcv.set(ep.Secret, nil)
		p.MustData(`mutation($id: ID!) { enableWebhookEndpoint(id: $id) { id } }`, map[string]any{"id": ep.Endpoint.ID}, nil)
		got := rcv.waitDelivered(len(ids), 10*time.Second)
		if !slices.Equal(eventIDs(got), ids) {
			t.Errorf("delivered %v after enabling, want %v", eventIDs(got), ids)
		}
		if s := readEndpoint(p, ep.Endpoint.ID); s.State != "ENABLED" {
			t.Errorf("state %s after deliveries succeeded", s.State)
		}
	})
}

// productionApp is an app with APP_ENV=production over SQLite and extra.
func productionApp(t *testing.T, extra ...string) *app.App {
	t.Helper()
	mainDB := testutil.NewDatabase(t, testutil.SQLite)
	cfg := testutil.Config(t, mainDB, testutil.NewDolibarr(t, testutil.SQLite), append([]string{"APP_ENV=production",
		"APP_URL=https://api.example.com", "FILE_SIGNING_KEY=0123456789abcdef0123456789abcdef"}, extra...)...)
	migrateUp(t, mainDB, cfg.DB.Connection)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// TestWebhookHostileURLs: in production, receivers on loopback, private,
// link-local or metadata addresses, over http, or with credentials are
// refused at creation (and at update) with a clear message.
func TestWebhookHostileURLs(t *testing.T) {
	a := productionApp(t, "WEBHOOK_SECRET_KEYS="+strings.Repeat("ab", 32))
	gql := testutil.NewClient(t, a.Handler).As(newKey(t, a, auth.RoleAdmin))
	for _, c := range []struct{ url, says string }{
		{"http://127.0.0.1:8080/hook", "http"},
		{"https://127.0.0.1:8443/hook", "loopback"},
		{"https://localhost/", "localhost"},
		{"https://169.254.169.254/latest/meta-data", "169.254.169.254"},
		{"https://[::1]/", "loopback"},
		{"https://[::ffff:127.0.0.1]/", "loopback"},
		{"https://10.0.0.1/", "private"},
		{"https://192.168.1.1/", "private"},
		{"http://example.com/hook", "https"},
		{"https://user:pw@example.com/hook", "credentials"},
		{"ftp://example.com/", "https"},
	} {
		t.Run(c.url, func(t *testing.T) {
			r := gql.Do(createEndpoint, map[string]any{"in": map[string]any{"url": c.url}})
			if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
				t.Fatalf("want BAD_USER_INPUT: %s", r.Raw)
			}
			if msg := strings.ToLower(r.Errors[0].Message); !strings.Contains(msg, strings.ToLower(c.says)) {
				t.Errorf("want a message saying %q: %s", c.says, r.Raw)
			}
		})
	}
	var out struct{ WebhookEndpoints []endpointJSON }
	gql.MustData(`{ webhookEndpoints { id } }`, nil, &out)
	if len(out.WebhookEndpoints) != 0 {
		t.Errorf("hostile URLs made endpoints: %+v", out.WebhookEndpoints)
	}
}

// TestWebhooksNotConfigured: in production without WEBHOOK_SECRET_KEYS,
// the webhook fields answer UNAVAILABLE naming the key; the rest of the
// API works.
func TestWebhooksNotConfigured(t *testing.T) {
	a := productionApp(t)
	gql := testutil.NewClient(t, a.Handler).As(newKey(t, a, auth.RoleAdmin))
	for _, c := range []struct{ name, doc string }{
		{"create", `mutation { createWebhookEndpoint(input: {url: "https://example.com/hook"}) { secret } }`},
		{"list", `{ webhookEndpoints { id } }`},
		{"read", `{ webhookEndpoint(id: %q) { id } }`},
		{"deliveries", `{ webhookDeliveries(endpointId: %q) { edges { node { id } } } }`},
		{"sendTest", `mutation { sendTestWebhook(id: %q) { id } }`},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := c.doc
			if strings.Contains(doc, "%q") {
				doc = fmt.Sprintf(doc, gid.New(gid.TypeWebhookEndpoint, 1).String())
			}
			mustCode(t, gql.Do(doc, nil), "UNAVAILABLE", "WEBHOOK_SECRET_KEYS")
		})
	}
	var out struct{ Shipments struct{ TotalCount int } }
	gql.MustData(`{ shipments { totalCount } }`, nil, &out)
}
