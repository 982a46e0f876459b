// Command shipmentapp is the GraphQL API for shipments, their tracking events
// and the Dolibarr customers they are for.
//
//	shipmentapp serve                 run the API (embedded default: no services needed)
//	shipmentapp migrate up|down|status
//	shipmentapp apikey create|list|revoke
//	shipmentapp persisted import FILE
//	shipmentapp files sweep [--grace 1h]
//	shipmentapp version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	_ "github.com/shipmentapp/shipmentapp/ent/runtime" // the schema's defaults and policies
	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "shipmentapp:", err)
		os.Exit(1)
	}
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	var configPath string
	root := &cobra.Command{
		Use:           "shipmentapp",
		Short:         "GraphQL API for shipments, tracking events and Dolibarr customers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&configPath, "config", os.Getenv("APP_CONFIG"), "YAML config file (keys are the environment variable names in lower case)")
	load := func() (*config.Config, *slog.Logger, error) {
		cfg, err := config.Load(configPath, os.Environ())
		if err != nil {
			return nil, nil, err
		}
		logger := newLogger(stderr, cfg)
		// The MySQL driver logs dropped idle connections on its own (a
		// process-wide setting, made once here before any connection): keep
		// them in our logs, at debug level, as database/sql retries them.
		_ = mysql.SetLogger(slog.NewLogLogger(logger.Handler(), slog.LevelDebug))
		// Likewise go-redis's dial failures: callers fall back and log once.
		redis.SetLogger(redisLogger{logger})
		return cfg, logger, nil
	}
	root.AddCommand(serveCmd(load), migrateCmd(load, stdout), apikeyCmd(load, stdout), persistedCmd(load, stdout), filesCmd(load, stdout), dolibarrCmd(load, stdout), probeCmd(load, stdout), versionCmd(stdout))
	return root
}

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.IsDevelopment() {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts)).With(slog.String("service", "shipmentapp"), slog.String("version", version))
}

type loader func() (*config.Config, *slog.Logger, error)

func serveCmd(load loader) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the GraphQL API, the playground and the SDL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, logger, err := load()
			if err != nil {
				return err
			}
			tuneGC()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			// Listen first: without APP_URL, the public URL (download links,
			// the websocket origin) is the address actually bound.
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			defer func() { _ = ln.Close() }()
			urlFrom := "APP_URL"
			if cfg.ResolveURL(ln.Addr()) {
				urlFrom = "listen address (APP_URL not set)"
			}
			a, err := app.New(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer a.Close()
			if a.DevAdminKey != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "\nDevelopment admin API key (shown once; /playground signs in by itself from this machine,\n"+
					"this key is for other clients and for the playground elsewhere: send the header\n"+
					"  {\"Authorization\": \"Bearer %s\"}\n):\n%s\n\n", a.DevAdminKey, a.DevAdminKey)
			}
			return serve(ctx, a, ln, urlFrom)
		},
	}
}

// defaultGCPercent is the GC target of serve when GOGC is not set. A request
// allocates a lot and keeps little (workload (a) of docs/BENCHMARKS.md: 2 MB
// allocated, a few hundred KB live), so the default of 100 collects often for
// little: at 200, GC costs about a quarter less CPU under load and the heap
// stays well inside the deployment's memory limit, which GOMEMLIMIT turns
// into harder collection before it is reached.
const defaultGCPercent = 200

