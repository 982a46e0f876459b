package app_test

import (
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestCreateAPIKeyInput: createAPIKey applies the keys service's rules (the
// same as shipmentapp apikey create): each PARTNER customer must exist in
// Dolibarr, and the error names the one at fault.
func TestCreateAPIKeyInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		cust := func(n int) string { return gid.New(gid.TypeCustomer, n).String() }
		cases := []struct {
			name      string
			role      string
			customers []string
			expires   string // expiresAt, RFC 3339; "" none
			field     string // "" : accepted
		}{
			{"partner of active customers", "PARTNER", []string{cust(activeCustomer), cust(otherActiveCustomer)}, "", ""},
			{"partner of a closed customer", "PARTNER", []string{cust(closedCustomer)}, "", ""},
			{"no such customer", "PARTNER", []string{cust(activeCustomer), cust(999999)}, "", "input.customerIds.1"},
			{"a prospect", "PARTNER", []string{cust(prospect)}, "", "input.customerIds.0"},
			{"a supplier", "PARTNER", []string{cust(supplier)}, "", "input.customerIds.0"},
			{"another entity's customer", "PARTNER", []string{cust(otherEntityCustomer)}, "", "input.customerIds.0"},
			{"partner without customers", "PARTNER", nil, "", "input"},
			{"staff with customers", "STAFF", []string{cust(activeCustomer)}, "", "input"},
			{"not a customer ID", "PARTNER", []string{gid.New(gid.TypeAPIKey, 1).String()}, "", "input.customerIds.0"},
			{"expiring tomorrow", "STAFF", nil, time.Now().Add(24 * time.Hour).Format(time.RFC3339), ""},
			{"expired already", "STAFF", nil, time.Now().Add(-time.Minute).Format(time.RFC3339), "input.expiresAt"},
		}
		for _, c := range cases {
			in := map[string]any{"name": c.name, "role": c.role, "customerIds": c.customers}
			if c.expires != "" {
				in["expiresAt"] = c.expires
			}
			r := e.gql.Do(`mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key { state } } }`, map[string]any{"in": in})
			if c.field == "" {
				if len(r.Errors) > 0 {
					t.Errorf("%s: refused: %s", c.name, r.Raw)
				}
				continue
			}
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%s: want BAD_USER_INPUT on %s, got %s", c.name, c.field, r.Raw)
			}
		}
	})
}

// TestSetAPIKeyCustomers: an admin narrows or moves a PARTNER key's scope;
// the key sees its new customers on its next request (no cache lag), the
// rules of createAPIKey apply, and only admins may.
func TestSetAPIKeyCustomers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		cust := func(n int) string { return gid.New(gid.TypeCustomer, n).String() }
		var created struct {
			CreateAPIKey struct {
				Key    struct{ ID string } `json:"key"`
				Secret string              `json:"secret"`
			} `json:"createAPIKey"`
		}
		e.gql.MustData(`mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key { id } secret } }`,
			map[string]any{"in": map[string]any{"name": "partner", "role": "PARTNER", "customerIds": []string{cust(activeCustomer)}}}, &created)
		partner := e.gql.As(created.CreateAPIKey.Secret)
		sees := func() []string {
			var v struct {
				Viewer struct{ CustomerIds []string } `json:"viewer"`
			}
			partner.MustData(`{ viewer { customerIds } }`, nil, &v)
			return v.Viewer.CustomerIds
		}
		if got := sees(); len(got) != 1 || got[0] != cust(activeCustomer) {
			t.Fatalf("before: %v", got)
		}
		const set = `mutation($id: ID!, $c: [ID!]!) { setAPIKeyCustomers(id: $id, customerIds: $c) { customerIds } }`
		e.gql.MustData(set, map[string]any{"id": created.CreateAPIKey.Key.ID, "c": []string{cust(otherActiveCustomer)}}, nil)
		if got := sees(); len(got) != 1 || got[0] != cust(otherActiveCustomer) {
			t.Fatalf("after: %v, want only %s", got, cust(otherActiveCustomer))
		}
		staffKey := e.key("STAFF")
		staffID := keyRowID(t, e, staffKey)
		cases := []struct {
			name string
			c    *testutil.Client
			id   string
			cs   []string
			code string
		}{
			{"no customers", e.gql, created.CreateAPIKey.Key.ID, []string{}, "BAD_USER_INPUT"},
			{"no such customer", e.gql, created.CreateAPIKey.Key.ID, []string{cust(999999)}, "BAD_USER_INPUT"},
			{"a staff key", e.gql, staffID, []string{cust(activeCustomer)}, "BAD_USER_INPUT"},
			{"no such key", e.gql, gid.New(gid.TypeAPIKey, 999999).String(), []string{cust(activeCustomer)}, "NOT_FOUND"},
			{"by the partner itself", partner, created.CreateAPIKey.Key.ID, []string{cust(activeCustomer)}, "FORBIDDEN"},
			{"by staff", e.gql.As(staffKey), created.CreateAPIKey.Key.ID, []string{cust(activeCustomer)}, "FORBIDDEN"},
		}
		for _, c := range cases {
			c.c.With(t).MustFail(set, map[string]any{"id": c.id, "c": c.cs}, c.code)
		}
		if got := sees(); len(got) != 1 || got[0] != cust(otherActiveCustomer) {
			t.Fatalf("after the refusals: %v", got)
		}
	})
}

// keyRowID is the global ID of the API key whose secret is secret.
func keyRowID(t *testing.T, e *env, secret string) string {
	t.Helper()
	var keys struct {
		APIKeys []struct{ ID, Name string } `json:"apiKeys"`
	}
	var v struct {
		Viewer struct{ Name string } `json:"viewer"`
	}
	e.gql.As(secret).MustData(`{ viewer { name } }`, nil, &v)
	e.gql.MustData(`{ apiKeys { id name } }`, nil, &keys)
	for i := len(keys.APIKeys) - 1; i >= 0; i-- {
		if keys.APIKeys[i].Name == v.Viewer.Name {
			return keys.APIKeys[i].ID
		}
	}
	t.Fatalf("no key named %q", v.Viewer.Name)
	return ""
}
