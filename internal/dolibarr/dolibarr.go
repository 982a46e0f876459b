// Package dolibarr reads customers from the company's Dolibarr ERP database.
//
// The Dolibarr database is never migrated and never written. Writes are refused
// in code twice: every Ent mutation on the Dolibarr client fails with
// ErrReadOnly, and the driver under it refuses every statement that is not a
// SELECT and every transaction. Every customer query is scoped to third
// parties that are customers (client IN (1,3)) of the configured entity.
package dolibarr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/contact"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/intercept"
	// The schema's defaults, validators and privacy policies are registered
	// by ent/runtime: without it, no policy would apply.
	_ "github.com/shipmentapp/shipmentapp/ent/runtime"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/domain"
)

// ErrReadOnly is returned for every attempt to write to the Dolibarr database.
var ErrReadOnly = errors.New("dolibarr: the Dolibarr database is read-only for shipmentapp")

// Customer kinds of llx_societe.client that make a third party a customer.
const (
	clientCustomer            = 1
	clientCustomerAndProspect = 3
	statusActive              = 1
)

// Client reads Dolibarr. It is safe for concurrent use.
type Client struct {
	ent       *ent.Client
	drv       dialect.Driver
	sqlDB     *sql.DB
	entity    int
	countries *countryCache
}

// Open connects to the Dolibarr database of cfg. In the embedded default
// (a SQLite file with DOLIBARR_DEMO_SEED on) it first creates and seeds the
// demo database if the file does not exist yet.
func Open(ctx context.Context, cfg config.Dolibarr, metrics *dbroute.Metrics, tracing trace.TracerProvider) (*Client, error) {
	if cfg.Connection == config.DriverSQLite && cfg.DemoSeed {
		if err := EnsureDemo(ctx, cfg.Database); err != nil {
			return nil, err
		}
	}
	target := db.Target{
		Driver: cfg.Connection, Host: cfg.Host, Port: cfg.Port, Database: cfg.Database,
		Username: cfg.Username, Password: cfg.Password, ReadOnly: true, Timeout: cfg.Timeout,
	}
	// Its own pool, opened lazily: shipments keep being served when Dolibarr
	// is down, at start as later (customer fields then fail with
	// DOLIBARR_UNAVAILABLE).
	sqlDB, err := db.OpenLazy(target, db.Pool{MaxOpen: cfg.MaxOpenConns, MaxIdle: cfg.MaxOpenConns, MaxLifetime: 30 * time.Minute, Tracing: tracing})
	if err != nil {
		return nil, fmt.Errorf("dolibarr: %w", err)
	}
	return New(sqlDB, cfg.Connection, Options{Entity: cfg.Entity, Prefix: cfg.Prefix, Metrics: metrics}), nil
}

// Options configure a Client.
type Options struct {
	// Entity is the multicompany entity whose third parties are read.
	Entity int
	// Prefix is the table prefix of the Dolibarr install ($dolibarr_main_db_prefix).
	Prefix string
	// Metrics count the statements (may be nil).
	Metrics *dbroute.Metrics
}

// New wraps an open Dolibarr database. driver is a DB_CONNECTION name; its
// statements are counted as dbroute.TargetDolibarr.
func New(sqlDB *sql.DB, driver string, opts Options) *Client {
	entity := opts.Entity
	drv := readOnlyDriver{
		Driver: dbroute.Count(db.Driver(sqlDB, driver), dbroute.TargetDolibarr, opts.Metrics),
		tables: tableRenamer(opts.Prefix),
	}
	client := ent.NewClient(ent.Driver(drv))
	client.Use(func(ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(context.Context, ent.Mutation) (ent.Value, error) {
			return nil, ErrReadOnly
		})
	})
	client.Customer.Intercept(intercept.TraverseCustomer(func(_ context.Context, q *ent.CustomerQuery) error {
		q.Where(customer.Entity(entity), customer.ClientIn(clientCustomer, clientCustomerAndProspect))
		return nil
	}))
	// A private contact (priv = 1) belongs to the Dolibarr user who made it:
	// never shown; nor are inactive ones.
	client.Contact.Intercept(intercept.TraverseContact(func(_ context.Context, q *ent.ContactQuery) error {
		q.Where(contact.Entity(entity), contact.Status(1), contact.Private(0))
		return nil
	}))
	// Dolibarr writes "" (or blanks) as often as NULL for a value it does not
	// have: every optional text read from it is normalised to absent here,
	// once, for every reader (resolvers, loaders, both executors).
	client.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			v, err := next.Query(ctx, q)
			if err == nil {
				normalize(v)
			}
			return v, err
		})
	}))
	c := &Client{ent: client, drv: drv, sqlDB: sqlDB, entity: entity}
	c.countries = &countryCache{ttl: CountryCacheTTL, now: time.Now, load: c.loadCountries}
	return c
}

// Ent returns the Ent client over Dolibarr: only its Customer and Country
// queries are meaningful, and every mutation fails with ErrReadOnly.
func (c *Client) Ent() *ent.Client { return c.ent }

// Customers starts a query over the customers of the configured entity.
func (c *Client) Customers() *ent.CustomerQuery { return c.ent.Customer.Query() }

