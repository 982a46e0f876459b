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
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/shipmentapp/shipmentapp/graph"
	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/graph/loader"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// GraphQL builds the gqlgen server explicitly: the transports we serve, a
// parsed-query cache, introspection only where configured, and the error
// presenter and recover func that keep internals out of responses.
func (a *App) GraphQL() *handler.Server {
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{
		Client: a.Client, Dolibarr: a.Dolibarr, Shipping: a.Shipping,
	}})
	srv := handler.New(es)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	if n := a.Config.GraphQL.QueryCache; n > 0 {
		srv.SetQueryCache(lru.New[*ast.QueryDocument](n))
	}
	if a.Config.GraphQL.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundOperations(a.aroundMutations)
	srv.SetErrorPresenter(apperr.Presenter(a.Logger, a.Config.Debug))
	srv.SetRecoverFunc(apperr.Recover(a.Logger))
	return srv
}

func (a *App) routes() http.Handler {
	gql := a.GraphQL()
	mux := http.NewServeMux()
	api := a.readYourWrites(loader.Middleware(a.Client, a.Dolibarr, a.limits(gql)))
	mux.Handle("/graphql", api)
	if a.Config.GraphQL.Playground {
		mux.Handle("GET /playground", playground.Handler("shipmentapp", "/graphql"))
	}
	if a.Config.GraphQL.Introspection {
		sdl := schemaSDL()
		mux.HandleFunc("GET /schema.graphql", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(sdl)
		})
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		target := "/graphql"
		if a.Config.GraphQL.Playground {
			target = "/playground"
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	return a.accessLog(mux)
}

// limits bounds every GraphQL request's body size and duration. A body over
// HTTP_MAX_BODY_BYTES is refused with 413 before gqlgen reads it.
func (a *App) limits(next http.Handler) http.Handler {
	maxBody := a.Config.HTTP.MaxBodyBytes
	timeout := a.Config.HTTP.RequestTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
				writeError(w, http.StatusBadRequest, apperr.BadUserInput, "could not read the request body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, apperr.RequestTooLarge, fmt.Sprintf("the request body exceeds %d bytes", limit))
}

// writeError answers a request that never reached GraphQL execution with a
// GraphQL-shaped error.
func writeError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
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
		next.ServeHTTP(rec, r)
		a.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
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
