package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	anon := e.gql.Anonymous()
	q := []byte(`{"query":"{ viewer { kind role } }"}`)
	post := func(h map[string]string) *testutil.Response {
		h["Content-Type"] = "application/json"
		return anon.RawH(http.MethodPost, "/graphql", h, q)
	}
	staff := e.key(auth.RoleStaff)
	wrongSecret := staff[:len(staff)-4] + "AAAA"
	if wrongSecret == staff {
		wrongSecret = staff[:len(staff)-4] + "BBBB"
	}
	// A key that has expired: created to expire later (an expiry in the
	// past is refused), then its expiry moved back.
	old, expired, err := e.app.Keys.Create(system(), auth.CreateInput{Name: "old", Role: auth.RoleStaff, CreatedBy: "test",
		ExpiresAt: ptrTime(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.Client.APIKey.UpdateOne(old).SetExpiresAt(time.Now().Add(-time.Minute)).Exec(system()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no credentials", map[string]string{}, 401},
		{"bearer API key", map[string]string{"Authorization": "Bearer " + staff}, 200},
		{"bearer, any case", map[string]string{"Authorization": "bearer " + staff}, 200},
		{"X-API-Key", map[string]string{"X-API-Key": staff}, 200},
		{"another scheme", map[string]string{"Authorization": "Basic " + staff}, 401},
		{"malformed key", map[string]string{"Authorization": "Bearer sa_nope"}, 401},
		{"unknown key", map[string]string{"Authorization": "Bearer sa_aaaaaaaaaaaaaaaa_" + strings.Repeat("A", 43)}, 401},
		{"wrong secret", map[string]string{"Authorization": "Bearer " + wrongSecret}, 401},
		{"expired key", map[string]string{"Authorization": "Bearer " + expired}, 401},
		{"a JWT without OIDC configured", map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}, 401},
	}
	for _, c := range cases {
		r := post(c.headers)
		if r.Status != c.status {
			t.Errorf("%s: HTTP %d, want %d: %s", c.name, r.Status, c.status, r.Raw)
		}
		if c.status == 401 && (len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" || r.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("%s: %s", c.name, r.Raw)
		}
		if c.status == 401 && strings.Contains(string(r.Raw), "sa_") {
			t.Errorf("%s: the answer repeats the credential: %s", c.name, r.Raw)
		}
	}
	// The playground and the SDL need no credentials in development.
	for _, path := range []string{"/playground", "/schema.graphql", "/healthz"} {
		if r := anon.Raw(http.MethodGet, path, "", nil); r.Status != 200 {
			t.Errorf("GET %s without credentials: %d", path, r.Status)
		}
	}

	// Revoking a key through the API stops it at once on this instance.
	var created struct {
		CreateAPIKey struct {
			Key struct {
				ID   string
				Role string
			}
			Secret string
		}
	}
	e.gql.MustData(`mutation { createAPIKey(input: {name: "job", role: STAFF}) { key { id role } secret } }`, nil, &created)
	job := anon.As(created.CreateAPIKey.Secret)
	job.MustData(`{ viewer { role } }`, nil, nil)
	e.gql.MustData(`mutation($id: ID!) { revokeAPIKey(id: $id) { revokedAt } }`, map[string]any{"id": created.CreateAPIKey.Key.ID}, nil)
	if r := job.Do(`{ viewer { role } }`, nil); r.Status != 401 {
		t.Errorf("revoked key: HTTP %d %s", r.Status, r.Raw)
	}

	// Last use is recorded (in batches, not per request).
	if err := e.app.Keys.FlushLastUsed(system()); err != nil {
		t.Fatal(err)
	}
	var keys struct {
		APIKeys []struct {
			Name       string
			LastUsedAt *string
			RevokedAt  *string
		}
	}
	e.gql.MustData(`{ apiKeys { name lastUsedAt revokedAt } }`, nil, &keys)
	used := 0
	for _, k := range keys.APIKeys {
		if k.LastUsedAt != nil {
			used++
		}
	}
	if used < 2 {
		t.Errorf("last use not recorded: %+v", keys.APIKeys)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// TestRoles: what each role may do, and a partner probing other customers'
// shipments through every path gets nothing, and no hint that they exist.
func TestRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
		e.seed(base, func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }, []fixture{
			{Reference: "MINE-1", Carrier: "UPS", Customer: activeCustomer, Events: []domain.Status{domain.StatusLabelCreated}},
			{Reference: "THEIRS-1", Carrier: "DHL", Customer: otherActiveCustomer, Events: []domain.Status{domain.StatusLabelCreated}},
		})
		var ids struct {
			Mine, Theirs struct {
				ID     string
				Events struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
		e.gql.MustData(`{ mine: shipment(reference: "MINE-1") { id events { edges { node { id } } } }
			theirs: shipment(reference: "THEIRS-1") { id events { edges { node { id } } } } }`, nil, &ids)
		mine, theirs := ids.Mine.ID, ids.Theirs.ID
		theirEvent := ids.Theirs.Events.Edges[0].Node.ID
		partner := e.gql.Anonymous().As(e.key(auth.RolePartner, activeCustomer))
		staff := e.gql.Anonymous().As(e.key(auth.RoleStaff))

		// Reads: only the partner's customer's shipments, events and customer.
		var r struct {
			Shipments struct {
				TotalCount int
				Edges      []struct{ Node struct{ Reference string } }
			}
			Filtered  struct{ TotalCount int } `json:"filtered"`
			ByRef     *struct{ ID string }     `json:"byRef"`
			ByID      *struct{ ID string }     `json:"byID"`
			Node      *struct{ ID string }     `json:"node"`
			Event     *struct{ ID string }     `json:"event"`
			Nodes     []*struct{ ID string }   `json:"nodes"`
			Customers struct{ TotalCount int }
			Other     *struct{ Name string } `json:"other"`
			OtherNode *struct{ ID string }   `json:"otherNode"`
			Own       *struct {
				Shipments struct{ TotalCount int }
			} `json:"own"`
			Viewer struct {
				Role        string
				CustomerIds []string
			}
		}
		partner.MustData(`query($theirs: ID!, $mine: ID!, $event: ID!, $cust: ID!, $own: ID!) {
			shipments { totalCount edges { node { reference } } }
			filtered: shipments(where: {reference: "THEIRS-1"}) { totalCount }
			byRef: shipment(reference: "THEIRS-1") { id }
			byID: shipment(id: $theirs) { id }
			node(id: $theirs) { id }
			event: node(id: $event) { id }
			nodes(ids: [$mine, $theirs]) { id }
			customers { totalCount }
			other: customer(id: $cust) { name }
			otherNode: node(id: $cust) { id }
			own: customer(id: $own) { shipments { totalCount } }
			viewer { role customerIds }
		}`, map[string]any{"theirs": theirs, "mine": mine, "event": theirEvent, "cust": customerID(otherActiveCustomer), "own": customerID(activeCustomer)}, &r)
		if r.Shipments.TotalCount != 1 || r.Shipments.Edges[0].Node.Reference != "MINE-1" || r.Filtered.TotalCount != 0 ||
			r.ByRef != nil || r.ByID != nil || r.Node != nil || r.Event != nil || len(r.Nodes) != 2 || r.Nodes[0] == nil || r.Nodes[1] != nil ||
			r.Customers.TotalCount != 1 || r.Other != nil || r.OtherNode != nil || r.Own == nil || r.Own.Shipments.TotalCount != 1 ||
			r.Viewer.Role != "PARTNER" || len(r.Viewer.CustomerIds) != 1 {
			t.Errorf("partner sees: %+v", r)
		}
		var ev struct {
			Shipments struct {
				Edges []struct {
					Node struct {
						Customer *struct{ Name string }
						Events   struct{ TotalCount int }
					}
				}
			}
		}
		partner.MustData(`{ shipments { edges { node { customer { name } events { totalCount } } } } }`, nil, &ev)
		if len(ev.Shipments.Edges) != 1 || ev.Shipments.Edges[0].Node.Customer == nil || ev.Shipments.Edges[0].Node.Events.TotalCount != 1 {
			t.Errorf("partner's nested edges: %+v", ev)
		}

		// Writes: partners none (the same answer for their shipments and others').
		in := createInput(activeCustomer, "UPS")
		writes := map[string]func(c *testutil.Client) *testutil.Response{
			"create": func(c *testutil.Client) *testutil.Response { return c.Do(createMutation, map[string]any{"input": in}) },
			"update mine": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation($id: ID!) { updateShipment(id: $id, version: 2, input: {carrier: "X"}) { id } }`, map[string]any{"id": mine})
			},
			"update theirs": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation($id: ID!) { updateShipment(id: $id, version: 2, input: {carrier: "X"}) { id } }`, map[string]any{"id": theirs})
			},
			"event on theirs": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation($id: ID!) { addTrackingEvent(shipmentId: $id, input: {status: IN_TRANSIT, occurredAt: "2026-01-01T00:00:00Z"}) { id } }`, map[string]any{"id": theirs})
			},
			"cancel mine": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation($id: ID!) { cancelShipment(id: $id) { id } }`, map[string]any{"id": mine})
			},
			// Refused before the input is checked: a partner learns nothing
			// from validation (FORBIDDEN, never BAD_USER_INPUT).
			"create, invalid, for a customer it does not see": func(c *testutil.Client) *testutil.Response {
				bad := createInput(otherActiveCustomer, "")
				bad["parcels"] = []any{}
				return c.Do(createMutation, map[string]any{"input": bad})
			},
			"update theirs, invalid": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation($id: ID!) { updateShipment(id: $id, version: 2, input: {carrier: " "}) { id } }`, map[string]any{"id": theirs})
			},
			"event on mine, invalid": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation($id: ID!) { addTrackingEvent(shipmentId: $id, input: {status: DRAFT, occurredAt: "2126-01-01T00:00:00Z"}) { id } }`, map[string]any{"id": mine})
			},
			"list keys": func(c *testutil.Client) *testutil.Response { return c.Do(`{ apiKeys { id } }`, nil) },
			"create keys": func(c *testutil.Client) *testutil.Response {
				return c.Do(`mutation { createAPIKey(input: {name: "x", role: ADMIN}) { secret } }`, nil)
			},
		}
		state := func() string {
			var s struct {
				Shipments struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Carrier, Status string
							Version         int
						}
					}
				}
			}
			e.gql.MustData(`{ shipments(orderBy: [{field: REFERENCE}]) { totalCount edges { node { carrier status version } } } }`, nil, &s)
			return fmt.Sprint(s)
		}
		before := state()
		for name, do := range writes {
			if r := do(partner); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
				t.Errorf("partner %s: %s", name, r.Raw)
			}
		}
		if after := state(); after != before {
			t.Errorf("a partner's refused writes changed data:\n%s\n%s", before, after)
		}
		for name, do := range writes {
			adminOnly := name == "list keys" || name == "create keys"
			if r := do(staff); adminOnly != (len(r.Errors) > 0 && r.Errors[0].Code() == "FORBIDDEN") {
				t.Errorf("staff %s: %s", name, r.Raw)
			}
		}

		// Admins create partner keys over GraphQL, scoped to existing customers.
		var created struct {
			CreateAPIKey struct {
				Key    struct{ Role string }
				Secret string
			}
		}
		e.gql.MustData(`mutation($c: [ID!]) { createAPIKey(input: {name: "carrier", role: PARTNER, customerIds: $c}) { key { role } secret } }`,
			map[string]any{"c": []string{customerID(otherActiveCustomer)}}, &created)
		var theirView struct {
			Shipments struct {
				Edges []struct{ Node struct{ Reference string } }
			}
		}
		e.gql.Anonymous().As(created.CreateAPIKey.Secret).MustData(`{ shipments { edges { node { reference } } } }`, nil, &theirView)
		if len(theirView.Shipments.Edges) != 1 || theirView.Shipments.Edges[0].Node.Reference != "THEIRS-1" {
			t.Errorf("new partner key sees: %+v", theirView)
		}
		for _, bad := range []string{
			`mutation { createAPIKey(input: {name: "p", role: PARTNER}) { secret } }`,
			`mutation { createAPIKey(input: {name: "p", role: PARTNER, customerIds: ["` + customerID(prospect) + `"]}) { secret } }`,
			`mutation { createAPIKey(input: {name: "p", role: PARTNER, customerIds: ["` + gid.New(gid.TypeShipment, 1).String() + `"]}) { secret } }`,
			`mutation { createAPIKey(input: {name: "", role: STAFF}) { secret } }`,
		} {
			e.gql.MustFail(bad, nil, "BAD_USER_INPUT")
		}
	})
}
