package schemadoc_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/schemadoc"
)

func loadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDeprecationProblems holds every @deprecated to a reason that says
// what replaces the element and a parseable "Removal: YYYY-MM-DD".
func TestDeprecationProblems(t *testing.T) {
	if got := schemadoc.DeprecationProblems(load(t, loadFile(t, "testdata/deprecation/good.graphql"))); len(got) != 0 {
		t.Errorf("good.graphql: want no problems, got:\n%s", strings.Join(got, "\n"))
	}
	got := schemadoc.DeprecationProblems(load(t, loadFile(t, "testdata/deprecation/bad.graphql")))
	for _, want := range []string{
		`Query.shipment(lang): @deprecated(reason: "Labels follow Accept-Language now.") names no removal date`,
		`Shipment.depth: @deprecated(reason: "Use depthMillimetres instead. Removal: 2027-02-30") names no removal date`,
		`Shipment.height: @deprecated(reason: "Removal: 2027-03-01") does not say what to use instead`,
		`Shipment.volume: @deprecated without a reason`,
		`Shipment.weight: @deprecated(reason: "Use weightGrams instead: grams as an integer.") names no removal date`,
		`Shipment.width: @deprecated(reason: "No longer supported. Removal: 2027-03-01") does not say what to use instead`,
		`ShipmentInput.note: @deprecated(reason: "Use comment instead.") names no removal date`,
		`Status.LEGACY: @deprecated(reason: "No shipment has had it since 2025.") names no removal date`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("bad.graphql: no problem %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != 8 {
		t.Errorf("bad.graphql: want 8 problems, got %d:\n%s", len(got), strings.Join(got, "\n"))
	}
}

func TestRemovalDate(t *testing.T) {
	for reason, want := range map[string]string{
		"Use weightGrams instead. Removal: 2027-03-01": "2027-03-01",
		"Removal: 2027-03-01 (moved from 2027-02-01)":  "2027-03-01",
		"Use weightGrams instead. Removal: 2027-02-30": "",
		"Use weightGrams instead. removal: 2027-03-01": "",
		"Use weightGrams instead. Removal: 1 March":    "",
	} {
		d, ok := schemadoc.RemovalDate(reason)
		got := ""
		if ok {
			got = d.Format(time.DateOnly)
		}
		if got != want {
			t.Errorf("RemovalDate(%q) = %q, want %q", reason, got, want)
		}
	}
}
