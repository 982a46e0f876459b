package domain_test

import (
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/domain"
)

func TestTransitions(t *testing.T) {
	cases := []struct {
		from, to domain.Status
		ok       bool
	}{
		{domain.StatusDraft, domain.StatusLabelCreated, true},
		{domain.StatusDraft, domain.StatusCancelled, true},
		{domain.StatusDraft, domain.StatusInTransit, false},
		{domain.StatusDraft, domain.StatusDraft, false},
		{domain.StatusLabelCreated, domain.StatusInTransit, true},
		{domain.StatusLabelCreated, domain.StatusDelivered, false},
		{domain.StatusInTransit, domain.StatusInTransit, true},
		{domain.StatusInTransit, domain.StatusCancelled, false},
		{domain.StatusInTransit, domain.StatusLabelCreated, false},
		{domain.StatusOutForDelivery, domain.StatusDelivered, true},
		{domain.StatusAvailableForPickup, domain.StatusDelivered, true},
		{domain.StatusException, domain.StatusReturned, true},
		{domain.StatusException, domain.StatusCancelled, true},
		{domain.StatusDelivered, domain.StatusReturned, false},
		{domain.StatusReturned, domain.StatusInTransit, false},
		{domain.StatusCancelled, domain.StatusDraft, false},
	}
	for _, c := range cases {
		if got := domain.CanTransition(c.from, c.to); got != c.ok {
			t.Errorf("%s -> %s: %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

func TestStateMachineInvariants(t *testing.T) {
	for _, from := range domain.Statuses {
		next := domain.NextStatuses(from)
		if from.Final() != (len(next) == 0) {
			t.Errorf("%s: final=%v but %d next statuses", from, from.Final(), len(next))
		}
		for _, to := range next {
			if to == domain.StatusDraft {
				t.Errorf("%s -> DRAFT is allowed", from)
			}
			if !to.Valid() {
				t.Errorf("%s -> unknown %q", from, to)
			}
		}
	}
	// Every non-final status can reach every final status.
	for _, from := range domain.Statuses {
		if from.Final() {
			continue
		}
		seen := map[domain.Status]bool{from: true}
		queue := []domain.Status{from}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, n := range domain.NextStatuses(s) {
				if !seen[n] {
					seen[n] = true
					queue = append(queue, n)
				}
			}
		}
		if !seen[domain.StatusDelivered] || !seen[domain.StatusReturned] {
			t.Errorf("%s cannot reach every final status: %v", from, seen)
		}
	}
}

func TestStatusGQL(t *testing.T) {
	var s domain.Status
	if err := s.UnmarshalGQL("IN_TRANSIT"); err != nil || s != domain.StatusInTransit {
		t.Errorf("%v %v", s, err)
	}
	for _, bad := range []any{"in_transit", "FLYING", 3, nil} {
		if err := s.UnmarshalGQL(bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
	if len(domain.Status("").Values()) != len(domain.Statuses) {
		t.Error("Values out of sync")
	}
}

func TestText(t *testing.T) {
	text := func(s string) *string { return &s }
	cases := []struct {
		name string
		in   *string
		want *string
	}{
		{"absent", nil, nil},
		{"empty", text(""), nil},
		{"blanks", text(" \t\n"), nil},
		{"trimmed", text("  ACME "), text("ACME")},
		{"kept", text("ACME"), text("ACME")},
	}
	for _, c := range cases {
		got := domain.Text(c.in)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%s: Text = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	spaces := "  "
	a := domain.NormalizeAddress(domain.Address{Name: " A ", Company: new(string), Line1: "1", Line2: &spaces, City: "Lyon", Region: nil,
		PostalCode: "69001", CountryCode: " fr ", Phone: new(string), Email: func() *string { s := " a@b.c "; return &s }()})
	if a.Company != nil || a.Line2 != nil || a.Region != nil || a.Phone != nil || a.Name != "A" || a.CountryCode != "FR" || a.Email == nil || *a.Email != "a@b.c" {
		t.Errorf("NormalizeAddress = %+v", a)
	}
	empty := ""
	for _, l := range []*domain.Location{nil, {}, {City: &empty, Region: &empty, PostalCode: &empty, CountryCode: &empty}} {
		if got := domain.NormalizeLocation(l); got != nil {
			t.Errorf("NormalizeLocation(%+v) = %+v, want nil", l, *got)
		}
	}
	city, cc := " Paris ", "fr"
	if got := domain.NormalizeLocation(&domain.Location{City: &city, Region: &empty, CountryCode: &cc}); got == nil || *got.City != "Paris" || got.Region != nil || *got.CountryCode != "FR" {
		t.Errorf("NormalizeLocation = %+v", got)
	}
}
