package httpedge

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/observability"
)

// AccessLog gives every request an ID (X-Request-ID, kept from the load
// balancer when it sends a sane one), in its context and its response, and
// logs one INFO line when it ends: method, path, the GraphQL operation,
// status, bytes and duration. A request whose client went away before its
// answer is logged with status 499 (apperr.StatusClientClosedRequest), as
// nginx logs it, and that one line is all it leaves in the log (the error
// presenter logs nothing for it). logger is asked for the logger per
// request.
func AccessLog(logger func() *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !ValidRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		rec := &statusRecorder{ResponseWriter: w}
		op := &observability.Operation{}
		ctx := observability.WithOperation(apperr.WithRequestID(r.Context(), id), op)
		next.ServeHTTP(rec, r.WithContext(ctx))
		status := rec.status
		if apperr.ClientGone(r.Context()) {
			// Whatever was written, nobody read it.
			status = apperr.StatusClientClosedRequest
		}
		opName, opType := op.Get()
		logger().LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("operation", opName),
			slog.String("operation_type", opType),
			slog.Int("status", status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// statusRecorder remembers the status and the size of a response.
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

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines, websocket hijacking).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ValidRequestID reports whether a request ID sent by a client is kept: 1 to
// 64 letters, digits, '-' or '_' (nothing that could forge a log line).
func ValidRequestID(id string) bool {
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
