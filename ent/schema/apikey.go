package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey is a credential of a program (a partner integration, a job). The
// secret is shown once at creation and stored only as a SHA-256 hash; the key
// ID, part of the secret, finds the row.
type APIKey struct {
	ent.Schema
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("key_id").NotEmpty().MaxLen(32).Immutable().Unique(),
		field.String("secret_hash").NotEmpty().MaxLen(64).Immutable().Sensitive(),
		field.String("name").NotEmpty().MaxLen(128),
		field.Enum("role").Values("ADMIN", "STAFF", "PARTNER").Immutable().
			SchemaType(statusSchema),
		// CustomerIDs are the Dolibarr rowids a PARTNER key may see.
		field.JSON("customer_ids", []int{}).Optional(),
		field.Time("created_at").SchemaType(timeSchema).Default(now).Immutable(),
		field.String("created_by").MaxLen(128).Immutable(),
		field.Time("expires_at").SchemaType(timeSchema).Optional().Nillable(),
		field.Time("last_used_at").SchemaType(timeSchema).Optional().Nillable(),
		field.Time("revoked_at").SchemaType(timeSchema).Optional().Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at")}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("api_keys"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Policy of the APIKey: only admins (and the authenticator, in a system
// context) read or write keys.
func (APIKey) Policy() ent.Policy { return adminOnlyPolicy() }
