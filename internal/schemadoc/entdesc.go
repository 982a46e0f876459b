package schemadoc

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/internal/domain"
)

// typeDocs describes the types entgql writes to schema/ent.graphql without a
// description of their own (an object type of an Ent schema has none, and an
// `extend type` in schema/*.graphql cannot carry one), or with entgql's
// placeholder ("X is enum for the field y").
var typeDocs = map[string]string{
	"Query":         "Reads. Every query needs credentials (Authorization: Bearer <key or token>, or X-API-Key); a PARTNER sees only its customers' data.",
	"Shipment":      "One consignment of parcels from an origin to a destination for a Dolibarr customer. PARTNER viewers see the shipments of their customers only.",
	"TrackingEvent": "One append-only scan or status change of a shipment.",
	"File":          "One document of a shipment (a label, a proof of delivery, an invoice...), stored in the object store.",
	"Customer":      "A third party of Dolibarr (llx_societe) that is a customer of the configured entity; read-only here.",
	"ShipmentStatus": "Where a shipment is in its lifecycle. Each value says which statuses may follow it " +
		"(addTrackingEvent and cancelShipment answer INVALID_TRANSITION otherwise); Shipment.nextStatuses lists them for one shipment.",
	"FileKind": "What a file of a shipment is; it decides which content types an upload may have.",
	"Cursor":   "An opaque position in a connection: pass an edge's cursor (or pageInfo's endCursor or startCursor) as after or before. Valid for the order it was made with.",
	"Time":     "An instant, as an RFC 3339 string with a time zone offset (e.g. 2026-03-01T14:30:00Z); answers are in UTC.",
}

// statusDocs says what each shipment status means; the statuses that may
// follow it are added from domain's state machine.
var statusDocs = map[domain.Status]string{
	domain.StatusDraft:              "Created, not yet handed to a carrier.",
	domain.StatusLabelCreated:       "The carrier's label exists; the parcels are not picked up yet.",
	domain.StatusInTransit:          "On its way in the carrier's network.",
	domain.StatusOutForDelivery:     "With the courier for delivery today.",
	domain.StatusAvailableForPickup: "Waiting at a pickup point or locker for the recipient.",
	domain.StatusDelivered:          "Delivered to the recipient (deliveredAt says when).",
	domain.StatusException:          "Held up: damaged, address problem, customs, failed attempt...",
	domain.StatusReturned:           "Returned to the sender.",
	domain.StatusCancelled:          "Cancelled before delivery (cancelReason says why).",
}

// fileKindDocs says what each file kind is for.
var fileKindDocs = map[string]string{
	"LABEL":             "A shipping label: PDF, PNG, ZPL or plain text.",
	"PROOF_OF_DELIVERY": "A proof of delivery (signature, photo): PDF, PNG or JPEG.",
	"INVOICE":           "An invoice: PDF or CSV.",
	"CUSTOMS":           "A customs document: PDF, PNG, JPEG or CSV.",
	"OTHER":             "Anything else: PDF, PNG, JPEG, ZPL, plain text or CSV.",
}

// predicateDocs describes the where-input predicates entgql names
// <field><suffix>, longest suffix first so that NotIn is not read as In.
var predicateDocs = []struct{ suffix, doc string }{
	{"ContainsFold", "contains the value, ignoring case"},
	{"EqualFold", "is equal to the value, ignoring case"},
	{"HasPrefix", "starts with the value"},
	{"HasSuffix", "ends with the value"},
	{"Contains", "contains the value"},
	{"NotNil", "is set (true) or null (false)"},
	{"IsNil", "is null (true) or set (false)"},
	{"NotIn", "is none of the values (an empty list matches every row)"},
	{"NEQ", "is not equal to the value"},
	{"GTE", "is greater than or equal to the value"},
	{"LTE", "is less than or equal to the value"},
	{"GT", "is greater than the value"},
	{"LT", "is less than the value"},
	{"In", "is one of the values (an empty list matches no row)"},
}

