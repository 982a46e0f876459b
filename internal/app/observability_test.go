package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestOperationMetricsAndLogs: operations are counted by name, type and
// result, errors by code, and the request's log line names the operation.
func TestOperationMetricsAndLogs(t *testing.T) {
	b := testutil.All()[0]
	testutil.Require(t, b)
	e := newEnv(t, b)
	var logs bytes.Buffer
	e.app.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	e.gql.MustData(`query ListShipments { shipments(first: 1) { totalCount } }`, nil, nil)
	e.create(createInput(activeCustomer, "DHL"))
	e.create(createInput(otherActiveCustomer, "DHL"))
	e.gql.MustData(`{ shipments(first: 10) { edges { node { customer { name } } } } }`, nil, nil)
	e.gql.MustFail(`query Broken { shipment(id: "nope") { id } }`, nil, "BAD_USER_INPUT")
	e.gql.MustFail(`{ nope }`, nil, "GRAPHQL_VALIDATION_FAILED")
	m := string(e.gql.Raw(http.MethodGet, "/metrics", "", nil).Raw)
	for _, want := range []string{
		`shipmentapp_graphql_operations_total{operation="ListShipments",result="ok",type="query"} 1`,
		`shipmentapp_graphql_operations_total{operation="Broken",result="error",type="query"} 1`,
		`shipmentapp_graphql_errors_total{code="BAD_USER_INPUT"} 1`,
		`shipmentapp_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`shipmentapp_graphql_operation_duration_seconds_count{operation="ListShipments",type="query"} 1`,
		`shipmentapp_http_requests_total{method="POST",route="/graphql",status="200"}`,
		`go_sql_open_connections{db_name="primary"}`,
		// Two creates return their customer, one at a time; the list loads both in one batch.
		`shipmentapp_dataloader_batch_size_bucket{loader="customer",le="1"} 2`,
		`shipmentapp_dataloader_batch_size_bucket{loader="customer",le="2"} 3`,
		`go_sql_open_connections{db_name="dolibarr"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(logs.String(), `"operation":"ListShipments","operation_type":"query"`) {
		t.Errorf("the request log does not name the operation:\n%s", logs.String())
	}
}

// TestInternalErrorsReachSentry: an internal error (a database failure) is
// reported to SENTRY_DSN with the request's ID; the primary cut off is
// UNAVAILABLE, an outage rather than a bug, and is not.
func TestInternalErrorsReachSentry(t *testing.T) {
	b := testutil.All()[1] // MariaDB, through a proxy we can cut
	testutil.Require(t, b)
	dsn, received := testutil.FakeSentry(t)
	proxy := testutil.NewProxy(t, fmt.Sprintf("%s:%d", b.Host, b.Port))
	cfg := testutil.Config(t, through(testutil.NewDatabase(t, b), proxy), testutil.NewDolibarr(t, testutil.All()[0]),
		"SENTRY_DSN="+dsn)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, a, auth.RoleAdmin)
	gql := testutil.NewClient(t, a.Handler).As(key)
	gql.MustData(`{ shipments(first: 1) { totalCount } }`, nil, nil) // the key is verified and cached
	proxy.Cut()
	outage := gql.MustFail(`{ shipments(first: 1) { totalCount } }`, nil, "UNAVAILABLE").Header.Get("X-Request-ID")
	proxy.Restore()
	a.Client.Shipment.Intercept(ent.InterceptFunc(func(ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(context.Context, ent.Query) (ent.Value, error) {
			return nil, errors.New("database failure injected by the test")
		})
	}))
	r := gql.MustFail(`{ shipments(first: 1) { totalCount } }`, nil, "INTERNAL")
	id, _ := r.Errors[0].Extensions["requestId"].(string)
	a.Close() // flushes the reports
	if id == "" || !strings.Contains(received(), id) {
		t.Fatalf("sentry did not get the error of request %q: %q", id, received())
	}
	if outage == "" || strings.Contains(received(), outage) {
		t.Errorf("the outage (request %q) was reported to sentry: %q", outage, received())
	}
}
