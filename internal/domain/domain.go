// Package domain holds the value types of the shipment domain that are stored
// by Ent and exposed by GraphQL: statuses, addresses, parcels and locations.
package domain

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Status is the lifecycle status of a shipment and of a tracking event.
type Status string

// The statuses a shipment moves through. DELIVERED, RETURNED and CANCELLED are final.
const (
	StatusDraft              Status = "DRAFT"
	StatusLabelCreated       Status = "LABEL_CREATED"
	StatusInTransit          Status = "IN_TRANSIT"
	StatusOutForDelivery     Status = "OUT_FOR_DELIVERY"
	StatusAvailableForPickup Status = "AVAILABLE_FOR_PICKUP"
	StatusDelivered          Status = "DELIVERED"
	StatusException          Status = "EXCEPTION"
	StatusReturned           Status = "RETURNED"
	StatusCancelled          Status = "CANCELLED"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{
	StatusDraft, StatusLabelCreated, StatusInTransit, StatusOutForDelivery,
	StatusAvailableForPickup, StatusDelivered, StatusException, StatusReturned, StatusCancelled,
}

// Values implements ent's EnumValues so Ent stores the enum with these values.
func (Status) Values() []string {
	out := make([]string, len(Statuses))
	for i, s := range Statuses {
		out[i] = string(s)
	}
	return out
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool {
	return s == StatusDelivered || s == StatusReturned || s == StatusCancelled
}

// String returns the status name.
func (s Status) String() string { return string(s) }

// MarshalGQL implements graphql.Marshaler.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (s *Status) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("status must be a string, got %T", v)
	}
	if !Status(str).Valid() {
		return fmt.Errorf("%q is not a valid ShipmentStatus", str)
	}
	*s = Status(str)
	return nil
}

// transitions is the one state machine of a shipment: from a status to the
// statuses it may move to. A status may repeat itself where carriers send
// several scans of the same kind (a new IN_TRANSIT hub, a second delivery attempt).
var transitions = map[Status][]Status{
	StatusDraft:              {StatusLabelCreated, StatusCancelled},
	StatusLabelCreated:       {StatusInTransit, StatusException, StatusCancelled},
	StatusInTransit:          {StatusInTransit, StatusOutForDelivery, StatusAvailableForPickup, StatusDelivered, StatusException, StatusReturned},
	StatusOutForDelivery:     {StatusOutForDelivery, StatusInTransit, StatusAvailableForPickup, StatusDelivered, StatusException, StatusReturned},
	StatusAvailableForPickup: {StatusAvailableForPickup, StatusInTransit, StatusDelivered, StatusException, StatusReturned},
	StatusException:          {StatusException, StatusInTransit, StatusOutForDelivery, StatusAvailableForPickup, StatusDelivered, StatusReturned, StatusCancelled},
}

// CanTransition reports whether a shipment in status from may move to status to.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// NextStatuses returns the statuses a shipment in status s may move to.
func NextStatuses(s Status) []Status {
	return append([]Status(nil), transitions[s]...)
}

// Address is a postal address with a contact, stored as JSON on a shipment.
// Its optional fields are nil when absent, never "": build one from input
// with NormalizeAddress, which owns that rule.
type Address struct {
	Name        string  `json:"name"`
	Company     *string `json:"company,omitempty"`
	Line1       string  `json:"line1"`
	Line2       *string `json:"line2,omitempty"`
	City        string  `json:"city"`
	Region      *string `json:"region,omitempty"`
	PostalCode  string  `json:"postalCode"`
	CountryCode string  `json:"countryCode"`
	Phone       *string `json:"phone,omitempty"`
	Email       *string `json:"email,omitempty"`
}

// NormalizeAddress returns a with every field trimmed, the country code in
// upper case and every optional field that is blank absent (nil).
func NormalizeAddress(a Address) Address {
	return Address{
		Name: strings.TrimSpace(a.Name), Company: Text(a.Company),
		Line1: strings.TrimSpace(a.Line1), Line2: Text(a.Line2),
		City: strings.TrimSpace(a.City), Region: Text(a.Region),
		PostalCode:  strings.TrimSpace(a.PostalCode),
		CountryCode: strings.ToUpper(strings.TrimSpace(a.CountryCode)),
		Phone:       Text(a.Phone), Email: Text(a.Email),
	}
}

// Parcel is one package of a shipment with explicit units.
type Parcel struct {
	WeightGrams int `json:"weightGrams"`
	LengthMm    int `json:"lengthMm"`
	WidthMm     int `json:"widthMm"`
	HeightMm    int `json:"heightMm"`
}

// Location is where a tracking event happened. Every field is optional: nil
// when absent, never "" (see NormalizeLocation).
type Location struct {
	City        *string `json:"city,omitempty"`
	Region      *string `json:"region,omitempty"`
	PostalCode  *string `json:"postalCode,omitempty"`
	CountryCode *string `json:"countryCode,omitempty"`
}

// NormalizeLocation returns l with its fields trimmed, blank ones absent and
// the country code in upper case, or nil when no field is left: a location
// that says nothing is no location.
func NormalizeLocation(l *Location) *Location {
	if l == nil {
		return nil
	}
	out := Location{City: Text(l.City), Region: Text(l.Region), PostalCode: Text(l.PostalCode), CountryCode: Text(l.CountryCode)}
	if out.CountryCode != nil {
		up := strings.ToUpper(*out.CountryCode)
		out.CountryCode = &up
	}
	if out == (Location{}) {
		return nil
	}
	return &out
}

// Text is the one rule for optional text, from any source (GraphQL input,
// Dolibarr's columns, stored rows): s trimmed, or nil when s is nil, empty or
// only white space. Absent is nil, never "".
func Text(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	if t == "" {
		return nil
	}
	if t == *s {
		return s
	}
	return &t
}

// TextOf is Text of a plain string: nil when s is blank.
func TextOf(s string) *string { return Text(&s) }
