// Package gid encodes and decodes the opaque Relay global IDs of the API.
//
// A global ID is the unpadded base64url encoding of "Type:localID". The type is
// part of the ID because shipment rows and Dolibarr rowids live in different
// databases and share no ID range: decoding always says which type an ID names,
// and callers that expect one type reject the others.
package gid

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The node types that have global IDs. The names are the GraphQL type names.
const (
	TypeShipment      = "Shipment"
	TypeTrackingEvent = "TrackingEvent"
	TypeCustomer      = "Customer"
	TypeCountry       = "Country"
	TypeAPIKey        = "APIKey"
	TypeFile          = "File"
	// Webhook endpoints and deliveries are not nodes (node(id) does not
	// find them) but have IDs of the same form.
	TypeWebhookEndpoint = "WebhookEndpoint"
	TypeWebhookDelivery = "WebhookDelivery"
)

var knownTypes = map[string]bool{
	TypeShipment:        true,
	TypeTrackingEvent:   true,
	TypeCustomer:        true,
	TypeCountry:         true,
	TypeAPIKey:          true,
	TypeFile:            true,
	TypeWebhookEndpoint: true,
	TypeWebhookDelivery: true,
}

// maxLen bounds the length of an encoded ID accepted by Parse, so a hostile
// input cannot make the decoder allocate much.
const maxLen = 64

// ErrInvalid is returned (wrapped) for every ID that cannot be decoded.
var ErrInvalid = errors.New("invalid ID")

// ID is a decoded global ID.
type ID struct {
	Type  string
	Local int
}

// New returns the global ID of the object of type typ with local ID local.
func New(typ string, local int) ID { return ID{Type: typ, Local: local} }

// String returns the opaque encoded form of the ID.
func (id ID) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(id.Type + ":" + strconv.Itoa(id.Local)))
}

// IsZero reports whether id is the zero ID (never a valid object).
func (id ID) IsZero() bool { return id.Type == "" }

// Parse decodes an opaque global ID and checks its form.
func Parse(s string) (ID, error) {
	if s == "" {
		return ID{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(s) > maxLen {
		return ID{}, fmt.Errorf("%w: too long", ErrInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return ID{}, fmt.Errorf("%w: not an ID of this API", ErrInvalid)
	}
	typ, local, ok := strings.Cut(string(raw), ":")
	if !ok || !knownTypes[typ] {
		return ID{}, fmt.Errorf("%w: not an ID of this API", ErrInvalid)
	}
	n, err := strconv.ParseInt(local, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != local {
		return ID{}, fmt.Errorf("%w: not an ID of this API", ErrInvalid)
	}
	return ID{Type: typ, Local: int(n)}, nil
}

// ParseAs decodes s and checks that it names an object of type typ.
func ParseAs(typ, s string) (int, error) {
	id, err := Parse(s)
	if err != nil {
		return 0, err
	}
	return id.As(typ)
}

// As returns the local ID if id names an object of type typ.
func (id ID) As(typ string) (int, error) {
	if id.Type != typ {
		return 0, fmt.Errorf("%w: expected a %s ID, got a %s ID", ErrInvalid, typ, id.Type)
	}
	return id.Local, nil
}

// MarshalGQL implements graphql.Marshaler.
func (id ID) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(id.String()))
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (id *ID) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%w: must be a string", ErrInvalid)
	}
	parsed, err := Parse(s)
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
