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

// TrackingEvent holds the schema definition for the TrackingEvent entity: one
// append-only scan or status change of a shipment.
type TrackingEvent struct {
	ent.Schema
}

// Fields of the TrackingEvent.
func (TrackingEvent) Fields() []ent.Field {
	return []ent.Field{
		idField(),
		field.Int("shipment_id").
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// seq orders all tracking events in the order they committed, with no
		// gap (see Sequence): subscriptions resume after the last one a client
		// saw. IDs cannot do this: they are handed out at insert, not at commit.
		field.Int64("seq").
			Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").
			Comment("The status the shipment moved to with this event.").
			GoType(domain.Status("")).
			Immutable().
			SchemaType(statusSchema).
			Annotations(entgql.Type("ShipmentStatus")),
		field.Time("occurred_at").
			Comment("When the event happened at the carrier (not when it was recorded: see createdAt).").SchemaType(timeSchema).
			Immutable().
			Annotations(entgql.OrderField("OCCURRED_AT")),
		// Absent is NULL, never "" (internal/shipping, domain.Text).
		field.String("description").
			Comment("The carrier's or the caller's words, at most 500 characters; null when none.").
			Optional().Nillable().MaxLen(500).Immutable(),
		field.JSON("location", &domain.Location{}).
			Comment("Where it happened, when known.").
			Optional().
			Annotations(entgql.Type("Location")),
		field.String("source").
			Comment("What recorded it: api (addTrackingEvent) or system (cancelShipment, internal jobs).").
			Default("api").MaxLen(32).Immutable(),
		field.Time("created_at").
			Comment("When the event was recorded.").SchemaType(timeSchema).
			Default(now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.String("created_by").
			Comment("Who recorded it: key:<API key ID>, user:<OIDC subject> or system:<job>.").
			MaxLen(128).Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges of the TrackingEvent.
func (TrackingEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("shipment", Shipment.Type).
			Comment("The shipment the event belongs to.").
			Ref("events").
			Field("shipment_id").
			Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes of the TrackingEvent.
func (TrackingEvent) Indexes() []ent.Index {
	return []ent.Index{
		// Shipment.events, newest first: ORDER BY occurred_at DESC, id
		// within each shipment (graph/loader's window, entgql's pager).
		index.Fields("shipment_id", "occurred_at", "id").
			Annotations(entsql.DescColumns("occurred_at")),
	}
}

// Annotations of the TrackingEvent.
func (TrackingEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.MultiOrder(),
	}
}
