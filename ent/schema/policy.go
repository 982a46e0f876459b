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

// Policy of the File: partners see the files of their customers' shipments;
// staff and admins write any, partners add files to the shipments they see
// (internal/files checks the shipment through the scoped query first), and
// only staff delete.
func (File) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.ScopeFiles(), privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{
			rule.AllowRole(rule.Staff),
			rule.AllowPartnerFileCreate(),
			privacy.AlwaysDenyRule(),
		},
	}
}
