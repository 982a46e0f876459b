package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/migrate"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestHTTPSurface(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	e.create(createInput(activeCustomer, "UPS"))

	q := url.QueryEscape(`{ shipments(first: 1) { totalCount edges { node { reference customer { name } } } } }`)
	r := e.gql.RawH(http.MethodGet, "/graphql?query="+q, map[string]string{"GraphQL-Require-Preflight": "1"}, nil)
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":1`) {
		t.Errorf("GET /graphql: %d %s", r.Status, r.Raw)
	}
	for _, c := range []struct {
		path, contains, contentType string
	}{
		{"/playground", "graphiql", "text/html"},
		{"/schema.graphql", "type Shipment implements Node", "text/plain"},
		{"/healthz", "ok", "text/plain"},
	} {
		r := e.gql.Raw(http.MethodGet, c.path, "", nil)
		if r.Status != http.StatusOK || !strings.Contains(strings.ToLower(string(r.Raw)), strings.ToLower(c.contains)) || !strings.HasPrefix(r.Header.Get("Content-Type"), c.contentType) {
			t.Errorf("GET %s: %d %s %.200s", c.path, r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
	}
	sdl := string(e.gql.Raw(http.MethodGet, "/schema.graphql", "", nil).Raw)
	for _, want := range []string{"createShipment(input: CreateShipmentInput!): Shipment!", "updateShipment(id: ID!, version: Int!", "addTrackingEvent(", "cancelShipment(", "customers(", "nodes(", "): Node"} {
		if !strings.Contains(sdl, want) {
			t.Errorf("SDL lacks %q", want)
		}
	}

	// Request IDs: kept when sane, replaced otherwise.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, e.gql.URL()+"/healthz", nil)
	req.Header.Set("X-Request-ID", "lb-1234")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "lb-1234" {
		t.Errorf("X-Request-ID = %q", resp.Header.Get("X-Request-ID"))
	}
	req.Header.Set("X-Request-ID", "<script>")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if id := resp.Header.Get("X-Request-ID"); id == "<script>" || len(id) != 24 {
		t.Errorf("unsafe X-Request-ID kept: %q", id)
	}
	resp, err = client.Get(e.gql.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/playground" {
		t.Errorf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestProduction(t *testing.T) {
	mainDB := testutil.NewDatabase(t, testutil.SQLite)
	dolibarrDB := testutil.NewDolibarr(t, testutil.SQLite)
	cfg := testutil.Config(t, mainDB, dolibarrDB, "APP_ENV=production", "APP_URL=https://api.example.com", "FILE_SIGNING_KEY=0123456789abcdef0123456789abcdef")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	// Pending migrations: refuses to start, and says which.
	_, err := app.New(ctx, cfg, logger)
	if err == nil || !strings.Contains(err.Error(), "pending migration") || !strings.Contains(err.Error(), "_init.sql") {
		t.Fatalf("start with pending migrations: %v", err)
	}
	migrateUp(t, mainDB, cfg.DB.Connection)
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.DevAdminKey != "" {
		t.Error("production created a development admin key")
	}
	gql := testutil.NewClient(t, a.Handler).As(newKey(t, a, auth.RoleAdmin))

	for _, path := range []string{"/playground", "/schema.graphql"} {
		if r := gql.Raw(http.MethodGet, path, "", nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s in production: %d", path, r.Status)
		}
	}
	r := gql.Do(`{ __schema { types { name } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("introspection in production: %s", r.Raw)
	}
	// No demo data in production, and the API works.
	var out struct {
		Shipments struct {
			TotalCount int `json:"totalCount"`
		} `json:"shipments"`
	}
	gql.MustData(`{ shipments { totalCount } }`, nil, &out)
	if out.Shipments.TotalCount != 0 {
		t.Errorf("production seeded %d shipments", out.Shipments.TotalCount)
	}

	// An internal failure is INTERNAL with no detail.
	_ = a.Client.Close()
	r = gql.Do(`{ shipments { totalCount } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "INTERNAL" || r.Errors[0].Message != "internal error" {
		t.Errorf("internal error in production: %s", r.Raw)
	}
	var raw map[string]any
	_ = json.Unmarshal(r.Raw, &raw)
	if strings.Contains(string(r.Raw), "sql") || strings.Contains(string(r.Raw), "closed") {
		t.Errorf("internal detail leaked: %s", r.Raw)
	}
}

// FuzzCursor: any string as a cursor gives a page or BAD_USER_INPUT, never a
// server error or a panic.
func FuzzCursor(f *testing.F) {
	e := newEnv(f, testutil.SQLite)
	e.create(createInput(activeCustomer, "UPS"))
	var p page
	e.gql.MustData(pageQuery, map[string]any{"first": 1}, &p)
	f.Add(p.Shipments.Edges[0].Cursor)
	f.Add("")
	f.Add("gqFp")
	f.Add("%%%")
	f.Add("kqFpAaF2wA")
	f.Fuzz(func(t *testing.T, cursor string) {
		gql := e.gql.With(t)
		for _, vars := range []map[string]any{{"after": cursor}, {"before": cursor, "last": 1}} {
			r := gql.Do(pageQuery, vars)
			if r.Status >= 500 {
				t.Fatalf("HTTP %d for cursor %q: %s", r.Status, cursor, r.Raw)
			}
			for _, e := range r.Errors {
				if e.Code() != "BAD_USER_INPUT" {
					t.Fatalf("cursor %q: %s", cursor, r.Raw)
				}
			}
		}
	})
}

func migrateUp(t *testing.T, d testutil.Database, driver string) {
	t.Helper()
	m, err := migrate.New(d.Open(t), driver)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
}
