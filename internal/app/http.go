package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/graph"
	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/graph/loader"
	"github.com/shipmentapp/shipmentapp/graph/plan"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/apq"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/gqlhttp"
	"github.com/shipmentapp/shipmentapp/internal/gqllimit"
	"github.com/shipmentapp/shipmentapp/internal/httpedge"
	"github.com/shipmentapp/shipmentapp/internal/observability"
	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/ratelimit"
	"github.com/shipmentapp/shipmentapp/internal/schemadoc"
	"github.com/shipmentapp/shipmentapp/internal/subtransport"
	"github.com/shipmentapp/shipmentapp/internal/upload"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// GraphQL builds the gqlgen server explicitly: the transports we serve, a
// parsed-query cache, introspection only where configured, and the error
// presenter and recover func that keep internals out of responses.
func (a *App) GraphQL() *handler.Server {
	srv := handler.New(a.executableSchema())
	// The GraphQL over HTTP draft's wire format (internal/gqlhttp) for GET,
	// POST and uploads; Unsupported answers whatever else comes (405, 415).
	wire := gqlhttp.Protocol{Legacy: a.Config.GraphQL.HTTPLegacy}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(a.Subscriptions.WebSocket())
	srv.AddTransport(a.Subscriptions.SSE(func(ctx context.Context) subtransport.Session {
		return sessionOf(viewer.FromContext(ctx))
	}, credential))
	srv.AddTransport(gqlhttp.GET{Protocol: wire})
	srv.AddTransport(gqlhttp.POST{Protocol: wire})
	srv.AddTransport(upload.Transport{
		Protocol:           wire,
		MaxRequestBytes:    a.Config.Files.MaxRequestBytes,
		MaxFileBytes:       a.Config.Files.MaxBytes,
		MaxOperationsBytes: a.Config.HTTP.MaxBodyBytes,
		MaxFiles:           a.Config.Files.MaxFiles,
		OperationsTimeout:  a.Config.HTTP.RequestTimeout,
		UploadTimeout:      a.Config.Files.UploadTimeout,
		Slots:              a.uploadSlots,
		TempDir:            a.spoolDir,
	})
	srv.AddTransport(gqlhttp.Unsupported{Protocol: wire})
	a.setupExecutor(srv, true)
	return srv
}

// executableSchema is the schema with its resolvers, built once: the HTTP
// server and the webhook renderer run the same one.
func (a *App) executableSchema() graphql.ExecutableSchema {
	a.esOnce.Do(func() {
		cfg := generated.Config{Resolvers: &graph.Resolver{
			Client: a.Client, Dolibarr: a.Dolibarr, Shipping: a.Shipping, Keys: a.Keys, Files: a.Files, Live: a.Live,
			Webhooks: a.Webhooks,
		}}
		connectionCosts(&cfg.Complexity)
		a.es = generated.NewExecutableSchema(cfg)
		if a.Config.GraphQL.Planned {
			// The core documents run on their plan, the rest on gqlgen's
			// executor (graph/plan; docs/DECISIONS.md, "Planned execution").
			a.es = plan.New(a.es, cfg.Resolvers, max(a.Config.GraphQL.QueryCache, 100), func(o plan.Outcome) { a.metrics.Planned(string(o)) })
		}
	})
	return a.es
}

// executorSetup is what handler.Server and executor.Executor share: the
// HTTP server and the webhook renderer are set up by one function.
type executorSetup interface {
	Use(graphql.HandlerExtension)
	AroundOperations(graphql.OperationMiddleware)
	AroundResponses(graphql.ResponseMiddleware)
	SetErrorPresenter(graphql.ErrorPresenterFunc)
	SetRecoverFunc(graphql.RecoverFunc)
	SetQueryCache(graphql.Cache[*ast.QueryDocument])
	SetParserTokenLimit(int)
	SetDisableSuggestion(bool)
}

