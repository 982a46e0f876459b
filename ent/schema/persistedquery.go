package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// PersistedQuery is a trusted document of the allowlist, imported from a
// client's persisted-query manifest (`shipmentapp persisted import`).
type PersistedQuery struct {
	ent.Schema
}

// Fields of the PersistedQuery.
func (PersistedQuery) Fields() []ent.Field {
	return []ent.Field{
		// DocID is the manifest's ID for the document (Apollo: its SHA-256;
		// Relay: whatever its compiler uses), sent as id or documentId.
		field.String("doc_id").NotEmpty().MaxLen(128).Unique(),
		// Hash is the SHA-256 of the body, sent as the APQ sha256Hash.
		field.String("hash").NotEmpty().MaxLen(64).Unique(),
		field.Text("body").NotEmpty().SchemaType(map[string]string{dialect.MySQL: "mediumtext"}),
		field.String("operation_name").Optional().MaxLen(256),
		field.Time("created_at").SchemaType(timeSchema).Default(now).Immutable(),
	}
}

// Annotations of the PersistedQuery.
func (PersistedQuery) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("persisted_queries"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the PersistedQuery: read by the server (in a system context) and
// written by the import command; never through the API.
func (PersistedQuery) Policy() ent.Policy { return adminOnlyPolicy() }
