package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/bench/internal/seed"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestSameJSONAsTheApp seeds a small benchmark data set, starts the app in
// this process and checks that the ceiling answers the benchmark's documents
// with the very bytes the app answers, with 2 statements a request: on
// PostgreSQL and on MariaDB as the main database (Dolibarr on MariaDB).
func TestSameJSONAsTheApp(t *testing.T) {
	pgB, myB := testutil.All()[2], testutil.All()[1]
	t.Run("postgres", func(t *testing.T) { sameJSON(t, pgB, Postgres) })
	t.Run("mariadb", func(t *testing.T) { sameJSON(t, myB, MySQL) })
}

func sameJSON(t *testing.T, mainB testutil.Backend, dialect Dialect) {
	myB := testutil.All()[1]
	testutil.Require(t, mainB)
	testutil.Require(t, myB)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	mainDB := testutil.NewDatabase(t, mainB)
	dolDB := testutil.NewDatabase(t, myB)
	customers, err := seed.Dolibarr(ctx, dolDB.Open(t), 120)
	if err != nil {
		t.Fatal(err)
	}
	// Names the JSON encoders treat specially.
	dol := dolDB.Open(t)
	if _, err := dol.ExecContext(ctx, `UPDATE llx_societe SET nom = ? WHERE rowid = ?`, "Dupont <Frères> & \"Fils\" \\ \u2028 tab\tend", customers[len(customers)-1].ID); err != nil {
		t.Fatal(err)
	}
	data, err := seed.Generate(customers, seed.Options{Customers: 120, Shipments: 300, Events: 1500, Files: 600})
	if err != nil {
		t.Fatal(err)
	}
	pg := mainDB.Open(t)
	driver := config.DriverPostgres
	if dialect == MySQL {
		driver = config.DriverMySQL
	}
	if err := seed.Migrate(ctx, pg, driver); err != nil {
		t.Fatal(err)
	}
	if err := seed.Main(ctx, pg, dialect == Postgres, data); err != nil {
		t.Fatal(err)
	}

	a, err := app.New(ctx, testutil.Config(t, mainDB, dolDB), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	_, secret, err := a.Keys.Create(privacy.DecisionContext(ctx, privacy.Allow), auth.CreateInput{Name: "ceiling test", Role: auth.RoleAdmin, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	appSrv := httptest.NewServer(a.Handler)
	defer appSrv.Close()

	_, mainDSN, err := db.DSN(mainDB.Target())
	if err != nil {
		t.Fatal(err)
	}
	_, dolDSN, err := db.DSN(dolDB.Target())
	if err != nil {
		t.Fatal(err)
	}
	cmain, cdol, err := Open(dialect, mainDSN, dolDSN, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmain.Close(); _ = cdol.Close() }()
	ceiling := New(dialect, cmain, cdol)
	ceilSrv := httptest.NewServer(ceiling)
	defer ceilSrv.Close()

	post := func(url string, body []byte, key string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = res.Body.Close() }()
		out, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s %v", url, res.StatusCode, out, err)
		}
		return out
	}
	doc := func(name string) string {
		b, err := os.ReadFile("../../queries/app/" + name) // bench/queries/app, from bench/cmd/benchceiling
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	special := 0
	for _, sh := range data.Shipments {
		if sh.CustomerID == customers[len(customers)-1].ID {
			special = sh.ID
		}
	}
	cases := []struct {
		doc, op string
		vars    map[string]any
	}{
		{"nested-list.graphql", "NestedList", map[string]any{"statuses": []string{"IN_TRANSIT", "OUT_FOR_DELIVERY"}}},
		{"nested-list.graphql", "NestedList", map[string]any{"statuses": []string{"DELIVERED"}}},
		{"nested-list.graphql", "NestedList", map[string]any{"statuses": []string{"RETURNED", "CANCELLED", "DRAFT"}}},
		{"nested-list.graphql", "NestedList", map[string]any{}},
		{"nested-list.graphql", "NestedList", map[string]any{"statuses": []string{}}},
		{"by-reference.graphql", "ShipmentByReference", map[string]any{"reference": "BENCH-000042"}},
		{"by-reference.graphql", "ShipmentByReference", map[string]any{"reference": "BENCH-000001"}},
		{"by-reference.graphql", "ShipmentByReference", map[string]any{"reference": fmt.Sprintf("BENCH-%06d", special)}},
		{"by-reference.graphql", "ShipmentByReference", map[string]any{"reference": "BENCH-999999"}},
	}
	for i := range 40 { // shipments of every status, with and without files
		cases = append(cases, struct {
			doc, op string
			vars    map[string]any
		}{"by-reference.graphql", "ShipmentByReference", map[string]any{"reference": fmt.Sprintf("BENCH-%06d", 1+i*7)}})
	}
	for _, c := range cases {
		body, _ := json.Marshal(map[string]any{"query": doc(c.doc), "operationName": c.op, "variables": c.vars})
		want := post(appSrv.URL, body, secret)
		req0, st0 := ceiling.Stats()
		got := post(ceilSrv.URL, body, "")
		req1, st1 := ceiling.Stats()
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s %v: differs at byte %d:\n app:     ...%.300s\n ceiling: ...%.300s", c.op, c.vars, i, want[max(0, i-100):], got[max(0, i-100):])
		}
		if bytes.Contains(want, []byte(`"errors"`)) {
			t.Errorf("%s %v: the app answered errors: %s", c.op, c.vars, want)
		}
		if req1-req0 != 1 || st1-st0 > 2 {
			t.Errorf("%s %v: %d request(s), %d statements; want 1 and at most 2", c.op, c.vars, req1-req0, st1-st0)
		}
	}
	// The data set holds what the comparisons need.
	var withSpecial int
	q := `SELECT COUNT(*) FROM shipments WHERE customer_id = $1`
	if dialect == MySQL {
		q = `SELECT COUNT(*) FROM shipments WHERE customer_id = ?`
	}
	if err := pg.QueryRowContext(ctx, q, customers[len(customers)-1].ID).Scan(&withSpecial); err != nil || withSpecial == 0 {
		t.Fatalf("no shipment for the customer with the special name (%v)", err)
	}
	checkSeed(t, ctx, pg, data)
}

// checkSeed checks the seeded data's invariants: seq gapless in commit
// order, the sequence row at N, versions and statuses consistent with the
// events.
func checkSeed(t *testing.T, ctx context.Context, pg *sql.DB, data *seed.Data) {
	t.Helper()
	var n, maxSeq, seqValue, badVersion, badStatus int
	for q, dst := range map[string]*int{
		`SELECT COUNT(*) FROM tracking_events`:                     &n,
		`SELECT MAX(seq) FROM tracking_events`:                     &maxSeq,
		`SELECT value FROM sequences WHERE id = 'tracking_events'`: &seqValue,
		`SELECT COUNT(*) FROM shipments s WHERE version <> 1 + (SELECT COUNT(*) FROM tracking_events e WHERE e.shipment_id = s.id)`:                                         &badVersion,
		`SELECT COUNT(*) FROM shipments s WHERE status <> COALESCE((SELECT e.status FROM tracking_events e WHERE e.shipment_id = s.id ORDER BY seq DESC LIMIT 1), 'DRAFT')`: &badStatus,
	} {
		if err := pg.QueryRowContext(ctx, q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n != len(data.Events) || maxSeq != n || seqValue != n || badVersion != 0 || badStatus != 0 {
		t.Fatalf("events %d (want %d), max seq %d, sequence %d, bad versions %d, bad statuses %d", n, len(data.Events), maxSeq, seqValue, badVersion, badStatus)
	}
}
