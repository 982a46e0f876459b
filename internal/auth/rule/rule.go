// Package rule holds the Ent privacy rules that scope every read and write to
// the viewer of the request: the one choke point that node, nodes, lists,
// nested edges and dataloaders all go through. A context without a viewer is
// denied; background work opts out explicitly with
// privacy.DecisionContext(ctx, privacy.Allow).
package rule

import (
	"context"
	"errors"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/ent/predicate"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// Roles, re-exported for the schema package.
const (
	Admin = viewer.RoleAdmin
	Staff = viewer.RoleStaff
)

// who is the viewer the rules decide for: nil without one, and nil for a
// viewer without a role (viewer.System), who is granted nothing.
func who(ctx context.Context) *viewer.Viewer {
	if v := viewer.FromContext(ctx); v != nil && v.Role.Valid() {
		return v
	}
	return nil
}

// AllowRole allows viewers with at least role r (and skips the others).
func AllowRole(r viewer.Role) privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if who(ctx).Can(r) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// ScopeShipments limits a partner's shipment queries to its customers.
func ScopeShipments() privacy.QueryRule {
	return privacy.ShipmentQueryRuleFunc(func(ctx context.Context, q *ent.ShipmentQuery) error {
		v := who(ctx)
		if v == nil {
			return privacy.Denyf("no viewer")
		}
		if v.Scoped() {
			q.Where(shipment.CustomerIDIn(v.Customers...))
		}
		return privacy.Skip
	})
}

// ScopeTrackingEvents limits a partner's event queries to its customers' shipments.
func ScopeTrackingEvents() privacy.QueryRule {
	return privacy.TrackingEventQueryRuleFunc(func(ctx context.Context, q *ent.TrackingEventQuery) error {
		p, err := TrackingEventScope(ctx)
		if err != nil {
			return privacy.Denyf("%v", err)
		}
		if p != nil {
			q.Where(p)
		}
		return privacy.Skip
	})
}

// TrackingEventScope is ScopeTrackingEvents as a predicate, for a read that
// is not an Ent query of events (graph/loader's statement for events and
// files together): nil when the viewer sees every event, an error without a
// viewer.
func TrackingEventScope(ctx context.Context) (predicate.TrackingEvent, error) {
	return viewerScope(ctx, func(customers []int) predicate.TrackingEvent {
		return trackingevent.HasShipmentWith(shipment.CustomerIDIn(customers...))
	})
}

// viewerScope is the predicate scoped(customers) for a partner's viewer,
// nil for a viewer who sees everything, errNoViewer without one.
func viewerScope[P any](ctx context.Context, scoped func(customers []int) P) (P, error) {
	var none P
	v := who(ctx)
	if v == nil {
		return none, errNoViewer
	}
	if v.Scoped() {
		return scoped(v.Customers), nil
	}
	return none, nil
}

var errNoViewer = errors.New("no viewer")

// ScopeCustomers limits a partner's customer queries to its customers.
func ScopeCustomers() privacy.QueryRule {
	return privacy.CustomerQueryRuleFunc(func(ctx context.Context, q *ent.CustomerQuery) error {
		v := who(ctx)
		if v == nil {
			return privacy.Denyf("no viewer")
		}
		if v.Scoped() {
			q.Where(customer.IDIn(v.Customers...))
		}
		return privacy.Skip
	})
}

// ScopeFiles limits a partner's file queries to its customers' shipments.
func ScopeFiles() privacy.QueryRule {
	return privacy.FileQueryRuleFunc(func(ctx context.Context, q *ent.FileQuery) error {
		p, err := FileScope(ctx)
		if err != nil {
			return privacy.Denyf("%v", err)
		}
		if p != nil {
			q.Where(p)
		}
		return privacy.Skip
	})
}

// FileScope is ScopeFiles as a predicate (see TrackingEventScope).
func FileScope(ctx context.Context) (predicate.File, error) {
	return viewerScope(ctx, func(customers []int) predicate.File {
		return file.HasShipmentWith(shipment.CustomerIDIn(customers...))
	})
}

// AllowPartnerFileCreate lets a partner add a file to a shipment of one of
// its customers, and nothing else (skips every other mutation).
func AllowPartnerFileCreate() privacy.MutationRule {
	return privacy.FileMutationRuleFunc(func(ctx context.Context, m *ent.FileMutation) error {
		v := who(ctx)
		if v == nil || !v.Scoped() || !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		id, ok := m.ShipmentID()
		if !ok {
			return privacy.Skip
		}
		ok, err := m.Client().Shipment.Query().
			Where(shipment.ID(id), shipment.CustomerIDIn(v.Customers...)).
			Exist(ctx)
		if err != nil {
			return privacy.Denyf("check the file's shipment: %v", err)
		}
		if ok {
			return privacy.Allow
		}
		return privacy.Skip
	})
}
