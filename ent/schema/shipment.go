package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/shipmentapp/shipmentapp/internal/domain"
)

// Shipment holds the schema definition for the Shipment entity: one
// consignment of parcels from an origin to a destination for a Dolibarr customer.
type Shipment struct {
	ent.Schema
}

// Fields of the Shipment.
func (Shipment) Fields() []ent.Field {
	return []ent.Field{
		idField(),
		field.String("reference").
			Comment("Human-readable reference, unique (at most 64 characters); generated (SHP-…) when createShipment is given none. Never changes.").
			Unique().NotEmpty().MaxLen(64).Immutable().
			Annotations(entgql.OrderField("REFERENCE")),
		// customer_id is the rowid of the customer in Dolibarr's llx_societe.
		// It is not an Ent edge: the customer lives in another database.
		field.Int("customer_id").
			Positive().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").
			Comment("Where the shipment is in its lifecycle; it moves only with addTrackingEvent or cancelShipment, along the state machine ShipmentStatus describes.").
			GoType(domain.Status("")).
			Default(string(domain.StatusDraft)).
			SchemaType(statusSchema).
			Annotations(entgql.OrderField("STATUS"), entgql.Type("ShipmentStatus")),
		field.String("carrier").
			Comment("The carrier, as the client names it (e.g. UPS, DHL), at most 64 characters.").
			NotEmpty().MaxLen(64).
			Annotations(entgql.OrderField("CARRIER")),
		field.String("service_level").
			Comment("The carrier's service (e.g. express), at most 64 characters; null when not given.").
			Optional().Nillable().MaxLen(64),
		field.String("tracking_number").
			Comment("The carrier's tracking number, unique per carrier; null until known.").
			Optional().Nillable().MaxLen(64),
		field.JSON("origin", domain.Address{}).
			Comment("Where the parcels leave from.").
			Annotations(entgql.Type("Address")),
		field.JSON("destination", domain.Address{}).
			Comment("Where the parcels go.").
			Annotations(entgql.Type("Address")),
		field.JSON("parcels", []domain.Parcel{}).
			Comment("The packages, with their weight in grams and dimensions in millimetres.").
			Annotations(entgql.Type("[Parcel!]")),
		// Nullable fields are not order fields: cursors cannot page across NULLs
		// consistently on all three databases.
		field.Time("estimated_delivery_at").
			Comment("When the carrier expects to deliver; null when unknown.").SchemaType(timeSchema).
			Optional().Nillable(),
		field.Time("delivered_at").
			Comment("When the DELIVERED event occurred; null before.").SchemaType(timeSchema).
			Optional().Nillable(),
		field.String("cancel_reason").
			Comment("Why the shipment was cancelled (cancelShipment), at most 500 characters; null otherwise.").
			Optional().Nillable().MaxLen(500),
		field.Int("version").
			Comment("Optimistic concurrency: 1 at creation, incremented by every change; updateShipment must send the current one.").
			Default(1).Positive(),
		field.Time("created_at").
			Comment("When the shipment was created.").SchemaType(timeSchema).
			Default(now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Comment("When the shipment last changed.").SchemaType(timeSchema).
			Default(now).UpdateDefault(now).
			Annotations(entgql.OrderField("UPDATED_AT")),
		field.String("created_by").
			Comment("Who created it: key:<API key ID>, user:<OIDC subject> or system:<job>.").
			MaxLen(128).Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("updated_by").
			Comment("Who changed it last, as createdBy.").
			MaxLen(128).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges of the Shipment.
func (Shipment) Edges() []ent.Edge {
	return []ent.Edge{
		// Shipment.events is declared in schema/shipment.graphql with its
		// defaults (newest first, 20 a page) and resolved in graph/.
		edge.To("events", TrackingEvent.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Shipment.files is declared in schema/file.graphql and loaded by a dataloader.
		edge.To("files", File.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Shipment.
func (Shipment) Indexes() []ent.Index {
	return []ent.Index{
		// Tracking numbers are unique per carrier, not globally.
		index.Fields("carrier", "tracking_number").Unique(),
		// The orderings of Query.shipments and Customer.shipments end with
		// the id tiebreak ascending (ent/gql_pagination.go): newest first
		// is ORDER BY created_at DESC, id. Each index below holds that
		// order after its equality prefix, so a page (and a deep page's
		// cursor predicate) is a range of one index with no sort
		// (docs/BENCHMARKS.md, "Cost as the data grows").
		index.Fields("created_at", "id").
			Annotations(entsql.DescColumns("created_at")),
		// where: {status | statusIn} ordered by CREATED_AT.
		index.Fields("status", "created_at", "id").
			Annotations(entsql.DescColumns("created_at")),
		// Customer.shipments ordered by CREATED_AT.
		index.Fields("customer_id", "created_at", "id").
			Annotations(entsql.DescColumns("created_at")),
		// orderBy: UPDATED_AT (what changed lately).
		index.Fields("updated_at", "id").
			Annotations(entsql.DescColumns("updated_at")),
		// where: {trackingNumber} without the carrier (the unique index
		// above leads with the carrier).
		index.Fields("tracking_number"),
	}
}

// Annotations of the Shipment.
func (Shipment) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.MultiOrder(),
	}
}
