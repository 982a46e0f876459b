// Package schema holds the hand-written Ent schemas of shipmentapp.
package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
)

// idField is the ID of every node. It is not filterable through where inputs:
// global IDs are typed (see internal/gid) and node(id)/nodes(ids) look objects up.
func idField() ent.Field {
	return field.Int("id").
		Annotations(entgql.Skip(entgql.SkipWhereInput))
}

// now is the default of every timestamp: UTC and truncated to microseconds, the
// precision all three databases keep, so a value read back equals the one written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// timeSchema gives every timestamp microsecond precision on every dialect
// (MySQL's TIMESTAMP would keep seconds and end in 2038).
var timeSchema = map[string]string{
	dialect.MySQL:    "datetime(6)",
	dialect.Postgres: "timestamptz",
}

// statusSchema stores statuses as strings everywhere: MySQL's ENUM would sort
// by declaration order (unlike the other databases) and need a table rebuild
// for every new status.
var statusSchema = map[string]string{
	dialect.MySQL: "varchar(32)",
}
