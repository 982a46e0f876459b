// Package observability measures the HTTP and GraphQL traffic: Prometheus
// metrics per route and per operation, and the operation's name and type for
// the request's log line.
package observability

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// maxOperationNames bounds the operation-name label: names are chosen by
// clients, and a label per name must not grow without end.
const maxOperationNames = 200

// Metrics are the traffic metrics.
type Metrics struct {
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	operations   *prometheus.CounterVec
	opDuration   *prometheus.HistogramVec
	errors       *prometheus.CounterVec
	batches      *prometheus.HistogramVec
	planned      *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]struct{}
}

// New registers the metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_http_requests_total", Help: "HTTP requests, by route, method and status (499: the client went away before the answer).",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shipmentapp_http_request_duration_seconds", Help: "HTTP request durations, by route (websockets and event streams excluded).", Buckets: buckets,
		}, []string{"route"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_graphql_operations_total", Help: "GraphQL operations, by name (\"other\" past 200 names, \"anonymous\" without one), type and result (ok, error, or cancelled when the client went away).",
		}, []string{"operation", "type", "result"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shipmentapp_graphql_operation_duration_seconds", Help: "GraphQL query and mutation durations, by name and type.", Buckets: buckets,
		}, []string{"operation", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_graphql_errors_total", Help: "GraphQL errors in responses, by extensions.code.",
		}, []string{"code"}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shipmentapp_dataloader_batch_size", Help: "Keys per dataloader batch (one query each), by loader.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
		}, []string{"loader"}),
		planned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_graphql_planned_total", Help: "Query operations by how they ran (graph/plan): planned (by the planned executor), unplanned (a document it does not cover) or fallback (it handed the request to gqlgen's executor).",
		}, []string{"outcome"}),
		names: map[string]struct{}{},
	}
	if reg != nil {
		reg.MustRegister(m.httpRequests, m.httpDuration, m.operations, m.opDuration, m.errors, m.batches, m.planned)
	}
	return m
}

// Planned counts a query operation by how it ran: "planned", "unplanned" or
// "fallback" (graph/plan's outcomes).
func (m *Metrics) Planned(outcome string) { m.planned.WithLabelValues(outcome).Inc() }

// Route wraps the handler of route (the mux pattern, a bounded label).
func (m *Metrics) Route(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		switch {
		case apperr.ClientGone(r.Context()):
			status = apperr.StatusClientClosedRequest
		case status == 0:
			status = http.StatusOK
		}
		m.httpRequests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		if status != http.StatusSwitchingProtocols && rec.Header().Get("Content-Type") != "text/event-stream; charset=utf-8" {
			m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Presenter wraps an error presenter to count every error by its code
// (parse and validation errors included, which no response hook sees).
func (m *Metrics) Presenter(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := next(ctx, err)
		code, _ := e.Extensions["code"].(string)
		switch code {
		case "":
			code = "UNKNOWN"
		case string(apperr.Cancelled):
			// Every unresolved field of a cancelled request fails: counted
			// once, as the operation's result "cancelled", not per field.
			return e
		}
		m.errors.WithLabelValues(code).Inc()
		return e
	}
}

// ObserveBatch records one dataloader batch of keys keys.
func (m *Metrics) ObserveBatch(loader string, keys int) {
	m.batches.WithLabelValues(loader).Observe(float64(keys))
}

// label is the operation-name label of name.
func (m *Metrics) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 64 {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.names[name]; ok {
		return name
	}
	if len(m.names) >= maxOperationNames {
		return "other"
	}
	m.names[name] = struct{}{}
	return name
}

// Operation is what the log line of a request says of its GraphQL operation.
type Operation struct {
	mu   sync.Mutex
	Name string
	Type string
}

type operationKey struct{}

// WithOperation returns a context in which the GraphQL extension records the
// operation into op (the access log reads it once the request is over).
func WithOperation(ctx context.Context, op *Operation) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// Get returns the recorded name and type.
func (o *Operation) Get() (name, typ string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.Name, o.Type
}

// Extension is the gqlgen extension that measures operations.
type Extension struct{ M *Metrics }

var (
	_ graphql.HandlerExtension     = Extension{}
	_ graphql.OperationInterceptor = Extension{}
	_ graphql.ResponseInterceptor  = Extension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "Observability" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation records the operation for the log line.
func (e Extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if op, ok := ctx.Value(operationKey{}).(*Operation); ok && oc != nil && oc.Operation != nil {
		op.mu.Lock()
		op.Name, op.Type = oc.Operation.Name, string(oc.Operation.Operation)
		op.mu.Unlock()
	}
	return next(ctx)
}

// InterceptResponse counts each response (each event of a subscription) and
// times queries and mutations.
func (e Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	name, typ := "anonymous", "unknown"
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation != nil { // the operation run, named by the document
			name, typ = e.M.label(oc.Operation.Name), string(oc.Operation.Operation)
		}
	}
	result := "ok"
	switch {
	case apperr.ClientGone(ctx):
		result = "cancelled"
	case len(resp.Errors) > 0:
		result = "error"
	}
	e.M.operations.WithLabelValues(name, typ, result).Inc()
	if typ != string(ast.Subscription) {
		e.M.opDuration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
	}
	return resp
}