// setupExecutor applies the API's rules to an executor: the parsed-query
// cache, introspection, the document limits, persisted and trusted
// documents, and the error presenter and recover func. forHTTP adds what
// only requests have: read-your-writes, the live status, metrics, tracing.
func (a *App) setupExecutor(srv executorSetup, forHTTP bool) {
	if n := a.Config.GraphQL.QueryCache; n > 0 {
		srv.SetQueryCache(boundedCache{lru.New[*ast.QueryDocument](n)})
	}
	if a.Config.GraphQL.Introspection && forHTTP {
		srv.Use(extension.Introspection{})
	} else {
		// "Did you mean ...?" would reveal the schema that introspection hides.
		srv.SetDisableSuggestion(true)
	}
	gq := a.Config.GraphQL
	if gq.MaxTokens > 0 {
		srv.SetParserTokenLimit(gq.MaxTokens)
	}
	srv.Use(gqllimit.Limits{
		MaxDepth: gq.MaxDepth, MaxAliases: gq.MaxAliases, MaxRootFields: gq.MaxRootFields,
		MaxFields: gq.MaxComplexity, Inputs: gqllimit.DefaultInputLimits,
	})
	if gq.MaxComplexity > 0 {
		srv.Use(extension.FixedComplexityLimit(gq.MaxComplexity))
	}
	srv.Use(apq.Extension{
		Mode:      a.Config.APQ.Mode,
		Cache:     a.APQ,
		Allowlist: apq.NewDBAllowlist(a.Client),
		Bypass: func(ctx context.Context) bool {
			return a.Config.APQ.AdminBypass && viewer.FromContext(ctx).Can(viewer.RoleAdmin)
		},
		SetHeader: httpedge.SetHeader,
	})
	// After the persisted-query extension, which fills the query in.
	srv.Use(gqllimit.NewDocument(gqllimit.DefaultMaxDocumentFields, gq.MaxTokens, max(gq.QueryCache, 1)))
	// @defer is served incrementally only to a query whose transport
	// streams it (multipart/mixed over GET and POST); everywhere else the
	// deferred fragments are resolved in place, never dropped.
	srv.Use(gqlhttp.NewInlineDefer(max(gq.QueryCache, 100), maxCachedQuery))
	if forHTTP {
		srv.AroundOperations(a.aroundMutations)
		srv.AroundResponses(a.liveStatus)
		srv.Use(observability.Extension{M: a.metrics})
		if a.Config.Tracing.Exporter != "off" {
			srv.Use(observability.TracingExtension{Tracer: a.tracer.Tracer("shipmentapp/graphql")})
		}
	}
	present := apperr.Presenter(a.Logger, a.Config.Debug)
	srv.SetErrorPresenter(a.metrics.Presenter(func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, err)
		if e.Extensions["code"] == string(apperr.Internal) {
			a.reporter.Error(ctx, err)
		}
		return e
	}))
	recoverFn := apperr.Recover(a.Logger)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		a.reporter.Panic(ctx, p)
		return recoverFn(ctx, p)
	})
}

// maxCachedQuery is the longest document the parsed-query cache keeps. A
// parsed document holds its whole text (every position points into it), and
// comments and long strings cost no tokens: cached, a thousand documents of a
// megabyte each would hold a gigabyte. Longer ones are parsed each time.
const maxCachedQuery = 64 << 10

// boundedCache is the parsed-query cache, for documents up to maxCachedQuery.
type boundedCache struct {
	graphql.Cache[*ast.QueryDocument]
}

// Add implements graphql.Cache.
func (c boundedCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) <= maxCachedQuery {
		c.Cache.Add(ctx, query, doc)
	}
}

