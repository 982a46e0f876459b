package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// ReplicationHeartbeat is one row that every instance rewrites on the primary
// every second; reading it back from a replica measures that replica's lag
// (internal/dbroute). It is not part of the API.
type ReplicationHeartbeat struct {
	ent.Schema
}

// Fields of the ReplicationHeartbeat.
func (ReplicationHeartbeat) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id"),
		field.Time("beat_at").SchemaType(timeSchema),
	}
}

// Annotations of the ReplicationHeartbeat.
func (ReplicationHeartbeat) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("replication_heartbeat"),
		entgql.Skip(entgql.SkipAll),
	}
}
