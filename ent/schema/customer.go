package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Customer maps the Dolibarr third-party table llx_societe, read-only. It lives
// in the Dolibarr database, is never migrated and never written: see
// internal/dolibarr, which opens it, scopes it to customers of the configured
// entity and refuses every write.
type Customer struct {
	ent.Schema
}

// Fields of the Customer.
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").
			StorageKey("rowid").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("name").
			StorageKey("nom").Optional().
			Annotations(entgql.OrderField("NAME")),
		field.String("alias").
			StorageKey("name_alias").Optional(),
		field.String("code").
			StorageKey("code_client").Optional().
			Comment("Dolibarr customer code, unique per entity").
			Annotations(entgql.OrderField("CODE")),
		field.Int("entity").
			Default(1).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int8("status").
			Default(1).
			Comment("1 active, 0 closed").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int8("client").
			Default(0).
			Comment("0 none, 1 customer, 2 prospect, 3 customer and prospect").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("address").
			Optional(),
		field.String("postal_code").
			StorageKey("zip").Optional(),
		field.String("city").
			StorageKey("town").Optional(),
		field.Int("country_id").
			StorageKey("fk_pays").Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("phone").
			Optional(),
		field.String("email").
			Optional(),
		field.String("url").
			Optional(),
		field.String("vat_number").
			StorageKey("tva_intra").Optional(),
		field.Time("created_at").
			StorageKey("datec").Optional().Nillable(),
		field.Time("updated_at").
			StorageKey("tms").Optional().Nillable().
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

// Annotations of the Customer.
func (Customer) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("llx_societe"),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
	}
}

// Country maps Dolibarr's country dictionary llx_c_country, read-only.
type Country struct {
	ent.Schema
}

// Fields of the Country.
func (Country) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").StorageKey("rowid"),
		field.String("code").Comment("ISO 3166 alpha-2"),
		field.String("code_iso").Optional().Comment("ISO 3166 alpha-3"),
		field.String("label"),
		field.Int8("active").Default(1),
	}
}

// Annotations of the Country.
func (Country) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("llx_c_country"),
		entgql.Skip(entgql.SkipAll),
	}
}
