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
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/bradfitz/gomemcache/memcache"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/replicationheartbeat"
	"github.com/shipmentapp/shipmentapp/graph"
	// The schema's defaults, validators and privacy policies are registered
	// by ent/runtime: without it, no policy would apply.
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	_ "github.com/shipmentapp/shipmentapp/ent/runtime"
	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/demo"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/health"
	"github.com/shipmentapp/shipmentapp/internal/httpedge"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
	"github.com/shipmentapp/shipmentapp/internal/observability"
	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/ratelimit"
	"github.com/shipmentapp/shipmentapp/internal/redisx"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/subtransport"
	"github.com/shipmentapp/shipmentapp/internal/webhook"
)

// App is a running shipmentapp without its listener.
type App struct {
	Config   *config.Config
	Logger   *slog.Logger
	Client   *ent.Client
	Dolibarr *dolibarr.Client
	Shipping *shipping.Service
	Handler  http.Handler
	// Router sends reads to replicas and everything else to the primary.
	Router *dbroute.Router
	// Registry holds the Prometheus metrics served at /metrics.
	Registry *prometheus.Registry
	// Redis is the shared Redis, nil when none is configured.
	Redis redis.UniversalClient
	// Limiter enforces the request rate limits.
	Limiter *ratelimit.Limiter
	// APQ is the persisted query cache.
	APQ *apq.Cache
	// Files stores, signs and sweeps shipment files.
	Files *files.Service
	// Live delivers committed changes to this instance's subscribers;
	// Subscriptions serves them over websockets and SSE.
	Live          *live.Hub
	Subscriptions *subtransport.Server
	// Health checks the dependencies for /readyz.
	Health *health.Checker
	// Keys verifies API keys; OIDC verifies user tokens (nil when not configured).
	Keys *auth.Keys
	OIDC *auth.OIDC
	// Webhooks manages endpoints and delivers to them (internal/webhook).
	Webhooks *webhook.Service
	// DevAdminKey is the admin key created on the first start in development,
	// for the playground; empty otherwise.
	DevAdminKey string
	// devSessions signs the development playground in (nil outside
	// development, or when PLAYGROUND_DEV_AUTH or APP_ADDR rule it out);
	// playgroundPage is /playground (nil when GRAPHQL_PLAYGROUND is off).
	devSessions    *playground.DevSessions
	playgroundPage *playground.Handler

	// uploadSlots bounds the uploads in progress (FILE_MAX_CONCURRENT_UPLOADS);
	// spoolDir holds the parts that arrive before their resolver wants them.
	metrics     *observability.Metrics
	tracer      trace.TracerProvider
	reporter    *observability.Reporter
	stopTracing func(context.Context) error
	uploadSlots chan struct{}
	spoolDir    string
	// compress compresses answers (HTTP_COMPRESSION); nil when off.
	compress httpedge.Middleware
	store    storage.Store

	// es is the executable schema, built once (executableSchema).
	es     graphql.ExecutableSchema
	esOnce sync.Once

	mainDB     *sql.DB
	replicaDBs []*sql.DB
	// bg lives until Close, which cancels it and waits for the goroutines
	// of background (the replica monitor, the key-use flusher).
	bg     context.Context
	stopBG context.CancelFunc
	jobs   sync.WaitGroup
}