// edge is the middleware of /graphql, declared once, outermost first: each
// mount applies the layers that name it (internal/httpedge). Websockets
// authenticate in connection_init and live longer than any request
// timeout; event streams authenticate like requests but are not bounded in
// time either. Both get fresh dataloaders per response (subtransport's
// PerResponse), not per request.
func (a *App) edge() httpedge.Stack {
	return httpedge.Stack{
		{Name: "compress", On: httpedge.API, Wrap: a.compressed},
		{Name: "cors", On: httpedge.API | httpedge.SSE, Wrap: a.cors},
		{Name: "rate limit", On: httpedge.All, Wrap: a.rateLimit},
		{Name: "csrf", On: httpedge.API | httpedge.SSE, Wrap: httpedge.CSRF},
		{Name: "authenticate", On: httpedge.API | httpedge.SSE, Wrap: a.authenticate},
		{Name: "read your writes", On: httpedge.API, Wrap: a.readYourWrites},
		{Name: "response head", On: httpedge.API, Wrap: httpedge.Head},
		{Name: "batch metrics", On: httpedge.API, Wrap: a.observeBatches},
		{Name: "dataloaders", On: httpedge.API, Wrap: func(next http.Handler) http.Handler {
			return loader.Middleware(a.Client, a.Dolibarr, next, loader.WithDriver(a.Router))
		}},
		{Name: "limits", On: httpedge.API, Wrap: httpedge.Limits{
			MaxBody: a.Config.HTTP.MaxBodyBytes, Timeout: a.Config.HTTP.RequestTimeout, UploadTimeout: a.Config.Files.UploadTimeout,
		}.Wrap},
	}
}

// compressed is next behind the response compression (HTTP_COMPRESSION;
// internal/httpedge's Compression), or next itself when it is off. File
// downloads do without: their bytes are served as stored, with their ranges.
func (a *App) compressed(next http.Handler) http.Handler {
	if a.compress == nil {
		return next
	}
	return a.compress(next)
}

// mount is the kind of GraphQL traffic r is.
func (a *App) mount(r *http.Request) httpedge.Mount {
	switch {
	case a.Subscriptions.WebSocket().Supports(r):
		return httpedge.WebSocket
	case subtransport.IsSSE(r):
		return httpedge.SSE
	}
	return httpedge.API
}

func (a *App) routes() http.Handler {
	a.Subscriptions = a.subscriptions()
	gql := a.GraphQL()
	mux := http.NewServeMux()
	mux.Handle("/graphql", a.metrics.Route("/graphql", a.edge().Handler(a.mount, gql)))
	if a.playgroundPage != nil {
		pg := a.compressed(a.playgroundPage)
		// GraphiQL and the files it loads come from the binary, not a CDN.
		mux.Handle("GET /playground", pg)
		mux.Handle("GET "+playground.AssetsPath, pg)
	}
	sdl := schemaSDL()
	serveSDL := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(sdl)
	})
	if a.Config.GraphQL.Introspection {
		mux.Handle("GET /schema.graphql", a.compressed(serveSDL))
	} else {
		// Introspection off (staging, production): the SDL, descriptions
		// and all, for ADMIN credentials only, rate limited like /graphql.
		mux.Handle("GET /schema.graphql", a.metrics.Route("/schema.graphql",
			a.rateLimit(a.authenticate(adminOnly(noStore(a.compressed(serveSDL)))))))
	}
	mux.Handle(files.DownloadPath, a.metrics.Route("/files", a.rateLimit(a.Files.Handler())))
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	// Liveness: the process answers; no dependency is asked.
	live := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	}
	mux.HandleFunc("GET /livez", live)
	mux.HandleFunc("GET /healthz", live)
	mux.Handle("GET /readyz", a.Health.Ready())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		target := "/graphql"
		if a.Config.GraphQL.Playground {
			target = "/playground"
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	var h http.Handler = mux
	if a.Config.Tracing.Exporter != "off" {
		// A span per request, continuing the caller's trace (W3C traceparent).
		h = otelhttp.NewHandler(mux, "http", otelhttp.WithTracerProvider(a.tracer),
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				path := r.URL.Path
				if strings.HasPrefix(path, "/files/") {
					path = "/files/{id}/{name}" // one name, not one per file
				}
				return r.Method + " " + path
			}))
	}
	return httpedge.AccessLog(func() *slog.Logger { return a.Logger }, observability.Recover(a.reporter, a.Logger, h))
}

