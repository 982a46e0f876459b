package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestEmbeddedDefault is the README's promise: with no configuration and no
// services, the first start creates the data directory, migrates, seeds a demo
// Dolibarr and 200 demo shipments; the next start reuses them.
func TestEmbeddedDefault(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg, err := config.Load("", []string{"APP_DATA_DIR=" + dataDir})
	if err != nil {
		t.Fatal(err)
	}
	start := func() *app.App {
		a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := start()
	for _, f := range []string{"shipmentapp.db", "dolibarr-demo.db"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	query := `{ shipments(first: 5) { totalCount edges { node { reference status customer { name } } } } customers { totalCount } }`
	var out struct {
		Shipments struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Node struct {
					Reference string `json:"reference"`
					Status    string `json:"status"`
					Customer  struct {
						Name string `json:"name"`
					} `json:"customer"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"shipments"`
		Customers struct {
			TotalCount int `json:"totalCount"`
		} `json:"customers"`
	}
	if a.DevAdminKey == "" {
		t.Fatal("no development admin key on first start")
	}
	devKey := a.DevAdminKey
	testutil.NewClient(t, a.Handler).As(devKey).MustData(query, nil, &out)
	if out.Shipments.TotalCount != 200 || len(out.Shipments.Edges) != 5 || out.Customers.TotalCount != 50 {
		t.Fatalf("demo data: %+v", out)
	}
	statuses := map[string]bool{}
	for _, e := range out.Shipments.Edges {
		if e.Node.Customer.Name == "" || e.Node.Reference == "" {
			t.Errorf("edge: %+v", e)
		}
		statuses[e.Node.Status] = true
	}
	a.Close()

	// A second start keeps the data and seeds nothing more.
	a = start()
	defer a.Close()
	if a.DevAdminKey != "" {
		t.Error("a second development admin key was created")
	}
	testutil.NewClient(t, a.Handler).As(devKey).MustData(query, nil, &out)
	if out.Shipments.TotalCount != 200 {
		t.Errorf("second start: %d shipments", out.Shipments.TotalCount)
	}
	var byStatus struct {
		Delivered struct{ TotalCount int } `json:"delivered"`
		Moving    struct{ TotalCount int } `json:"moving"`
		Cancelled struct{ TotalCount int } `json:"cancelled"`
	}
	testutil.NewClient(t, a.Handler).As(devKey).MustData(`{ delivered: shipments(where: {status: DELIVERED}) { totalCount }
		moving: shipments(where: {statusIn: [IN_TRANSIT, OUT_FOR_DELIVERY]}) { totalCount }
		cancelled: shipments(where: {status: CANCELLED}) { totalCount } }`, nil, &byStatus)
	if byStatus.Delivered.TotalCount == 0 || byStatus.Moving.TotalCount == 0 || byStatus.Cancelled.TotalCount == 0 {
		t.Errorf("demo statuses not varied: %+v", byStatus)
	}
}