// StatusDoc is the description of a ShipmentStatus value: what it means and,
// from domain's state machine, which statuses may follow it.
func StatusDoc(s domain.Status) (string, error) {
	meaning, ok := statusDocs[s]
	if !ok {
		return "", fmt.Errorf("status %s has no description in internal/schemadoc's statusDocs", s)
	}
	next := domain.NextStatuses(s)
	if len(next) == 0 {
		return meaning + " Final: no status may follow.", nil
	}
	names := make([]string, len(next))
	for i, n := range next {
		names[i] = string(n)
	}
	return meaning + " May be followed by: " + strings.Join(names, ", ") + ".", nil
}

// EntHook is an entgql schema hook (entgql.WithSchemaHook) that completes the
// descriptions of the schema entgql generates: object and enum types, enum
// values (ShipmentStatus's from domain's state machine) and where-input
// predicates. It fails when it meets something it cannot describe, so that a
// new Ent field or enum value stops `make generate` instead of reaching the
// public schema undocumented. Field descriptions come from the Ent fields'
// Comment.
func EntHook(_ *gen.Graph, s *ast.Schema) error {
	var errs []error
	for _, name := range sortedKeys(typeDocs) {
		if def, ok := s.Types[name]; ok {
			def.Description = typeDocs[name]
		}
	}
	for _, def := range s.Types {
		switch {
		case def.Name == "ShipmentStatus":
			for _, v := range def.EnumValues {
				d, err := StatusDoc(domain.Status(v.Name))
				errs = append(errs, err)
				v.Description = d
			}
		case def.Name == "FileKind":
			for _, v := range def.EnumValues {
				d, ok := fileKindDocs[v.Name]
				if !ok {
					errs = append(errs, fmt.Errorf("file kind %s has no description in internal/schemadoc's fileKindDocs", v.Name))
				}
				v.Description = d
			}
		case def.Kind == ast.Enum && strings.HasSuffix(def.Name, "OrderField"):
			for _, v := range def.EnumValues {
				if v.Description == "" {
					v.Description = "Order by " + strings.ToLower(strings.ReplaceAll(v.Name, "_", " ")) + "; ties are broken by ID."
				}
			}
		case def.Kind == ast.Object && slices.Contains(def.Interfaces, "Node"):
			if f := def.Fields.ForName("id"); f != nil && f.Description == "" {
				f.Description = "Global ID, opaque: pass it to node(id:) and to the queries and mutations that take this type's ID."
			}
		case def.Kind == ast.InputObject && strings.HasSuffix(def.Name, "WhereInput"):
			errs = append(errs, describeWhere(def))
		}
	}
	return errors.Join(errs...)
}

// describeWhere fills the descriptions of a where input's fields.
func describeWhere(def *ast.Definition) error {
	fields := make(map[string]bool, len(def.Fields))
	for _, f := range def.Fields {
		fields[f.Name] = true
	}
	var errs []error
	for _, f := range def.Fields {
		switch f.Name {
		case "not":
			f.Description = "Matches what the nested filter does not match."
			continue
		case "and":
			f.Description = "Matches what every nested filter matches."
			continue
		case "or":
			f.Description = "Matches what at least one nested filter matches."
			continue
		}
		if strings.HasSuffix(f.Description, " field predicates") {
			// entgql's heading of a field's predicates, on its equality one.
			f.Description = "Matches when " + f.Name + " is equal to the value. The fields named " + f.Name + "… after it are its other predicates; all the predicates given must hold."
			continue
		}
		if f.Description != "" {
			continue
		}
		described := false
		for _, p := range predicateDocs {
			base, ok := strings.CutSuffix(f.Name, p.suffix)
			if ok && fields[base] {
				f.Description = "Matches when " + base + " " + p.doc + "."
				described = true
				break
			}
		}
		if !described {
			errs = append(errs, fmt.Errorf("%s.%s: no description for this where-input field", def.Name, f.Name))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
