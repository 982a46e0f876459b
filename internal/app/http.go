package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
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
	"github.com/vektah/gqlparser/v2/formatter"
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
	"github.com/shipmentapp/shipmentapp/internal/observability"
	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/ratelimit"
	"github.com/shipmentapp/shipmentapp/internal/subtransport"
	"github.com/shipmentapp/shipmentapp/internal/upload"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// GraphQL builds the gqlgen server explicitly: the transports we serve, a
// parsed-query cache, introspection only where configured, and the error
// presenter and recover func that keep internals out of responses.
func (a *App) GraphQL() *handler.Server {
	cfg := generated.Config{Resolvers: &graph.Resolver{
		Client: a.Client, Dolibarr: a.Dolibarr, Shipping: a.Shipping, Keys: a.Keys, Files: a.Files, Live: a.Live,
	}}
	connectionCosts(&cfg.Complexity)
	var es graphql.ExecutableSchema = generated.NewExecutableSchema(cfg)
	if a.Config.GraphQL.Planned {
		// The core documents run on their plan, the rest on gqlgen's
		// executor (graph/plan; docs/DECISIONS.md, "Planned execution").
		es = plan.New(es, cfg.Resolvers, max(a.Config.GraphQL.QueryCache, 100), func(o plan.Outcome) { a.metrics.Planned(string(o)) })
	}
	srv := handler.New(es)
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
	if n := a.Config.GraphQL.QueryCache; n > 0 {
		srv.SetQueryCache(boundedCache{lru.New[*ast.QueryDocument](n)})
	}
	if a.Config.GraphQL.Introspection {
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
		ResponseWriter: func(ctx context.Context) http.ResponseWriter {
			w, _ := ctx.Value(responseWriterKey{}).(http.ResponseWriter)
			return w
		},
	})
	// After the persisted-query extension, which fills the query in.
	srv.Use(gqllimit.NewDocument(gqllimit.DefaultMaxDocumentFields, gq.MaxTokens, max(gq.QueryCache, 1)))
	srv.AroundOperations(a.aroundMutations)
	srv.AroundResponses(a.liveStatus)
	srv.Use(observability.Extension{M: a.metrics})
	if a.Config.Tracing.Exporter != "off" {
		srv.Use(observability.TracingExtension{Tracer: a.tracer.Tracer("shipmentapp/graphql")})
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
	return srv
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

func (a *App) routes() http.Handler {
	a.Subscriptions = a.subscriptions()
	gql := a.GraphQL()
	mux := http.NewServeMux()
	api := a.cors(a.rateLimit(csrfPrevention(a.authenticate(a.readYourWrites(a.observeBatches(loader.Middleware(a.Client, a.Dolibarr, a.limits(gql), loader.WithDriver(a.Router))))))))
	// Websockets authenticate in connection_init and live longer than any
	// request timeout; event streams authenticate like requests but are not
	// bounded in time either. Both get fresh dataloaders per response.
	ws := a.rateLimit(gql)
	sse := a.cors(a.rateLimit(csrfPrevention(a.authenticate(gql))))
	mux.Handle("/graphql", a.metrics.Route("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case a.Subscriptions.WebSocket().Supports(r):
			ws.ServeHTTP(w, r)
		case subtransport.IsSSE(r):
			sse.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})))
	if a.Config.GraphQL.Playground {
		// GraphiQL and the files it loads come from the binary, not a CDN.
		pg := playground.New("shipmentapp", "/graphql")
		mux.Handle("GET /playground", pg)
		mux.Handle("GET "+playground.AssetsPath, pg)
	}
	if a.Config.GraphQL.Introspection {
		sdl := schemaSDL()
		mux.HandleFunc("GET /schema.graphql", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(sdl)
		})
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
	return a.accessLog(observability.Recover(a.reporter, a.Logger, h))
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