// Countries starts a query over the country dictionary.
func (c *Client) Countries() *ent.CountryQuery { return c.ent.Country.Query() }

// Contacts starts a query over the active, public contacts of the entity.
func (c *Client) Contacts() *ent.ContactQuery { return c.ent.Contact.Query() }

// ShippingMethods starts a query over the shipping methods dictionary.
func (c *Client) ShippingMethods() *ent.ShippingMethodQuery { return c.ent.ShippingMethod.Query() }

// IsActive reports whether a customer may receive new shipments.
func IsActive(cu *ent.Customer) bool { return cu.Status == statusActive }

// Close closes the connection pool.
func (c *Client) Close() error { return c.sqlDB.Close() }

// Ping checks the connection.
func (c *Client) Ping(ctx context.Context) error { return c.sqlDB.PingContext(ctx) }

// DB is the connection pool (for its statistics).
func (c *Client) DB() *sql.DB { return c.sqlDB }

// readOnlyDriver passes SELECT statements through, with the install's table
// prefix, and refuses everything else. A failure to reach Dolibarr (as opposed
// to an SQL error) becomes ErrUnavailable.
type readOnlyDriver struct {
	dialect.Driver
	tables *strings.Replacer
}

func (d readOnlyDriver) Exec(context.Context, string, any, any) error { return ErrReadOnly }

func (d readOnlyDriver) Tx(context.Context) (dialect.Tx, error) { return nil, ErrReadOnly }

// BeginTx is what ent.Client.BeginTx calls; it refuses like Tx.
func (d readOnlyDriver) BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error) {
	return nil, ErrReadOnly
}

func (d readOnlyDriver) Query(ctx context.Context, query string, args, v any) error {
	if !isSelect(query) {
		return ErrReadOnly
	}
	if d.tables != nil {
		query = d.tables.Replace(query)
	}
	err := d.Driver.Query(ctx, query, args, v)
	if err != nil && !isServerError(err) && ctx.Err() == nil {
		return &apperr.Error{Code: apperr.DolibarrUnavailable, Message: "the customer directory (Dolibarr) is unavailable; retry later", Err: err}
	}
	return err
}

// tables are the Dolibarr tables Ent maps, with their default prefix.
var tables = []string{"llx_societe", "llx_c_country", "llx_socpeople", "llx_c_shipment_mode"}

// tableRenamer rewrites the quoted table names Ent generates (`llx_x` on
// MySQL, "llx_x" on SQLite) to the install's prefix; nil for the default.
func tableRenamer(prefix string) *strings.Replacer {
	if prefix == "" || prefix == DefaultPrefix {
		return nil
	}
	var pairs []string
	for _, t := range tables {
		renamed := prefix + strings.TrimPrefix(t, DefaultPrefix)
		pairs = append(pairs, "`"+t+"`", "`"+renamed+"`", `"`+t+`"`, `"`+renamed+`"`)
	}
	return strings.NewReplacer(pairs...)
}

// DefaultPrefix is Dolibarr's default table prefix.
const DefaultPrefix = "llx_"

// isServerError reports whether err is the database answering (an SQL error),
// not a failure to reach it.
func isServerError(err error) bool {
	var me *mysql.MySQLError
	var se *sqlite.Error
	return errors.As(err, &me) || errors.As(err, &se)
}

func isSelect(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// Customer returns the customer with Dolibarr rowid id; ent.IsNotFound is true
// for the error when no customer of the configured entity has that rowid.
func (c *Client) Customer(ctx context.Context, id int) (*ent.Customer, error) {
	cu, err := c.Customers().Where(customer.ID(id)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("load customer %d: %w", id, err)
	}
	return cu, nil
}

// maxSearchLen bounds a customer search term.
const maxSearchLen = 100

// SearchTerm validates a customer search term and returns it trimmed.
func SearchTerm(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len([]rune(s)) > maxSearchLen {
		return "", apperr.Invalid("search", "search must be at most %d characters", maxSearchLen)
	}
	return s, nil
}

// Driver returns the read-only driver under the Ent client: it refuses every
// statement but SELECT, whoever builds it.
func (c *Client) Driver() dialect.Driver { return c.drv }

// normalize makes every optional text of the Dolibarr rows in v that is
// empty or blank absent (nil), with domain.Text: the schema's null, never "".
func normalize(v ent.Value) {
	switch rows := v.(type) {
	case []*ent.Customer:
		for _, c := range rows {
			for _, f := range []**string{&c.Alias, &c.Address, &c.PostalCode, &c.City, &c.Phone, &c.Email, &c.URL, &c.VatNumber} {
				*f = domain.Text(*f)
			}
		}
	case []*ent.Contact:
		for _, c := range rows {
			for _, f := range []**string{&c.Civility, &c.FirstName, &c.LastName, &c.JobTitle, &c.Email, &c.Phone, &c.MobilePhone} {
				*f = domain.Text(*f)
			}
		}
	case []*ent.Country:
		for _, c := range rows {
			c.CodeIso = domain.Text(c.CodeIso)
		}
	case []*ent.ShippingMethod:
		for _, m := range rows {
			m.TrackingURL = domain.Text(m.TrackingURL)
		}
	}
}