// New opens the databases of cfg, applies or checks migrations, seeds the demo
// data where configured and builds the HTTP handler.
//
// Without APP_URL (development), the public URL is APP_ADDR's: serve sets it
// first from the address it actually listens on (config.ResolveURL).
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (_ *App, err error) {
	cfg.ResolveURL(nil)
	a := &App{Config: cfg, Logger: logger}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.tracer, a.stopTracing, err = observability.NewTracerProvider(ctx, observability.Tracing{
		Exporter: cfg.Tracing.Exporter, SampleRatio: cfg.Tracing.SampleRatio, Version: buildVersion(),
	})
	if err != nil {
		return nil, err
	}
	env := cfg.Tracing.SentryEnvironment
	if env == "" {
		env = cfg.Env
	}
	if a.reporter, err = observability.NewReporter(cfg.Tracing.SentryDSN, env, buildVersion()); err != nil {
		return nil, err
	}
	a.mainDB, err = db.Open(ctx, db.MainTarget(cfg.DB), a.pool())
	if err != nil {
		return nil, err
	}
	if err := a.migrations(ctx); err != nil {
		return nil, err
	}
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = observability.New(a.Registry)
	metrics := dbroute.NewMetrics(a.Registry)
	if err := a.route(ctx, metrics); err != nil {
		return nil, err
	}
	a.Client = ent.NewClient(ent.Driver(a.Router))
	// Deep pages of shipments read from their cursor on (graph.PageBound).
	a.Client.Shipment.Intercept(graph.PageBound())
	a.Dolibarr, err = dolibarr.Open(ctx, cfg.Dolibarr, metrics, a.pool().Tracing)
	if err != nil {
		return nil, err
	}
	a.Redis = redisx.New(cfg.Redis)
	if a.Redis != nil && cfg.Tracing.Exporter != "off" {
		if err := redisotel.InstrumentTracing(a.Redis, redisotel.WithTracerProvider(a.tracer)); err != nil {
			return nil, fmt.Errorf("trace redis: %w", err)
		}
	}
	a.Live = live.New(live.Options{
		Client: a.Client, Bus: a.bus(), Logger: logger, Registry: a.Registry,
		Poll: cfg.Subs.PollInterval, Buffer: cfg.Subs.Buffer,
	})
	a.Shipping = shipping.New(a.Client, a.Dolibarr, shipping.WithNotifier(a.Live))
	a.Keys = auth.NewKeys(a.Client, auth.WithCustomers(a.Dolibarr))
	a.Keys.OnRevoke = a.Live.Revoked
	store, err := OpenStorage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.store = store
	fopts, err := FilesOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	if a.Files, err = files.New(a.Client, store, fopts); err != nil {
		return nil, err
	}
	a.uploadSlots = make(chan struct{}, cfg.Files.MaxConcurrentUploads)
	a.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shipmentapp_uploads_in_progress",
		Help: "Upload requests being received (at most FILE_MAX_CONCURRENT_UPLOADS; beyond, 429).",
	}, func() float64 { return float64(a.UploadsInProgress()) }))
	if a.spoolDir, err = spoolDir(cfg); err != nil {
		return nil, err
	}
	a.APQ = apq.NewCache(apq.CacheOptions{
		Shared: apqStore(cfg, a.Redis), Prefix: cfg.Redis.Prefix, TTL: cfg.APQ.TTL, Size: cfg.APQ.Size,
		Timeout: cfg.Redis.Timeout, Logger: logger, Registry: a.Registry,
	})
	if cfg.OIDC.JWKSURL != "" {
		a.OIDC, err = auth.NewOIDC(a.background(ctx), auth.OIDCConfig{
			JWKSURL: cfg.OIDC.JWKSURL, Issuer: cfg.OIDC.Issuer, Audience: cfg.OIDC.Audience,
			RolesClaim: cfg.OIDC.RolesClaim, CustomersClaim: cfg.OIDC.CustomersClaim,
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.IsDevelopment() {
		if err := a.devAdminKey(ctx); err != nil {
			return nil, err
		}
	}
	a.Limiter = ratelimit.New(ratelimit.Options{
		Redis: a.Redis, Prefix: cfg.Redis.Prefix + "rl:", Timeout: cfg.Redis.Timeout,
		Logger: logger, Registry: a.Registry,
	})
	if cfg.DemoSeed {
		start := time.Now()
		n, err := demo.Seed(privacy.DecisionContext(ctx, privacy.Allow), a.Client, a.Dolibarr, demo.DefaultShipments)
		if err != nil {
			return nil, fmt.Errorf("seed demo shipments: %w", err)
		}
		if n > 0 {
			logger.InfoContext(ctx, "seeded demo shipments", slog.Int("shipments", n), slog.Duration("took", time.Since(start)))
		}
	}
	if err := a.webhooks(ctx); err != nil {
		return nil, err
	}
	a.Health = health.New(a.healthChecks(), logger, a.Registry)
	// Connection pools: in use, idle, waits, by database.
	a.Registry.MustRegister(collectors.NewDBStatsCollector(a.mainDB, "primary"), collectors.NewDBStatsCollector(a.Dolibarr.DB(), "dolibarr"))
	for i, r := range a.replicaDBs {
		a.Registry.MustRegister(collectors.NewDBStatsCollector(r, "replica:"+a.Router.Replicas()[i].Name))
	}
	if cfg.HTTP.Compressed() {
		a.compress, err = httpedge.Compression{MinBytes: cfg.HTTP.CompressMinBytes}.Middleware()
		if err != nil {
			return nil, err
		}
	}
	if cfg.GraphQL.Playground {
		if err := a.startDevSessions(); err != nil {
			return nil, err
		}
		if a.playgroundPage, err = a.playgroundHandler(); err != nil {
			return nil, err
		}
	}
	a.Handler = a.routes()
	a.goBackground(ctx, func(bg context.Context) { a.Health.Start(bg)() })
	a.startLive(ctx)
	a.startMonitor(ctx)
	a.startKeyFlusher(ctx)
	a.startSweeper(ctx)
	a.goBackground(ctx, a.Webhooks.Run)
	return a, nil
}

// pool is the main database's connection settings, traced when tracing is on.
func (a *App) pool() db.Pool {
	p := db.MainPool(a.Config.DB)
	if a.Config.Tracing.Exporter != "off" {
		p.Tracing = a.tracer
	}
	return p
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "dev"
}

// healthChecks are the dependencies /readyz reports: the primary and the
// file store are critical; replicas, Dolibarr and the cache degrade the
// service without stopping it.
func (a *App) healthChecks() []health.Check {
	h := a.Config.Health
	db := func(name string, critical bool, probe func(context.Context) error) health.Check {
		return health.Check{Name: name, Critical: critical, Interval: h.DBInterval, Timeout: h.DBTimeout, Retries: h.DBRetries, Probe: probe}
	}
	checks := []health.Check{db("primary", true, a.mainDB.PingContext)}
	for i, r := range a.replicaDBs {
		name := "replica"
		if len(a.replicaDBs) > 1 {
			name = "replica:" + a.Router.Replicas()[i].Name
		}
		checks = append(checks, db(name, false, r.PingContext))
	}
	checks = append(checks, db("dolibarr", false, a.Dolibarr.Ping))
	cache := func(probe func(context.Context) error) health.Check {
		return health.Check{Name: "cache", Interval: h.CacheInterval, Timeout: h.CacheTimeout, Retries: h.CacheRetries, Probe: probe}
	}
	switch {
	case a.Redis != nil:
		checks = append(checks, cache(func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() }))
	case a.Config.APQ.CacheDriver == "memcached":
		mc := memcache.New(strings.Split(a.Config.APQ.MemcachedAddrs, ",")...)
		mc.Timeout = h.CacheTimeout
		checks = append(checks, cache(func(context.Context) error { return mc.Ping() }))
	}
	return append(checks, health.Check{
		Name: "storage", Critical: true, Interval: h.StorageInterval, Timeout: h.StorageTimeout, Retries: h.StorageRetries,
		Probe: a.store.Ping,
	})
}

// bus carries the live updates between instances: Redis when configured,
// else the in-process bus of a single instance.
func (a *App) bus() pubsub.Bus {
	if a.Redis == nil {
		return pubsub.NewMemory()
	}
	return &pubsub.Redis{
		Client: a.Redis, Channel: a.Config.Redis.Prefix + "live",
		Timeout: a.Config.Redis.Timeout * 10, Logger: a.Logger,
	}
}

// startLive runs the live updates until Close. Revocations from other
// instances also make this one forget the key.
func (a *App) startLive(ctx context.Context) {
	a.Live.OnRevoked(func(cred string) {
		if keyID, ok := strings.CutPrefix(cred, "api_key:"); ok {
			a.Keys.Forget(keyID)
		}
	})
	a.goBackground(ctx, func(bg context.Context) {
		_ = a.Live.Run(bg)
	})
}

// apqStore is the shared store of CACHE_DRIVER (nil: in-process only).
func apqStore(cfg *config.Config, rdb redis.UniversalClient) apq.Store {
	switch cfg.APQ.CacheDriver {
	case "redis":
		if rdb == nil { // excluded by config validation
			return nil
		}
		return apq.RedisStore{Client: rdb}
	case "memcached":
		mc := memcache.New(strings.Split(cfg.APQ.MemcachedAddrs, ",")...)
		mc.Timeout = cfg.Redis.Timeout
		return apq.MemcachedStore{Client: mc}
	}
	return nil
}

// background returns a context for work that lives until Close.
func (a *App) background(ctx context.Context) context.Context {
	if a.bg == nil {
		a.bg, a.stopBG = context.WithCancel(context.WithoutCancel(ctx))
	}
	return a.bg
}

// goBackground runs job in a goroutine until Close, which waits for it.
func (a *App) goBackground(ctx context.Context, job func(bg context.Context)) {
	bg := a.background(ctx)
	a.jobs.Add(1)
	go func() {
		defer a.jobs.Done()
		job(bg)
	}()
}

// devAdminKey creates, on the first start in development (no key exists
// yet), an admin key for the playground.
func (a *App) devAdminKey(ctx context.Context) error {
	n, err := a.Keys.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	_, secret, err := a.Keys.Create(privacy.DecisionContext(ctx, privacy.Allow), auth.CreateInput{
		Name: "development admin (created on first start)", Role: auth.RoleAdmin, CreatedBy: "system",
	})
	a.DevAdminKey = secret
	return err
}

// startKeyFlusher records the keys' last use every 30 seconds (and at Close).
func (a *App) startKeyFlusher(ctx context.Context) {
	a.goBackground(ctx, func(bg context.Context) {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				fctx, cancel := context.WithTimeout(context.WithoutCancel(bg), 5*time.Second)
				_ = a.Keys.FlushLastUsed(fctx)
				cancel()
				return
			case <-t.C:
				if err := a.Keys.FlushLastUsed(bg); err != nil {
					a.Logger.Warn("record api key use", slog.String("error", err.Error()))
				}
			}
		}
	})
}

