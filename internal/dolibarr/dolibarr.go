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
	"strings"

	"entgo.io/ent/dialect"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/ent/intercept"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
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
	ent    *ent.Client
	drv    dialect.Driver
	sqlDB  *sql.DB
	entity int
}

// Open connects to the Dolibarr database of cfg. In the embedded default
// (a SQLite file with DOLIBARR_DEMO_SEED on) it first creates and seeds the
// demo database if the file does not exist yet.
func Open(ctx context.Context, cfg config.Dolibarr, metrics *dbroute.Metrics) (*Client, error) {
	if cfg.Connection == config.DriverSQLite && cfg.DemoSeed {
		if err := EnsureDemo(ctx, cfg.Database); err != nil {
			return nil, err
		}
	}
	target := db.Target{
		Driver: cfg.Connection, Host: cfg.Host, Port: cfg.Port, Database: cfg.Database,
		Username: cfg.Username, Password: cfg.Password, ReadOnly: true,
	}
	sqlDB, err := db.Open(ctx, target, db.Pool{MaxOpen: 10, MaxIdle: 5})
	if err != nil {
		return nil, fmt.Errorf("dolibarr: %w", err)
	}
	return New(sqlDB, cfg.Connection, cfg.Entity, metrics), nil
}

// New wraps an open Dolibarr database. driver is a DB_CONNECTION name; its
// statements are counted as dbroute.TargetDolibarr (metrics may be nil).
func New(sqlDB *sql.DB, driver string, entity int, metrics *dbroute.Metrics) *Client {
	drv := readOnlyDriver{Driver: dbroute.Count(db.Driver(sqlDB, driver), dbroute.TargetDolibarr, metrics)}
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
	return &Client{ent: client, drv: drv, sqlDB: sqlDB, entity: entity}
}

// Ent returns the Ent client over Dolibarr: only its Customer and Country
// queries are meaningful, and every mutation fails with ErrReadOnly.
func (c *Client) Ent() *ent.Client { return c.ent }

// Customers starts a query over the customers of the configured entity.
func (c *Client) Customers() *ent.CustomerQuery { return c.ent.Customer.Query() }

// Countries starts a query over the country dictionary.
func (c *Client) Countries() *ent.CountryQuery { return c.ent.Country.Query() }

// IsActive reports whether a customer may receive new shipments.
func IsActive(cu *ent.Customer) bool { return cu.Status == statusActive }

// Close closes the connection pool.
func (c *Client) Close() error { return c.sqlDB.Close() }

// Ping checks the connection.
func (c *Client) Ping(ctx context.Context) error { return c.sqlDB.PingContext(ctx) }

// readOnlyDriver passes SELECT statements through and refuses everything else.
type readOnlyDriver struct {
	dialect.Driver
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
	return d.Driver.Query(ctx, query, args, v)
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
