package app_test

import (
	"testing"

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
			field     string // "" : accepted
		}{
			{"partner of active customers", "PARTNER", []string{cust(activeCustomer), cust(otherActiveCustomer)}, ""},
			{"partner of a closed customer", "PARTNER", []string{cust(closedCustomer)}, ""},
			{"no such customer", "PARTNER", []string{cust(activeCustomer), cust(999999)}, "input.customerIds.1"},
			{"a prospect", "PARTNER", []string{cust(prospect)}, "input.customerIds.0"},
			{"a supplier", "PARTNER", []string{cust(supplier)}, "input.customerIds.0"},
			{"another entity's customer", "PARTNER", []string{cust(otherEntityCustomer)}, "input.customerIds.0"},
			{"partner without customers", "PARTNER", nil, "input"},
			{"staff with customers", "STAFF", []string{cust(activeCustomer)}, "input"},
			{"not a customer ID", "PARTNER", []string{gid.New(gid.TypeAPIKey, 1).String()}, "input.customerIds.0"},
		}
		for _, c := range cases {
			r := e.gql.Do(`mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key { state } } }`,
				map[string]any{"in": map[string]any{"name": c.name, "role": c.role, "customerIds": c.customers}})
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
