package shipping

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/domain"
)

var (
	referencePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$`)
	trackingPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,63}$`)
	countryPattern   = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Limits of parcels, generous but finite.
const (
	maxParcels     = 100
	maxWeightGrams = 1_000_000 // one tonne
	maxDimensionMm = 10_000    // ten metres
)

// validator collects every problem of an input, so the client learns all of
// them at once; err returns the first with the others in extensions.
type validator struct {
	problems []*apperr.Error
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, apperr.Invalid(field, format, args...))
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	first := v.problems[0]
	if len(v.problems) > 1 {
		all := make([]map[string]string, len(v.problems))
		for i, p := range v.problems {
			all[i] = map[string]string{"field": p.Field, "message": p.Message}
		}
		first.Extensions = map[string]any{"problems": all}
		first.Message = fmt.Sprintf("%s (and %d more problem(s))", first.Message, len(v.problems)-1)
	}
	return first
}

func (v *validator) maxLen(field, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		v.add(field, "must be at most %d characters", n)
	}
	if !utf8.ValidString(s) {
		v.add(field, "must be valid UTF-8")
	}
}

func (v *validator) required(field, s string, n int) {
	if strings.TrimSpace(s) == "" {
		v.add(field, "is required")
		return
	}
	v.maxLen(field, s, n)
}

func (v *validator) carrier(field, s string) { v.required(field, s, 64) }

func (v *validator) reference(field, s string) {
	if !referencePattern.MatchString(s) {
		v.add(field, "must be 3 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
}

func (v *validator) trackingNumber(field, s string) {
	if !trackingPattern.MatchString(s) {
		v.add(field, "must be 1 to 64 letters, digits, spaces, '.', '_', '/' or '-'")
	}
}

// optMaxLen is maxLen of an optional value.
func (v *validator) optMaxLen(field string, s *string, n int) {
	if s != nil {
		v.maxLen(field, *s, n)
	}
}

// address validates a, normalised by domain.NormalizeAddress (blank optional
// fields become absent), and returns it normalised.
func (v *validator) address(field string, a domain.Address) domain.Address {
	a = domain.NormalizeAddress(a)
	v.required(field+".name", a.Name, 128)
	v.optMaxLen(field+".company", a.Company, 128)
	v.required(field+".line1", a.Line1, 255)
	v.optMaxLen(field+".line2", a.Line2, 255)
	v.required(field+".city", a.City, 128)
	v.optMaxLen(field+".region", a.Region, 128)
	v.required(field+".postalCode", a.PostalCode, 32)
	if !countryPattern.MatchString(a.CountryCode) {
		v.add(field+".countryCode", "must be an ISO 3166-1 alpha-2 code such as FR")
	}
	v.optMaxLen(field+".phone", a.Phone, 32)
	if a.Email != nil {
		email := *a.Email
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
			v.add(field+".email", "must be an email address")
		}
	}
	return a
}

// location validates l, normalised by domain.NormalizeLocation, and returns
// it normalised: nil when it says nothing.
func (v *validator) location(field string, l *domain.Location) *domain.Location {
	l = domain.NormalizeLocation(l)
	if l == nil {
		return nil
	}
	v.optMaxLen(field+".city", l.City, 128)
	v.optMaxLen(field+".region", l.Region, 128)
	v.optMaxLen(field+".postalCode", l.PostalCode, 32)
	if l.CountryCode != nil && !countryPattern.MatchString(*l.CountryCode) {
		v.add(field+".countryCode", "must be an ISO 3166-1 alpha-2 code such as FR")
	}
	return l
}

func (v *validator) parcels(field string, ps []domain.Parcel) {
	if len(ps) == 0 {
		v.add(field, "at least one parcel is required")
		return
	}
	if len(ps) > maxParcels {
		v.add(field, "at most %d parcels", maxParcels)
		return
	}
	for i, p := range ps {
		f := fmt.Sprintf("%s.%d", field, i)
		if p.WeightGrams < 1 || p.WeightGrams > maxWeightGrams {
			v.add(f+".weightGrams", "must be between 1 and %d", maxWeightGrams)
		}
		for _, d := range []struct {
			name string
			v    int
		}{{"lengthMm", p.LengthMm}, {"widthMm", p.WidthMm}, {"heightMm", p.HeightMm}} {
			if d.v < 1 || d.v > maxDimensionMm {
				v.add(f+"."+d.name, "must be between 1 and %d", maxDimensionMm)
			}
		}
	}
}