// route builds the database router over the primary and the replicas of
// DB_READ_HOST.
func (a *App) route(ctx context.Context, metrics *dbroute.Metrics) error {
	cfg := a.Config.DB
	primary := dbroute.Count(db.Driver(a.mainDB, cfg.Connection), dbroute.TargetPrimary, metrics)
	targets, err := db.ReplicaTargets(cfg)
	if err != nil {
		return err
	}
	var replicas []*dbroute.Replica
	for _, t := range targets {
		sqlDB, err := db.OpenLazy(t, a.pool())
		if err != nil {
			return err
		}
		a.replicaDBs = append(a.replicaDBs, sqlDB)
		replicas = append(replicas, &dbroute.Replica{
			Name:   t.Name(),
			Driver: dbroute.Count(db.Driver(sqlDB, cfg.Connection), dbroute.TargetReplica, metrics),
		})
	}
	a.Router = dbroute.NewRouter(primary, replicas, dbroute.Options{
		MaxLag:         cfg.ReplicaMaxLag,
		ReadYourWrites: cfg.ReadYourWrites,
		Logger:         a.Logger,
		Metrics:        metrics,
	})
	return nil
}

// startMonitor measures replica lag in the background until Close; the first
// round runs now, so healthy replicas serve reads from the first request.
func (a *App) startMonitor(ctx context.Context) {
	if len(a.Router.Replicas()) == 0 {
		return
	}
	hb := heartbeat{client: a.Client, replicas: map[*dbroute.Replica]*ent.Client{}}
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	for _, rep := range a.Router.Replicas() {
		hb.replicas[rep] = ent.NewClient(ent.Driver(rep.Driver))
	}
	interval := a.Config.DB.ReplicaCheckInterval
	a.Router.Check(ctx, hb, interval)
	a.goBackground(ctx, func(bg context.Context) {
		a.Router.Monitor(privacy.DecisionContext(bg, privacy.Allow), hb, interval)
	})
}

