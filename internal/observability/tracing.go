package observability

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing configures OpenTelemetry tracing.
type Tracing struct {
	// Exporter is "off" or "otlp" (OTLP over HTTP; the endpoint, headers and
	// timeout come from the standard OTEL_EXPORTER_OTLP_* variables).
	Exporter    string
	SampleRatio float64
	Version     string
}

// NewTracerProvider returns the provider of t (a no-op one when off) and the
// function that flushes and stops it. The provider is passed to each
// instrumentation rather than installed globally: several instances in one
// process (the tests) keep their own.
func NewTracerProvider(ctx context.Context, t Tracing) (trace.TracerProvider, func(context.Context) error, error) {
	if t.Exporter != "otlp" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName("shipmentapp"), semconv.ServiceVersion(t.Version))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(t.SampleRatio))),
	)
	return tp, tp.Shutdown, nil
}

// TracingExtension is the gqlgen extension that opens a span per operation
// (named "query ShipmentsPage") and one per resolver that does work of its
// own (not the fields read off a struct).
type TracingExtension struct{ Tracer trace.Tracer }

var (
	_ graphql.HandlerExtension    = TracingExtension{}
	_ graphql.ResponseInterceptor = TracingExtension{}
	_ graphql.FieldInterceptor    = TracingExtension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (TracingExtension) ExtensionName() string { return "Tracing" }

// Validate implements graphql.HandlerExtension.
func (TracingExtension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse spans each response: the whole of a query or mutation,
// each event of a subscription.
func (e TracingExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	name, typ := "operation", "unknown"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		name = typ
		if oc.Operation.Name != "" {
			name = typ + " " + oc.Operation.Name
		}
	}
	ctx, span := e.Tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("graphql.operation.type", typ), attribute.String("graphql.operation.name", oc.OperationName)))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, resp.Errors[0].Message)
		span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
	}
	return resp
}

// InterceptField spans the resolvers.
func (e TracingExtension) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := e.Tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(attribute.String("graphql.field.path", fc.Path().String())))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return res, err
}
