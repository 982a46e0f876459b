package dolibarr

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/country"
)

// CountryCacheTTL is how long the table of countries read from Dolibarr is
// served from memory before it is read again.
const CountryCacheTTL = 10 * time.Minute

// countryCache holds llx_c_country, Dolibarr's reference table of countries:
// a few hundred rows that administrators almost never change, asked for by
// nearly every customer a query shows. Reading it whole once every
// CountryCacheTTL instead of once per request saves a round trip to Dolibarr
// on each. A country missing from the cached table (added since) is read on
// its own, so a new country shows at once; a changed label shows within the
// TTL. When a refresh fails, the previous table keeps being served (it only
// names countries) and the refresh is retried at the next read.
type countryCache struct {
	ttl  time.Duration
	now  func() time.Time
	load func(ctx context.Context, ids []int) ([]*ent.Country, error) // nil ids: all

	group singleflight.Group
	mu    sync.RWMutex
	byID  map[int]*ent.Country
	at    time.Time // when byID was read
}

// get returns the countries of ids that exist, by ID.
func (c *countryCache) get(ctx context.Context, ids []int) (map[int]*ent.Country, error) {
	c.mu.RLock()
	table, fresh := c.byID, c.byID != nil && c.now().Sub(c.at) < c.ttl
	c.mu.RUnlock()
	if !fresh {
		t, err := c.refresh(ctx)
		switch {
		case err == nil:
			table = t
		case table == nil:
			return nil, err
		}
	}
	out := make(map[int]*ent.Country, len(ids))
	var missing []int
	for _, id := range ids {
		if co, ok := table[id]; ok {
			out[id] = co
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := c.load(ctx, missing)
	if err != nil {
		return nil, fmt.Errorf("load %d countries: %w", len(missing), err)
	}
	for _, co := range rows {
		out[co.ID] = co
	}
	return out, nil
}

// refresh reads the whole table, once for all the callers waiting on it. The
// read is not bound to the first caller's context: a caller that gives up
// does not fail the others.
func (c *countryCache) refresh(ctx context.Context) (map[int]*ent.Country, error) {
	v, err, _ := c.group.Do("countries", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		rows, err := c.load(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("load the countries: %w", err)
		}
		table := make(map[int]*ent.Country, len(rows))
		for _, co := range rows {
			table[co.ID] = co
		}
		c.mu.Lock()
		c.byID, c.at = table, c.now()
		c.mu.Unlock()
		return table, nil // never written once published
	})
	if err != nil {
		return nil, err
	}
	return v.(map[int]*ent.Country), nil
}

// loadCountries reads the countries ids, or all of them when ids is nil.
func (c *Client) loadCountries(ctx context.Context, ids []int) ([]*ent.Country, error) {
	q := c.ent.Country.Query()
	if ids != nil {
		q.Where(country.IDIn(ids...))
	}
	return q.All(ctx)
}

// CountriesByID returns the countries of ids that exist, by ID, from the
// table of countries cached for CountryCacheTTL (see countryCache).
func (c *Client) CountriesByID(ctx context.Context, ids []int) (map[int]*ent.Country, error) {
	return c.countries.get(ctx, ids)
}
