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
			GoType(domain.Status("")).
			Immutable().
			SchemaType(statusSchema).
			Annotations(entgql.Type("ShipmentStatus")),
		field.Time("occurred_at").SchemaType(timeSchema).
			Immutable().
			Annotations(entgql.OrderField("OCCURRED_AT")),
		// Absent is NULL, never "" (internal/shipping, domain.Text).
		field.String("description").
			Optional().Nillable().MaxLen(500).Immutable(),
		field.JSON("location", &domain.Location{}).
			Optional().
			Annotations(entgql.Type("Location")),
		field.String("source").
			Default("api").MaxLen(32).Immutable(),
		field.Time("created_at").SchemaType(timeSchema).
			Default(now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.String("created_by").
			MaxLen(128).Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges of the TrackingEvent.
func (TrackingEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("shipment", Shipment.Type).
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
