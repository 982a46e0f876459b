// Package app assembles shipmentapp from its configuration: databases,
// migrations, demo data and the HTTP handler. server.go and the end-to-end
// tests build the service the same way.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/demo"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
)

// App is a running shipmentapp without its listener.
type App struct {
	Config   *config.Config
	Logger   *slog.Logger
	Client   *ent.Client
	Dolibarr *dolibarr.Client
	Shipping *shipping.Service
	Handler  http.Handler

	mainDB *sql.DB
}

// New opens the databases of cfg, applies or checks migrations, seeds the demo
// data where configured and builds the HTTP handler.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (_ *App, err error) {
	a := &App{Config: cfg, Logger: logger}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.mainDB, err = db.Open(ctx, db.MainTarget(cfg.DB), db.MainPool(cfg.DB))
	if err != nil {
		return nil, err
	}
	if err := a.migrations(ctx); err != nil {
		return nil, err
	}
	a.Client = ent.NewClient(ent.Driver(db.Driver(a.mainDB, cfg.DB.Connection)))
	a.Dolibarr, err = dolibarr.Open(ctx, cfg.Dolibarr)
	if err != nil {
		return nil, err
	}
	a.Shipping = shipping.New(a.Client, a.Dolibarr)
	if cfg.DemoSeed {
		start := time.Now()
		n, err := demo.Seed(ctx, a.Client, a.Dolibarr, demo.DefaultShipments)
		if err != nil {
			return nil, fmt.Errorf("seed demo shipments: %w", err)
		}
		if n > 0 {
			logger.InfoContext(ctx, "seeded demo shipments", slog.Int("shipments", n), slog.Duration("took", time.Since(start)))
		}
	}
	a.Handler = a.routes()
	return a, nil
}

// migrations applies pending migrations when DB_AUTO_MIGRATE is on
// (development) and otherwise refuses to start with pending ones.
func (a *App) migrations(ctx context.Context) error {
	m, err := migrate.New(a.mainDB, a.Config.DB.Connection)
	if err != nil {
		return err
	}
	if a.Config.DB.AutoMigrate {
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		for _, r := range applied {
			a.Logger.InfoContext(ctx, "applied migration", slog.String("migration", r.Name))
		}
		return nil
	}
	var pending *migrate.ErrPending
	if err := m.CheckCurrent(ctx); errors.As(err, &pending) {
		return fmt.Errorf("refusing to start: %w", err)
	} else if err != nil {
		return err
	}
	return nil
}

// Close releases the databases.
func (a *App) Close() {
	if a.Dolibarr != nil {
		_ = a.Dolibarr.Close()
	}
	if a.Client != nil {
		_ = a.Client.Close()
	} else if a.mainDB != nil {
		_ = a.mainDB.Close()
	}
}
