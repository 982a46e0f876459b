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

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

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
	// The SDL parses, and declares the operations with their arguments
	// (each on its line, under its description).
	sdl := string(e.gql.Raw(http.MethodGet, "/schema.graphql", "", nil).Raw)
	schema, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: sdl})
	if gqlErr != nil {
		t.Fatalf("/schema.graphql does not parse: %v", gqlErr)
	}
	// It is the public schema: no gqlgen directive naming Go packages.
	if strings.Contains(sdl, "@go") || strings.Contains(sdl, "github.com/shipmentapp") {
		t.Errorf("/schema.graphql shows gqlgen's code-generation directives")
	}
	for _, want := range []struct{ typ, field, args, returns string }{
		{"Mutation", "createShipment", "input: CreateShipmentInput!", "Shipment!"},
		{"Mutation", "updateShipment", "id: ID!, version: Int!, input: UpdateShipmentInput!", "Shipment!"},
		{"Mutation", "addTrackingEvent", "shipmentId: ID!, input: TrackingEventInput!", "TrackingEvent!"},
		{"Mutation", "cancelShipment", "id: ID!, reason: String", "Shipment!"},
		{"Query", "customers", "after: Cursor, first: Int, before: Cursor, last: Int, orderBy: [CustomerOrder!], where: CustomerWhereInput, search: String", "CustomerConnection!"},
		{"Query", "node", "id: ID!", "Node"},
		{"Query", "nodes", "ids: [ID!]!", "[Node]!"},
	} {
		f := schema.Types[want.typ].Fields.ForName(want.field)
		if f == nil {
			t.Errorf("SDL lacks %s.%s", want.typ, want.field)
			continue
		}
		var args []string
		for _, a := range f.Arguments {
			args = append(args, a.Name+": "+a.Type.String())
		}
		if got := strings.Join(args, ", "); got != want.args || f.Type.String() != want.returns {
			t.Errorf("SDL: %s.%s(%s): %s, want (%s): %s", want.typ, want.field, got, f.Type, want.args, want.returns)
		}
		if f.Description == "" {
			t.Errorf("SDL: %s.%s has no description", want.typ, want.field)
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

	if r := gql.Raw(http.MethodGet, "/playground", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("GET /playground in production: %d", r.Status)
	}
	// The SDL, with its descriptions, for ADMIN credentials only.
	anon := testutil.NewClient(t, a.Handler)
	for _, c := range []struct {
		name   string
		client *testutil.Client
		status int
		code   string
	}{
		{"no credentials", anon, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"an unknown key", anon.As("sa_aaaaaaaaaaaaaaaa_" + strings.Repeat("A", 43)), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"a STAFF key", anon.As(newKey(t, a, auth.RoleStaff)), http.StatusForbidden, "FORBIDDEN"},
		{"a PARTNER key", anon.As(newKey(t, a, auth.RolePartner, activeCustomer)), http.StatusForbidden, "FORBIDDEN"},
		{"an ADMIN key", gql, http.StatusOK, ""},
	} {
		r := c.client.Raw(http.MethodGet, "/schema.graphql", "", nil)
		if r.Status != c.status {
			t.Errorf("GET /schema.graphql in production with %s: %d %.200s", c.name, r.Status, r.Raw)
			continue
		}
		if c.code != "" {
			if len(r.Errors) != 1 || r.Errors[0].Code() != c.code || strings.Contains(string(r.Raw), "type Shipment") {
				t.Errorf("GET /schema.graphql in production with %s: %s", c.name, r.Raw)
			}
			continue
		}
		sdl := string(r.Raw)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") || r.Header.Get("Cache-Control") != "no-store" ||
			!strings.Contains(sdl, "type Shipment implements Node") || !strings.Contains(sdl, "Weight in grams") {
			t.Errorf("GET /schema.graphql in production as an admin: %s %q %.200s", r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), sdl)
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