// limits bounds every GraphQL request's body size and duration. A body over
// HTTP_MAX_BODY_BYTES is refused with 413 before gqlgen reads it. Uploads
// (multipart/form-data) are streamed, not read here: the upload transport
// enforces FILE_MAX_REQUEST_BYTES as it reads, and they get
// FILE_UPLOAD_TIMEOUT instead of HTTP_REQUEST_TIMEOUT (the transport moves
// the connection's deadlines once the request shows it carries files).
func (a *App) limits(next http.Handler) http.Handler {
	maxBody := a.Config.HTTP.MaxBodyBytes
	timeout := a.Config.HTTP.RequestTimeout
	uploadTimeout := a.Config.Files.UploadTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if upload.IsMultipart(r) {
			ctx, cancel := context.WithTimeout(r.Context(), uploadTimeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if r.ContentLength > maxBody {
			tooLarge(w, maxBody)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				tooLarge(w, maxBody)
				return
			}
			if err != nil {
				apperr.WriteHTTP(w, http.StatusBadRequest, apperr.BadUserInput, "could not read the request body")
				return
			}
			body = documentIDs(body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		if r.Method == http.MethodGet {
			documentIDsInQuery(r)
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	apperr.WriteHTTP(w, http.StatusRequestEntityTooLarge, apperr.RequestTooLarge, fmt.Sprintf("the request body exceeds %d bytes", limit))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog gives every request an ID (X-Request-ID, kept from the load
// balancer when it sends a sane one) and logs one line when it ends.
func (a *App) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		rec := &statusRecorder{ResponseWriter: w}
		op := &observability.Operation{}
		ctx := observability.WithOperation(apperr.WithRequestID(r.Context(), id), op)
		next.ServeHTTP(rec, r.WithContext(ctx))
		opName, opType := op.Get()
		a.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("operation", opName),
			slog.String("operation_type", opType),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// schemaSDL renders the executable schema as SDL.
func schemaSDL() []byte {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithComments()).FormatSchema(generated.NewExecutableSchema(generated.Config{}).Schema())
	return buf.Bytes()
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

// preflightHeaders mark a request a browser could not send cross-site
// without a CORS preflight.
var preflightHeaders = []string{"Apollo-Require-Preflight", "X-Apollo-Operation-Name", "GraphQL-Require-Preflight"}

// csrfPrevention refuses the requests a browser sends cross-site without a
// preflight — a GET, or a POST whose content type is text/plain,
// application/x-www-form-urlencoded or multipart/form-data — unless they carry
// one of preflightHeaders (Apollo Server's rule). JSON POSTs need a preflight
// and pass.
func csrfPrevention(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions && !preflighted(r) {
			apperr.WriteHTTP(w, http.StatusBadRequest, apperr.CSRFPrevented,
				"this request has been blocked as a potential cross-site request forgery: send it as application/json, "+
					"or with a non-empty Apollo-Require-Preflight (or GraphQL-Require-Preflight) header")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func preflighted(r *http.Request) bool {
	for _, h := range preflightHeaders {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return false
	}
	return true
}

// documentIDs turns a request that names its document with "id" or
// "documentId" (trusted documents) into the persisted-query extension that
// the persisted query extension resolves. Anything else passes unchanged,
// and so does a body that is not one JSON object or whose extensions are not
// an object: the transport refuses those with BAD_REQUEST.
func documentIDs(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"id"`)) && !bytes.Contains(body, []byte(`"documentId"`)) {
		return body
	}
	var req map[string]any
	if !decodeJSON(body, &req) || req == nil {
		return body
	}
	id := documentID(req["documentId"], req["id"])
	if id == "" {
		return body
	}
	ext, ok := withDocumentID(req["extensions"], id)
	if !ok {
		return body
	}
	req["extensions"] = ext
	delete(req, "id")
	delete(req, "documentId")
	out, err := json.Marshal(req)
	if err != nil {
		return body
	}
	return out
}

// documentIDsInQuery is documentIDs for the parameters of a GET. A query
// string that does not parse, or extensions that are not a JSON object, are
// left for the transport to refuse.
func documentIDsInQuery(r *http.Request) {
	if !hasDocumentIDParam(r.URL.RawQuery) {
		return // the common case: the transport parses the query string once
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return
	}
	id := documentID(q.Get("documentId"), q.Get("id"))
	if id == "" {
		return
	}
	var ext any
	if e := q.Get("extensions"); e != "" && !decodeJSON([]byte(e), &ext) {
		return
	}
	m, ok := withDocumentID(ext, id)
	if !ok {
		return
	}
	b, _ := json.Marshal(m)
	q.Set("extensions", string(b))
	q.Del("id")
	q.Del("documentId")
	r.URL.RawQuery = q.Encode()
}

// hasDocumentIDParam reports whether a query string may hold an id or
// documentId parameter: false only when none of its keys is one, read as
// url.ParseQuery reads them, without parsing (or allocating for) the values.
// A key it cannot unescape counts as one, leaving it to url.ParseQuery.
func hasDocumentIDParam(rawQuery string) bool {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		key, _, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(key, "%+") {
			k, err := url.QueryUnescape(key)
			if err != nil {
				return true
			}
			key = k
		}
		if key == "id" || key == "documentId" {
			return true
		}
	}
	return false
}

// decodeJSON decodes data, one JSON value and nothing after it, keeping
// numbers as they were written (a float64 would round large integers).
func decodeJSON(data []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(v) != nil {
		return false
	}
	_, err := dec.Token()
	return err == io.EOF
}

// withDocumentID returns the extensions ext (an object, or null) with the
// persisted-query extension naming document id; false when ext is neither.
func withDocumentID(ext any, id string) (map[string]any, bool) {
	m, ok := ext.(map[string]any)
	switch {
	case ext == nil:
		m = map[string]any{}
	case !ok:
		return nil, false
	}
	m["persistedQuery"] = map[string]any{"version": 1, "sha256Hash": id, apq.MarkDocumentID: true}
	return m, true
}

func documentID(candidates ...any) string {
	for _, c := range candidates {
		if s, ok := c.(string); ok && s != "" && len(s) <= 128 {
			return s
		}
	}
	return ""
}
