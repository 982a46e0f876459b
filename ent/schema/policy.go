package schema

import (
	"entgo.io/ent"

	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/auth/rule"
)

// adminOnlyPolicy lets only admins read and write.
func adminOnlyPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowRole(rule.Admin), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowRole(rule.Admin), privacy.AlwaysDenyRule()},
	}
}

// Policy of the Shipment: partners see their customers' shipments only;
// staff and admins change them.
func (Shipment) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.ScopeShipments(), privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{rule.AllowRole(rule.Staff), privacy.AlwaysDenyRule()},
	}
}

// Policy of the TrackingEvent: as its shipment.
func (TrackingEvent) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.ScopeTrackingEvents(), privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{rule.AllowRole(rule.Staff), privacy.AlwaysDenyRule()},
	}
}

// Policy of the Customer: partners see their customers only; nobody writes
// (internal/dolibarr refuses writes below this too).
func (Customer) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.ScopeCustomers(), privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}
