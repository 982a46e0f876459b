// Package loader holds the per-request dataloaders that batch the reads Ent's
// field collection does not: Dolibarr customers and countries live in another
// database, so Shipment.customer and Customer.country are loaded with one
// `WHERE rowid IN (...)` per batch; and the first pages of Shipment.events and
// Customer.shipments, with their totals, are loaded for every parent of a
// list at once, with one windowed query (and one grouped COUNT).
package loader

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/contact"
	"github.com/shipmentapp/shipmentapp/ent/country"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/shippingmethod"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
)

// Batch limits.
const (
	maxBatch = 500
	wait     = 2 * time.Millisecond
)

// Loaders are the dataloaders of one request.
type Loaders struct {
	Customer *dataloader.Loader[int, *ent.Customer]
	Country  *dataloader.Loader[int, *ent.Country]
	// ShippingMethod is a Dolibarr shipping method by rowid.
	ShippingMethod *dataloader.Loader[int, *ent.ShippingMethod]
	// Contacts are the active, public contacts of a customer (possibly none).
	Contacts *dataloader.Loader[int, []*ent.Contact]
	// Events is the first page of Shipment.events per shipment.
	Events *dataloader.Loader[EdgeKey, *Page[*ent.TrackingEvent]]
	// CustomerShipments is the first page of Customer.shipments per customer.
	CustomerShipments *dataloader.Loader[EdgeKey, *Page[*ent.Shipment]]
}

// NotFoundError is the per-key error of a key with no row.
type NotFoundError struct {
	Kind string
	ID   int
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %d not found", e.Kind, e.ID) }

// New returns fresh loaders reading shipments from client and customers from d.
func New(client *ent.Client, d *dolibarr.Client) *Loaders {
	return &Loaders{
		Events:            newEventsLoader(client),
		CustomerShipments: newCustomerShipmentsLoader(client),
		Customer: dataloader.NewBatchedLoader(
			batch("customer", func(ctx context.Context, ids []int) ([]*ent.Customer, error) {
				return d.Customers().Where(customer.IDIn(ids...)).All(ctx)
			}, func(c *ent.Customer) int { return c.ID }),
			dataloader.WithBatchCapacity[int, *ent.Customer](maxBatch),
			dataloader.WithWait[int, *ent.Customer](wait),
		),
		ShippingMethod: dataloader.NewBatchedLoader(
			batch("shipping method", func(ctx context.Context, ids []int) ([]*ent.ShippingMethod, error) {
				return d.ShippingMethods().Where(shippingmethod.IDIn(ids...)).All(ctx)
			}, func(m *ent.ShippingMethod) int { return m.ID }),
			dataloader.WithBatchCapacity[int, *ent.ShippingMethod](maxBatch),
			dataloader.WithWait[int, *ent.ShippingMethod](wait),
		),
		Contacts: dataloader.NewBatchedLoader(
			func(ctx context.Context, customers []int) []*dataloader.Result[[]*ent.Contact] {
				out := make([]*dataloader.Result[[]*ent.Contact], len(customers))
				rows, err := d.Contacts().Where(contact.CustomerIDIn(customers...)).Order(contact.ByID()).All(ctx)
				byCustomer := make(map[int][]*ent.Contact, len(customers))
				for _, c := range rows {
					byCustomer[c.CustomerID] = append(byCustomer[c.CustomerID], c)
				}
				for i, id := range customers {
					if err != nil {
						out[i] = &dataloader.Result[[]*ent.Contact]{Error: fmt.Errorf("load contacts: %w", err)}
					} else {
						out[i] = &dataloader.Result[[]*ent.Contact]{Data: append([]*ent.Contact{}, byCustomer[id]...)}
					}
				}
				return out
			},
			dataloader.WithBatchCapacity[int, []*ent.Contact](maxBatch),
			dataloader.WithWait[int, []*ent.Contact](wait),
		),
		Country: dataloader.NewBatchedLoader(
			batch("country", func(ctx context.Context, ids []int) ([]*ent.Country, error) {
				return d.Countries().Where(country.IDIn(ids...)).All(ctx)
			}, func(c *ent.Country) int { return c.ID }),
			dataloader.WithBatchCapacity[int, *ent.Country](maxBatch),
			dataloader.WithWait[int, *ent.Country](wait),
		),
	}
}

// batch adapts a query by IDs to a dataloader batch function: results come
// back in key order, a missing key gets its own NotFoundError and a failed
// query fails every key of the batch.
func batch[T any](kind string, fetch func(context.Context, []int) ([]T, error), id func(T) int) dataloader.BatchFunc[int, T] {
	return func(ctx context.Context, keys []int) []*dataloader.Result[T] {
		out := make([]*dataloader.Result[T], len(keys))
		rows, err := fetch(ctx, keys)
		if err != nil {
			err = fmt.Errorf("load %d %s(s): %w", len(keys), kind, err)
			for i := range out {
				out[i] = &dataloader.Result[T]{Error: err}
			}
			return out
		}
		byID := make(map[int]T, len(rows))
		for _, r := range rows {
			byID[id(r)] = r
		}
		for i, k := range keys {
			if r, ok := byID[k]; ok {
				out[i] = &dataloader.Result[T]{Data: r}
			} else {
				out[i] = &dataloader.Result[T]{Error: &NotFoundError{Kind: kind, ID: k}}
			}
		}
		return out
	}
}

type ctxKey struct{}

// Middleware gives every request its own loaders.
func Middleware(client *ent.Client, d *dolibarr.Client, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), New(client, d))))
	})
}

// With returns a context carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the loaders of the request of ctx, if Middleware gave it some.
func For(ctx context.Context) (*Loaders, bool) {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	return l, ok
}