// tuneGC sets the GC target to defaultGCPercent unless GOGC says otherwise.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// serve serves a on ln until ctx ends, then shuts down gracefully; urlFrom
// says where the public URL came from, for the start-up line.
func serve(ctx context.Context, a *app.App, ln net.Listener, urlFrom string) error {
	cfg := a.Config
	var draining atomic.Bool
	srv := &http.Server{
		Addr: cfg.Addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				w.Header().Set("Connection", "close")
			}
			a.Handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	a.Logger.Info("serving",
		slog.String("env", cfg.Env),
		slog.String("url", cfg.URL),
		slog.String("url_from", urlFrom),
		slog.String("listen", ln.Addr().String()),
		slog.String("graphql", strings.TrimSuffix(cfg.URL, "/")+"/graphql"),
		slog.Bool("playground", cfg.GraphQL.Playground),
		slog.String("db", cfg.DB.Connection),
		slog.String("dolibarr", cfg.Dolibarr.Connection))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down", slog.Duration("deadline", cfg.HTTP.ShutdownTimeout), slog.Duration("readiness_delay", cfg.HTTP.ShutdownDelay))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	// Readiness fails first, so the load balancer stops sending new
	// requests while this instance still serves them.
	a.Health.ShuttingDown()
	// Pooled keep-alive connections (a proxy's upstream pool) close after
	// their next response, which says so, rather than under a request the
	// proxy is writing, which it could not safely retry (a POST).
	draining.Store(true)
	time.Sleep(cfg.HTTP.ShutdownDelay)
	// http.Server.Shutdown neither waits for nor closes websockets (they are
	// hijacked), and waits for event streams forever: the subscription
	// server lets their in-flight messages out, then closes them with 1001.
	subsDone := make(chan error, 1)
	go func() { subsDone <- a.Subscriptions.Shutdown(shutdownCtx) }()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-subsDone; err != nil {
		a.Logger.Warn("subscriptions closed at the shutdown deadline", slog.String("error", err.Error()))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func migrateCmd(load loader, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, revert or list the main database's migrations",
	}
	withMigrator := func(run func(context.Context, *migrate.Migrator) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := load()
			if err != nil {
				return err
			}
			sqlDB, err := db.Open(cmd.Context(), db.MainTarget(cfg.DB), db.Pool{MaxOpen: 2})
			if err != nil {
				return err
			}
			defer func() { _ = sqlDB.Close() }()
			m, err := migrate.New(sqlDB, cfg.DB.Connection)
			if err != nil {
				return err
			}
			return run(cmd.Context(), m)
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use: "up", Short: "Apply every pending migration", Args: cobra.NoArgs,
			RunE: withMigrator(func(ctx context.Context, m *migrate.Migrator) error {
				res, err := m.Up(ctx)
				if err != nil {
					return err
				}
				if len(res) == 0 {
					fmt.Fprintln(stdout, "no pending migrations")
				}
				for _, r := range res {
					fmt.Fprintln(stdout, "applied", r.Name)
				}
				return nil
			}),
		},
		&cobra.Command{
			Use: "down", Short: "Revert the last applied migration", Args: cobra.NoArgs,
			RunE: withMigrator(func(ctx context.Context, m *migrate.Migrator) error {
				r, err := m.Down(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, "reverted", r.Name)
				return nil
			}),
		},
		&cobra.Command{
			Use: "status", Short: "List migrations and whether they are applied", Args: cobra.NoArgs,
			RunE: withMigrator(func(ctx context.Context, m *migrate.Migrator) error {
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "MIGRATION\tSTATE")
				for _, s := range st {
					state := "pending"
					if s.Applied {
						state = "applied"
					}
					fmt.Fprintf(tw, "%s\t%s\n", s.Name, state)
				}
				return tw.Flush()
			}),
		},
	)
	return cmd
}

// probeCmd asks a running instance whether it is alive or ready, for
// container health checks on an image without curl: exit 0 when it answers
// 200. By default it asks the listen address of the configuration it is run
// with (APP_ADDR, or app_addr in --config), as serve would listen on it.
func probeCmd(load loader, stdout io.Writer) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "probe live|ready",
		Short: "Check a running instance's /livez or /readyz (exit 0 when it answers 200)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := map[string]string{"live": "/livez", "ready": "/readyz"}[args[0]]
			if path == "" {
				return fmt.Errorf("probe: want live or ready, got %q", args[0])
			}
			if url == "" {
				cfg, _, err := load()
				if err != nil {
					return fmt.Errorf("probe: %w", err)
				}
				// A wildcard host is this host.
				url = config.ListenURL(cfg.Addr, nil)
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+path, nil)
			if err != nil {
				return fmt.Errorf("probe: %w", err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("probe %s: %w", path, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			fmt.Fprintf(stdout, "%s %d %s\n", path, resp.StatusCode, strings.TrimSpace(string(body)))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("probe %s: %s", path, resp.Status)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "base URL of the instance (default: the configured APP_ADDR on this host)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return cmd
}

func versionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			commit := "unknown"
			goVersion := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				goVersion = info.GoVersion
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						commit = s.Value
					}
				}
			}
			fmt.Fprintf(stdout, "shipmentapp %s (commit %s, %s)\n", version, commit, goVersion)
		},
	}
}

// redisLogger sends go-redis's internal logs to slog at debug level.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}

