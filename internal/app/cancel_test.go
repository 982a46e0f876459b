package app_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// logRecord is one captured log record, its attributes flattened.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

// captureLogs is a slog.Handler keeping every record; requestDone is closed
// when the access log line of the request with id doneID is written.
type captureLogs struct {
	mu          sync.Mutex
	records     []logRecord
	doneID      string
	requestDone chan struct{}
}

func (c *captureLogs) Enabled(context.Context, slog.Level) bool { return true }
func (c *captureLogs) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *captureLogs) WithGroup(string) slog.Handler            { return c }

func (c *captureLogs) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve().Any()
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, rec)
	if rec.msg == "request" && rec.attrs["request_id"] == c.doneID {
		close(c.requestDone)
	}
	return nil
}

func (c *captureLogs) all() []logRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logRecord(nil), c.records...)
}

// TestClientCancelledRequest: a client that goes away in the middle of a
// nested list leaves one INFO line (status 499) in the log, no ERROR, no
// Sentry event, and counts as cancelled in the metrics, on both executors
// (planned and gqlgen's) and on SQLite and the server databases.
func TestClientCancelledRequest(t *testing.T) {
	for _, b := range testutil.All() {
		for _, planned := range []bool{true, false} {
			name := b.Name + "/planned"
			if !planned {
				name = b.Name + "/gqlgen"
			}
			t.Run(name, func(t *testing.T) {
				testutil.Require(t, b)
				testClientCancelled(t, b, planned)
			})
		}
	}
}

func testClientCancelled(t *testing.T, b testutil.Backend, planned bool) {
	const requestID = "client-goes-away"
	dsn, received := testutil.FakeSentry(t)
	logs := &captureLogs{doneID: requestID, requestDone: make(chan struct{})}
	cfg := testutil.Config(t, testutil.NewDatabase(t, b), testutil.NewDolibarr(t, b),
		"SENTRY_DSN="+dsn, "GRAPHQL_PLANNED="+map[bool]string{true: "true", false: "false"}[planned])
	a, err := app.New(context.Background(), cfg, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			a.Close()
		}
	})
	key := newKey(t, a, auth.RoleAdmin)
	e := &env{t: t, app: a, adminKey: key, gql: testutil.NewClient(t, a.Handler).As(key)}
	for range 5 {
		e.create(createInput(activeCustomer, "DHL"))
	}

	// Reading the shipments' files blocks until the client has gone away:
	// the request is cancelled in the middle of the list, deterministically.
	reached := make(chan struct{})
	var once sync.Once
	a.Client.File.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			once.Do(func() { close(reached) })
			<-ctx.Done()
			return next.Query(ctx, q)
		})
	}))

	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"operationName":"GoneAway","query":"query GoneAway { shipments(first: 10) { edges { node { id reference files { id name } } } } }"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-ID", requestID)
	start := len(logs.all())
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the request never read the files")
	}
	cancel() // the client goes away
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's request ended with %v, want context.Canceled", err)
	}
	select {
	case <-logs.requestDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the request was never logged")
	}

	var mine []logRecord
	for _, r := range logs.all()[start:] {
		if r.level >= slog.LevelError {
			t.Errorf("ERROR record: %s %v", r.msg, r.attrs)
		}
		if r.attrs["request_id"] == requestID {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 {
		t.Errorf("%d log records for the request, want 1: %v", len(mine), mine)
	} else if r := mine[0]; r.level != slog.LevelInfo || r.msg != "request" || r.attrs["status"] != int64(499) {
		t.Errorf("the request's line: %s %s %v; want INFO request with status 499", r.level, r.msg, r.attrs)
	}

	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rec.Body.String()
	for _, want := range []string{
		`shipmentapp_http_requests_total{method="POST",route="/graphql",status="499"} 1`,
		`shipmentapp_graphql_operations_total{operation="GoneAway",result="cancelled",type="query"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, `shipmentapp_graphql_errors_total{code="INTERNAL"}`) {
			t.Errorf("counted as internal: %s", line)
		}
	}
	a.Close() // flushes the Sentry reports
	closed = true
	if got := received(); got != "" {
		t.Errorf("Sentry received %d bytes: %.300s", len(got), got)
	}
}
