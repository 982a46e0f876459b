package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Sequence is a named counter that hands out numbers in commit order: a
// transaction increments its row as its last write, so the row lock it holds
// until commit makes every other transaction wait, and number n+1 is only
// given once n has committed or rolled back (a rollback gives n back). Tracking
// events take their seq from the "tracking_events" row, which makes their
// order gapless and the order in which they became visible (internal/live
// relies on both). It is not part of the API.
type Sequence struct {
	ent.Schema
}

// Fields of the Sequence.
func (Sequence) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxLen(64).NotEmpty().Immutable(),
		field.Int64("value").Default(0),
	}
}

// Annotations of the Sequence.
func (Sequence) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("sequences"),
		entgql.Skip(entgql.SkipAll),
	}
}