// adminOnly lets through the requests of an ADMIN viewer (set by
// authenticate) and answers the others 403 FORBIDDEN.
func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !viewer.FromContext(r.Context()).Can(viewer.RoleAdmin) {
			apperr.WriteHTTP(w, http.StatusForbidden, apperr.Forbidden,
				"introspection is off: the schema is served to ADMIN credentials only")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noStore keeps an answer meant for one caller out of shared caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// observeBatches reports the request's dataloader batches to the metrics.
func (a *App) observeBatches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(loader.WithObserver(r.Context(), a.metrics.ObserveBatch)))
	})
}

// subscriptions builds the websocket and SSE transports' server.
func (a *App) subscriptions() *subtransport.Server {
	sc := a.Config.Subs
	origins, _ := a.Config.Limits.Origins() // validated
	more, _ := sc.AllowedOrigins()
	origins = append(origins, more...)
	if u, err := url.Parse(a.Config.URL); err == nil && u.Host != "" {
		origins = append(origins, u.Scheme+"://"+u.Host)
	}
	return subtransport.New(subtransport.Options{
		Authenticate: a.subscriptionAuth,
		Unauthorized: func(err error) bool { return errors.Is(err, auth.ErrInvalidCredentials) },
		Watch:        a.Live.Watch,
		PerResponse: func(ctx context.Context) context.Context {
			return loader.With(loader.WithObserver(ctx, a.metrics.ObserveBatch), loader.New(a.Client, a.Dolibarr, loader.WithDriver(a.Router)))
		},
		Drain: a.Live.Stop,
		Allow: func(ctx context.Context, token string) (bool, time.Duration) {
			// The bucket of HTTP requests sending this key as a bearer token.
			return a.Limiter.Allow(ctx, "key", credKey("Bearer "+token), ratelimit.Limit{PerMinute: a.Config.Limits.KeyPerMinute})
		},
		OperationTimeout: a.Config.HTTP.RequestTimeout,
		InitTimeout:      sc.InitTimeout,
		KeepAlive:        sc.KeepAlive,
		WriteTimeout:     sc.WriteTimeout,
		AuthRecheck:      sc.AuthRecheck,
		MaxPerConnection: sc.MaxPerConnection,
		MaxPerCredential: sc.MaxConnectionsPerKey,
		ReadLimit:        a.Config.HTTP.MaxBodyBytes,
		Origins:          origins,
		RequestOrigin:    a.requestOrigin(),
		Logger:           a.Logger,
		Registry:         a.Registry,
	})
}

// schemaSDL renders the public schema as SDL (api/schema.graphql's text).
func schemaSDL() []byte {
	return schemadoc.SDL(generated.NewExecutableSchema(generated.Config{}).Schema())
}

// connectionCosts makes a connection's children cost once per item of the
// page it asks for, so gqlgen's complexity limit grows with first and last.
func connectionCosts(c *generated.ComplexityRoot) {
	c.Query.Shipments = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ []*ent.ShipmentOrder, _ *ent.ShipmentWhereInput) int {
		return gqllimit.Connection(child, first, last)
	}
	c.Query.Customers = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ []*ent.CustomerOrder, _ *ent.CustomerWhereInput, _ *string) int {
		return gqllimit.Connection(child, first, last)
	}
	c.Query.Nodes = func(child int, ids []*gid.ID) int { return gqllimit.List(child, len(ids)) }
	c.Customer.Shipments = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ []*ent.ShipmentOrder, _ *ent.ShipmentWhereInput) int {
		return gqllimit.Connection(child, first, last)
	}
	c.Shipment.Events = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ []*ent.TrackingEventOrder) int {
		return gqllimit.Connection(child, first, last)
	}
}
