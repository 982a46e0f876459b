// Package graph holds the GraphQL resolvers: thin adapters from arguments to
// one call into Ent or into the package that owns the rule.
package graph

import (
	"context"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/graph/loader"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/webhook"
)

// Resolver is the root resolver; it holds the service's dependencies.
type Resolver struct {
	// Client is the main database (shipments, tracking events).
	Client *ent.Client
	// Dolibarr reads customers, read-only.
	Dolibarr *dolibarr.Client
	// Shipping changes shipments.
	Shipping *shipping.Service
	// Keys manages API keys.
	Keys *auth.Keys
	// Files stores and signs shipment files.
	Files *files.Service
	// Live delivers committed changes to subscriptions.
	Live *live.Hub
	// Webhooks manages partners' webhook endpoints and their deliveries.
	Webhooks *webhook.Service
}

// loaders returns the request's dataloaders, or fresh ones when the handler
// was built without loader.Middleware (then nothing is batched across fields).
func (r *Resolver) loaders(ctx context.Context) *loader.Loaders {
	if l, ok := loader.For(ctx); ok {
		return l
	}
	return loader.New(r.Client, r.Dolibarr)
}
