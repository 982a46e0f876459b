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
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/contact"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/file"
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
	// Files are the files of a shipment, oldest first (possibly none).
	Files *dataloader.Loader[int, []*ent.File]

	memoMu sync.Mutex
	memo   map[any]any

	// driver reads events and files together (WithDriver); nil: apart.
	driver dialect.Driver

	customerBatch dataloader.BatchFunc[int, *ent.Customer]
	countryBatch  dataloader.BatchFunc[int, *ent.Country]
	eventsBatch   dataloader.BatchFunc[EdgeKey, *Page[*ent.TrackingEvent]]
	filesBatch    dataloader.BatchFunc[int, []*ent.File]
}

// Memo returns the value computed for key in this request, computing it
// with compute the first time: what a resolver derives from the document
// alone (a field's selection), once per field of the document rather than
// once per parent object.
func (l *Loaders) Memo(key any, compute func() any) any {
	l.memoMu.Lock()
	defer l.memoMu.Unlock()
	if v, ok := l.memo[key]; ok {
		return v
	}
	if l.memo == nil {
		l.memo = map[any]any{}
	}
	v := compute()
	l.memo[key] = v
	return v
}

// NotFoundError is the per-key error of a key with no row.
type NotFoundError struct {
	Kind string
	ID   int
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %d not found", e.Kind, e.ID) }

// New returns fresh loaders reading shipments from client and customers from d.
func New(client *ent.Client, d *dolibarr.Client, opts ...Option) *Loaders {
	l := &Loaders{
		customerBatch: batch("customer", func(ctx context.Context, ids []int) ([]*ent.Customer, error) {
			return d.Customers().Where(customer.IDIn(ids...)).All(ctx)
		}, func(c *ent.Customer) int { return c.ID }),
		countryBatch: batch("country", func(ctx context.Context, ids []int) ([]*ent.Country, error) {
			byID, err := d.CountriesByID(ctx, ids)
			return slices.Collect(maps.Values(byID)), err
		}, func(c *ent.Country) int { return c.ID }),
		eventsBatch: eventsBatch(client),
		filesBatch:  filesBatch(client),
	}
	l.Customer = dataloader.NewBatchedLoader(l.customerBatch,
		dataloader.WithBatchCapacity[int, *ent.Customer](maxBatch),
		dataloader.WithWait[int, *ent.Customer](wait))
	l.Country = dataloader.NewBatchedLoader(l.countryBatch,
		dataloader.WithBatchCapacity[int, *ent.Country](maxBatch),
		dataloader.WithWait[int, *ent.Country](wait))
	l.Events = dataloader.NewBatchedLoader(l.eventsBatch,
		dataloader.WithBatchCapacity[EdgeKey, *Page[*ent.TrackingEvent]](maxBatch),
		dataloader.WithWait[EdgeKey, *Page[*ent.TrackingEvent]](wait))
	l.CustomerShipments = newCustomerShipmentsLoader(client)
	l.ShippingMethod = dataloader.NewBatchedLoader(
		batch("shipping method", func(ctx context.Context, ids []int) ([]*ent.ShippingMethod, error) {
			return d.ShippingMethods().Where(shippingmethod.IDIn(ids...)).All(ctx)
		}, func(m *ent.ShippingMethod) int { return m.ID }),
		dataloader.WithBatchCapacity[int, *ent.ShippingMethod](maxBatch),
		dataloader.WithWait[int, *ent.ShippingMethod](wait),
	)
	l.Files = dataloader.NewBatchedLoader(l.filesBatch,
		dataloader.WithBatchCapacity[int, []*ent.File](maxBatch),
		dataloader.WithWait[int, []*ent.File](wait))
	l.Contacts = dataloader.NewBatchedLoader(contactsBatch(d),
		dataloader.WithBatchCapacity[int, []*ent.Contact](maxBatch),
		dataloader.WithWait[int, []*ent.Contact](wait))
	for _, o := range opts {
		o(l)
	}
	return l
}

// filesBatch loads the files of many shipments with one query (scoped by
// the File privacy policy like any other read).
func filesBatch(client *ent.Client) dataloader.BatchFunc[int, []*ent.File] {
	return func(ctx context.Context, shipments []int) []*dataloader.Result[[]*ent.File] {
		observe(ctx, "files", len(shipments))
		rows, err := client.File.Query().
			Where(file.ShipmentIDIn(shipments...)).
			Order(file.ByUploadedAt(), file.ByID()).
			All(ctx)
		return groupBy(shipments, rows, err, "files", func(f *ent.File) int { return f.ShipmentID })
	}
}

// groupBy answers each key of a one-to-many batch with its rows (possibly none).
func groupBy[V any](keys []int, rows []V, err error, what string, parent func(V) int) []*dataloader.Result[[]V] {
	out := make([]*dataloader.Result[[]V], len(keys))
	byKey := make(map[int][]V, len(keys))
	for _, r := range rows {
		byKey[parent(r)] = append(byKey[parent(r)], r)
	}
	for i, k := range keys {
		if err != nil {
			out[i] = &dataloader.Result[[]V]{Error: fmt.Errorf("load %s: %w", what, err)}
		} else {
			out[i] = &dataloader.Result[[]V]{Data: append([]V{}, byKey[k]...)}
		}
	}
	return out
}

func contactsBatch(d *dolibarr.Client) dataloader.BatchFunc[int, []*ent.Contact] {
	return func(ctx context.Context, customers []int) []*dataloader.Result[[]*ent.Contact] {
		observe(ctx, "contacts", len(customers))
		rows, err := d.Contacts().Where(contact.CustomerIDIn(customers...)).Order(contact.ByID()).All(ctx)
		return groupBy(customers, rows, err, "contacts", func(c *ent.Contact) int { return c.CustomerID })
	}
}

// The dataloaders batch by time: keys that arrive within a few milliseconds
// go out together, so how many queries a list costs would depend on how fast
// its resolvers run. A list resolver has every parent of its page at once: it
// prefetches, running the batch function itself for all keys and priming the
// loader's cache, so the field resolvers find their values there and the list
// costs one query per edge whatever the scheduling.

// PrefetchCustomers loads the customers ids and returns the ones found.
func (l *Loaders) PrefetchCustomers(ctx context.Context, ids []int) []*ent.Customer {
	return prefetch(ctx, l.Customer, l.customerBatch, ids)
}

// PrefetchCountries loads the countries ids.
func (l *Loaders) PrefetchCountries(ctx context.Context, ids []int) {
	prefetch(ctx, l.Country, l.countryBatch, ids)
}

// PrefetchFiles loads the files of shipments.
func (l *Loaders) PrefetchFiles(ctx context.Context, shipments []int) {
	prefetch(ctx, l.Files, l.filesBatch, shipments)
}

// PrefetchEvents loads the events pages of keys.
func (l *Loaders) PrefetchEvents(ctx context.Context, keys []EdgeKey) {
	prefetch(ctx, l.Events, l.eventsBatch, keys)
}

// prefetch runs fn for keys not cached yet, maxBatch at a time, primes l with
// what it found and returns it. Keys that failed are left for the loader,
// which reports their error where the field asks.
func prefetch[K comparable, V any](ctx context.Context, l *dataloader.Loader[K, V], fn dataloader.BatchFunc[K, V], keys []K) []V {
	seen := make(map[K]struct{}, len(keys))
	var todo []K
	for _, k := range keys {
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			todo = append(todo, k)
		}
	}
	var out []V
	for len(todo) > 0 {
		n := min(len(todo), maxBatch)
		res := fn(ctx, todo[:n])
		for i, k := range todo[:n] {
			if res[i] != nil && res[i].Error == nil {
				l.Prime(ctx, k, res[i].Data)
				out = append(out, res[i].Data)
			}
		}
		todo = todo[n:]
	}
	return out
}

// batch adapts a query by IDs to a dataloader batch function: results come
// back in key order, a missing key gets its own NotFoundError and a failed
// query fails every key of the batch.
func batch[T any](kind string, fetch func(context.Context, []int) ([]T, error), id func(T) int) dataloader.BatchFunc[int, T] {
	return func(ctx context.Context, keys []int) []*dataloader.Result[T] {
		observe(ctx, kind, len(keys))
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

type observerKey struct{}

// WithObserver returns a context whose batches are reported to fn (the
// loader's kind and the number of keys in the batch): metrics of how well
// requests batch.
func WithObserver(ctx context.Context, fn func(kind string, keys int)) context.Context {
	return context.WithValue(ctx, observerKey{}, fn)
}

func observe(ctx context.Context, kind string, keys int) {
	if fn, ok := ctx.Value(observerKey{}).(func(string, int)); ok {
		fn(kind, keys)
	}
}

// Middleware gives every request its own loaders.
func Middleware(client *ent.Client, d *dolibarr.Client, next http.Handler, opts ...Option) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), New(client, d, opts...))))
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