// heartbeat writes and reads the replication_heartbeat row.
type heartbeat struct {
	client   *ent.Client
	replicas map[*dbroute.Replica]*ent.Client
}

const heartbeatID = 1

func (h heartbeat) Beat(ctx context.Context, now time.Time) error {
	return h.client.ReplicationHeartbeat.Create().
		SetID(heartbeatID).
		SetBeatAt(now.UTC().Truncate(time.Microsecond)).
		OnConflictColumns(replicationheartbeat.FieldID).
		UpdateNewValues().
		Exec(ctx)
}

func (h heartbeat) Read(ctx context.Context, rep *dbroute.Replica) (time.Time, error) {
	row, err := h.replicas[rep].ReplicationHeartbeat.Get(ctx, heartbeatID)
	if err != nil {
		return time.Time{}, err
	}
	return row.BeatAt, nil
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

// Close stops the background work and releases the databases.
func (a *App) Close() {
	if a.stopBG != nil {
		a.stopBG()
		a.jobs.Wait()
	}
	for _, r := range a.replicaDBs {
		_ = r.Close()
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	if a.Dolibarr != nil {
		_ = a.Dolibarr.Close()
	}
	if a.Client != nil {
		_ = a.Client.Close()
	} else if a.mainDB != nil {
		_ = a.mainDB.Close()
	}
	a.reporter.Flush(2 * time.Second)
	if a.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.stopTracing(ctx) // flushes the last spans
		cancel()
	}
}
