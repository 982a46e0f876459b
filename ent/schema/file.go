package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// File holds the schema definition for the File entity: one document of a
// shipment (a label, a proof of delivery, an invoice...). The bytes live in
// the object store under storage_key; the row is written only after the
// object, and an object without a row is removed by the sweeper.
type File struct {
	ent.Schema
}

// Fields of the File.
func (File) Fields() []ent.Field {
	return []ent.Field{
		idField(),
		field.Int("shipment_id").
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("kind").
			Comment("What the file is; it decided which content types the upload could have.").
			Values("LABEL", "PROOF_OF_DELIVERY", "INVOICE", "CUSTOMS", "OTHER").
			Immutable().
			SchemaType(statusSchema).
			Annotations(entgql.Type("FileKind")),
		// name is the client's file name, sanitised (internal/files).
		field.String("name").
			Comment("The client's file name, sanitised (no path, no control characters), at most 255 characters.").
			NotEmpty().MaxLen(255).Immutable(),
		// content_type is sniffed from the bytes, never taken from the client.
		field.String("content_type").
			Comment("The media type sniffed from the bytes when uploaded, never taken from the client.").
			NotEmpty().MaxLen(127).Immutable(),
		field.Int64("size").
			Comment("Size in bytes.").
			NonNegative().Immutable(),
		// sha256 is the lower-case hex digest of the bytes, also the ETag.
		field.String("sha256").
			Comment("The lower-case hex SHA-256 digest of the bytes; also the ETag of its download.").
			MinLen(64).MaxLen(64).Immutable(),
		field.String("storage_key").
			NotEmpty().MaxLen(255).Immutable().Unique().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("uploaded_at").
			Comment("When the upload finished.").SchemaType(timeSchema).
			Default(now).Immutable(),
		field.String("uploaded_by").
			Comment("Who uploaded it: key:<API key ID>, user:<OIDC subject> or system:<job>.").
			MaxLen(128).Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges of the File.
func (File) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("shipment", Shipment.Type).
			Ref("files").
			Field("shipment_id").
			Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the File.
func (File) Indexes() []ent.Index {
	return []ent.Index{
		// Shipment.files, oldest first: ORDER BY uploaded_at, id.
		index.Fields("shipment_id", "uploaded_at", "id"),
	}
}

// Annotations of the File.
func (File) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
