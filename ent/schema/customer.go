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

// Fields of the Customer. Optional text is Nillable, so that absent answers
// null: Dolibarr's "" is made absent by internal/dolibarr as rows are read.
// name and code stay plain strings: they are order fields, and a cursor
// cannot page across NULLs consistently on all three databases.
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").
			StorageKey("rowid").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("name").
			Comment("The company or person name (Dolibarr nom).").
			StorageKey("nom").Optional().
			Annotations(entgql.OrderField("NAME")),
		field.String("alias").
			Comment("Another name of the third party (Dolibarr name_alias); null when none.").
			StorageKey("name_alias").Optional().Nillable(),
		field.String("code").
			Comment("Dolibarr customer code (code_client), unique per entity.").
			StorageKey("code_client").Optional().
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
			Comment("Street address, possibly several lines; null when none.").
			Optional().Nillable(),
		field.String("postal_code").
			Comment("Postal code; null when none.").
			StorageKey("zip").Optional().Nillable(),
		field.String("city").
			Comment("City; null when none.").
			StorageKey("town").Optional().Nillable(),
		field.Int("country_id").
			StorageKey("fk_pays").Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("shipping_method_id").
			StorageKey("fk_shipping_method").Optional().
			Comment("preferred shipping method, llx_c_shipment_mode.rowid").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("phone").
			Comment("Phone number as typed in Dolibarr; null when none.").
			Optional().Nillable(),
		field.String("email").
			Comment("Email address; null when none.").
			Optional().Nillable(),
		field.String("url").
			Comment("Web site; null when none.").
			Optional().Nillable(),
		field.String("vat_number").
			Comment("Intra-community VAT number (Dolibarr tva_intra); null when none.").
			StorageKey("tva_intra").Optional().Nillable(),
		field.Time("created_at").
			Comment("When the third party was created in Dolibarr; null when unknown.").
			StorageKey("datec").Optional().Nillable(),
		field.Time("updated_at").
			Comment("When the third party last changed in Dolibarr; null when unknown.").
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
		field.String("code_iso").Optional().Nillable().Comment("ISO 3166 alpha-3"),
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

// Contact maps Dolibarr's contacts table llx_socpeople, read-only. Only active
// (statut = 1), public (priv = 0) contacts of the configured entity are read.
type Contact struct {
	ent.Schema
}

// Fields of the Contact.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").StorageKey("rowid"),
		field.Int("customer_id").StorageKey("fk_soc").Optional(),
		field.Int("entity").Default(1),
		field.String("civility").Optional().Nillable(),
		field.String("last_name").StorageKey("lastname").Optional().Nillable(),
		field.String("first_name").StorageKey("firstname").Optional().Nillable(),
		field.String("job_title").StorageKey("poste").Optional().Nillable(),
		field.String("email").Optional().Nillable(),
		field.String("phone").Optional().Nillable(),
		field.String("mobile_phone").StorageKey("phone_mobile").Optional().Nillable(),
		field.Int16("private").StorageKey("priv").Default(0),
		field.Int8("status").StorageKey("statut").Default(1),
	}
}

// Annotations of the Contact.
func (Contact) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("llx_socpeople"),
		entgql.Skip(entgql.SkipAll),
	}
}

// ShippingMethod maps Dolibarr's shipping methods dictionary
// llx_c_shipment_mode, read-only.
type ShippingMethod struct {
	ent.Schema
}

// Fields of the ShippingMethod.
func (ShippingMethod) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").StorageKey("rowid"),
		field.String("code"),
		field.String("label").StorageKey("libelle"),
		field.String("tracking_url").StorageKey("tracking").Optional().Nillable().
			Comment("URL template with {TRACKID}"),
		field.Int8("active").Optional(),
	}
}

// Annotations of the ShippingMethod.
func (ShippingMethod) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("llx_c_shipment_mode"),
		entgql.Skip(entgql.SkipAll),
	}
}
