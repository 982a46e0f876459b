package shipping

import (
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/domain"
)

func TestNewReference(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		r, err := NewReference()
		if err != nil {
			t.Fatal(err)
		}
		if len(r) != 12 || !strings.HasPrefix(r, "SHP-") || !referencePattern.MatchString(r) {
			t.Fatalf("reference %q", r)
		}
		for _, c := range r[4:] {
			if !strings.ContainsRune(referenceAlphabet, c) {
				t.Fatalf("reference %q has %q", r, c)
			}
		}
		if seen[r] {
			t.Fatalf("duplicate %q in 1000", r)
		}
		seen[r] = true
	}
}

func TestValidator(t *testing.T) {
	good := domain.Address{Name: "A", Line1: "1 rue", City: "Lyon", PostalCode: "69001", CountryCode: "fr", Email: domain.TextOf("a@example.com")}
	cases := []struct {
		name   string
		run    func(v *validator)
		fields []string
	}{
		{"good address", func(v *validator) { v.address("a", good) }, nil},
		{"blank address", func(v *validator) { v.address("a", domain.Address{}) }, []string{"a.name", "a.line1", "a.city", "a.postalCode", "a.countryCode"}},
		{"display-name email", func(v *validator) {
			a := good
			a.Email = domain.TextOf("Bob <bob@example.com>")
			v.address("a", a)
		}, []string{"a.email"}},
		{"long name", func(v *validator) {
			a := good
			a.Name = strings.Repeat("é", 129)
			v.address("a", a)
		}, []string{"a.name"}},
		{"invalid utf-8", func(v *validator) { v.maxLen("x", "\xff", 10) }, []string{"x"}},
		{"parcels", func(v *validator) {
			v.parcels("p", []domain.Parcel{{WeightGrams: 1, LengthMm: 1, WidthMm: 1, HeightMm: 1}, {WeightGrams: 2_000_000, LengthMm: 0, WidthMm: 1, HeightMm: 99_999}})
		}, []string{"p.1.weightGrams", "p.1.lengthMm", "p.1.heightMm"}},
		{"too many parcels", func(v *validator) { v.parcels("p", make([]domain.Parcel, 101)) }, []string{"p"}},
		{"tracking number", func(v *validator) { v.trackingNumber("t", "1Z 999/AA-1.0_1") }, nil},
		{"tracking number with a quote", func(v *validator) { v.trackingNumber("t", `1Z"`) }, []string{"t"}},
		{"location", func(v *validator) { v.location("l", &domain.Location{CountryCode: domain.TextOf("FRA")}) }, []string{"l.countryCode"}},
	}
	for _, c := range cases {
		v := &validator{}
		c.run(v)
		var got []string
		for _, p := range v.problems {
			got = append(got, p.Field)
		}
		if strings.Join(got, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%s: problems %v, want %v", c.name, got, c.fields)
		}
		if err := v.err(); (err != nil) != (len(c.fields) > 0) || (err != nil && apperr.CodeOf(err) != apperr.BadUserInput) {
			t.Errorf("%s: err %v", c.name, err)
		}
	}
}
