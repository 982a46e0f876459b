package observability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// Reporter sends internal errors and panics to Sentry; a nil Reporter (no
// SENTRY_DSN) reports nothing.
type Reporter struct {
	hub *sentry.Hub
}

// NewReporter returns a Reporter for dsn, or nil when dsn is empty.
func NewReporter(dsn, environment, release string) (*Reporter, error) {
	if dsn == "" {
		return nil, nil
	}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn: dsn, Environment: environment, Release: release,
		AttachStacktrace: true,
		// No request is attached to the reports (its headers and body carry
		// credentials and customer data): the request id links to the logs.
	})
	if err != nil {
		return nil, fmt.Errorf("sentry: %w", err)
	}
	return &Reporter{hub: sentry.NewHub(client, sentry.NewScope())}, nil
}

func (r *Reporter) capture(ctx context.Context, err error, kind string) {
	if r == nil {
		return
	}
	hub := r.hub.Clone()
	hub.WithScope(func(scope *sentry.Scope) {
		scope.SetTag("kind", kind)
		if id := apperr.RequestID(ctx); id != "" { // the one in the logs and the error
			scope.SetTag("request_id", id)
		}
		hub.CaptureException(err)
	})
}

// Error reports an internal error.
func (r *Reporter) Error(ctx context.Context, err error) { r.capture(ctx, err, "error") }

// Panic reports a recovered panic with its stack.
func (r *Reporter) Panic(ctx context.Context, p any) {
	r.capture(ctx, fmt.Errorf("panic: %v\n%s", p, debug.Stack()), "panic")
}

// Flush waits up to timeout for the reports in flight.
func (r *Reporter) Flush(timeout time.Duration) {
	if r != nil {
		r.hub.Flush(timeout)
	}
}

// Recover turns a panic in next into a logged, reported 500 with a stable
// code, instead of net/http's dropped connection; the process keeps serving.
func Recover(r *Reporter, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p) // net/http's way to abort a response: not a bug
			}
			logger.ErrorContext(req.Context(), "panic in handler", slog.Any("panic", p), slog.String("path", req.URL.Path), slog.String("stack", string(debug.Stack())))
			r.Panic(req.Context(), p)
			apperr.WriteHTTP(w, http.StatusInternalServerError, apperr.Internal, "internal error")
		}()
		next.ServeHTTP(w, req)
	})
}