// apikeyCmd manages API keys from the command line (the first admin key of
// an environment, key rotation in scripts). It parses flags and prints: every
// rule (what a valid key is, that its customers exist in Dolibarr, a key's
// state) is auth.Keys's, the same service the GraphQL API calls.
func apikeyCmd(load loader, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Create, list and revoke API keys"}
	// withKeys runs run with the keys service; checkCustomers also opens
	// Dolibarr, which only creating a key needs.
	withKeys := func(checkCustomers bool, run func(context.Context, *auth.Keys) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := load()
			if err != nil {
				return err
			}
			client, err := openMain(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer func() { _ = client.Close() }()
			var opts []auth.KeysOption
			if checkCustomers {
				// Its pool opens lazily: only a PARTNER key's customer
				// check connects.
				customers, err := dolibarr.Open(cmd.Context(), cfg.Dolibarr, nil, nil)
				if err != nil {
					return err
				}
				defer func() { _ = customers.Close() }()
				opts = append(opts, auth.WithCustomers(customers))
			}
			// The command line is an operator with database access: it is
			// not subject to the API's roles.
			ctx := privacy.DecisionContext(cmd.Context(), privacy.Allow)
			return run(ctx, auth.NewKeys(client, opts...))
		}
	}
	var name, role, customers, expires string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a key; its secret is printed once, alone on the last line",
		Args:  cobra.NoArgs,
		RunE: withKeys(true, func(ctx context.Context, keys *auth.Keys) error {
			in := auth.CreateInput{Name: name, Role: auth.Role(strings.ToUpper(role)), CreatedBy: "cli"}
			var given []string
			for _, c := range strings.Split(customers, ",") {
				if c = strings.TrimSpace(c); c == "" {
					continue
				}
				n, err := gid.ParseAs(gid.TypeCustomer, c)
				if err != nil {
					return fmt.Errorf("--customers: %q is not a Customer ID as the API returns them: %w", c, err)
				}
				in.Customers = append(in.Customers, n)
				given = append(given, c)
			}
			if expires != "" {
				d, err := time.ParseDuration(expires)
				if err != nil || d <= 0 {
					return fmt.Errorf("--expires: a positive duration such as 720h, got %q", expires)
				}
				t := time.Now().Add(d)
				in.ExpiresAt = &t
			}
			key, secret, err := keys.Create(ctx, in)
			if bad := (*auth.InputError)(nil); errors.As(err, &bad) && bad.Customer >= 0 {
				return fmt.Errorf("--customers: %s (customer %d): %s", given[bad.Customer], in.Customers[bad.Customer], bad.Msg)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created API key %s (%s, %s)\n%s\n", gid.New(gid.TypeAPIKey, key.ID), key.Name, key.Role, secret)
			return nil
		}),
	}
	create.Flags().StringVar(&name, "name", "", "what the key is for (required)")
	create.Flags().StringVar(&role, "role", "", "ADMIN, STAFF or PARTNER (required)")
	create.Flags().StringVar(&customers, "customers", "", "PARTNER keys: comma-separated Customer IDs (each must exist in Dolibarr)")
	create.Flags().StringVar(&expires, "expires", "", "optional lifetime, e.g. 2160h")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("role")
	list := &cobra.Command{
		Use: "list", Short: "List keys, newest first, with their state (never their secrets)", Args: cobra.NoArgs,
		RunE: withKeys(false, func(ctx context.Context, keys *auth.Keys) error {
			rows, err := keys.List(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tCUSTOMERS\tCREATED\tLAST USED\tSTATE")
			for _, k := range rows {
				used := "never"
				if k.LastUsedAt != nil {
					used = k.LastUsedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", gid.New(gid.TypeAPIKey, k.ID), k.Name, k.Role,
					len(k.CustomerIds), k.CreatedAt.Format(time.RFC3339), used, strings.ToLower(string(keys.State(k))))
			}
			return tw.Flush()
		}),
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a key (by the ID that list shows)", Args: cobra.ExactArgs(1),
	}
	revoke.RunE = func(cmd *cobra.Command, args []string) error {
		return withKeys(false, func(ctx context.Context, keys *auth.Keys) error {
			n, err := gid.ParseAs(gid.TypeAPIKey, args[0])
			if err != nil {
				return fmt.Errorf("%q is not an API key ID: %w", args[0], err)
			}
			k, err := keys.Revoke(ctx, n)
			if ent.IsNotFound(err) {
				return fmt.Errorf("no API key %s", args[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked %s (%s)\n", args[0], k.Name)
			return nil
		})(cmd, nil)
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// persistedCmd manages the trusted documents of allowlist mode.
func persistedCmd(load loader, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "persisted", Short: "Manage the persisted query list (PERSISTED_QUERIES=allowlist)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Import a manifest (Apollo's persisted-query manifest or Relay's persisted_queries.json); all or nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			docs, err := apq.ParseManifest(data)
			if err != nil {
				return err
			}
			if err := apq.Validate(generated.NewExecutableSchema(generated.Config{}).Schema(), docs); err != nil {
				return err
			}
			cfg, _, err := load()
			if err != nil {
				return err
			}
			client, err := openMain(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer func() { _ = client.Close() }()
			if err := apq.Import(privacy.DecisionContext(cmd.Context(), privacy.Allow), client, docs); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "imported %d operation(s) from %s\n", len(docs), args[0])
			return nil
		},
	})
	return cmd
}

// openMain opens the main database for a command, refusing one with
// pending migrations.
func openMain(ctx context.Context, cfg *config.Config) (*ent.Client, error) {
	sqlDB, err := db.Open(ctx, db.MainTarget(cfg.DB), db.Pool{MaxOpen: 2})
	if err != nil {
		return nil, err
	}
	m, err := migrate.New(sqlDB, cfg.DB.Connection)
	if err == nil {
		err = m.CheckCurrent(ctx)
	}
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return ent.NewClient(ent.Driver(db.Driver(sqlDB, cfg.DB.Connection))), nil
}

// dolibarrCmd holds what deploy/ needs of Dolibarr: a demo database.
func dolibarrCmd(load loader, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "dolibarr", Short: "The Dolibarr database (read-only for the API)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "seed-demo",
		Short: "Create and fill the demo Dolibarr tables in DOLIBARR_DB_* unless they exist (deploy/compose.yaml's demo database; never a real Dolibarr)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := load()
			if err != nil {
				return err
			}
			d := cfg.Dolibarr
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			sqlDB, err := db.Open(ctx, db.Target{
				Driver: d.Connection, Host: d.Host, Port: d.Port, Database: d.Database,
				Username: d.Username, Password: d.Password, Timeout: d.Timeout,
			}, db.Pool{MaxOpen: 1})
			if err != nil {
				return fmt.Errorf("dolibarr: %w", err)
			}
			defer func() { _ = sqlDB.Close() }()
			seeded, err := dolibarr.SeedDemoIfEmpty(ctx, sqlDB, d.Connection, d.Prefix)
			if err != nil {
				return fmt.Errorf("dolibarr seed-demo: %w", err)
			}
			if seeded {
				fmt.Fprintf(stdout, "seeded the demo Dolibarr tables (%ssociete, ...) in %s\n", d.Prefix, d.Database)
			} else {
				fmt.Fprintf(stdout, "%s already holds %ssociete: nothing done\n", d.Database, d.Prefix)
			}
			return nil
		},
	})
	return cmd
}

func filesCmd(load loader, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "files", Short: "Maintain the stored files"}
	var grace time.Duration
	sweep := &cobra.Command{
		Use:   "sweep",
		Short: "Delete the stored objects that no file row references and that are older than --grace",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, logger, err := load()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("grace") {
				grace = cfg.Files.SweepGrace
			}
			if err := config.CheckSweepGrace(grace, cfg.Files.UploadTimeout); err != nil {
				return fmt.Errorf("--grace %w", err)
			}
			client, err := openMain(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer func() { _ = client.Close() }()
			store, err := app.OpenStorage(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			opts, err := app.FilesOptions(cfg, logger)
			if err != nil {
				return err
			}
			svc, err := files.New(client, store, opts)
			if err != nil {
				return err
			}
			res, err := svc.Sweep(cmd.Context(), grace)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "checked %d object(s) older than %s on %s: deleted %d without a row, and %d abandoned temporary file(s); %d left (see the log)\n",
				res.Checked, grace, store.Name(), res.Deleted, res.TempFiles, res.Failed)
			return nil
		},
	}
	sweep.Flags().DurationVar(&grace, "grace", 0, "spare objects younger than this (default FILE_SWEEP_GRACE)")
	cmd.AddCommand(sweep)
	return cmd
}
