package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/shipmentapp/shipmentapp/ent/privacy"
)

// systemOnlyPolicy denies every viewer: the rows are read and written by the
// package that owns them (internal/webhook), in a system context, after its
// own checks of who may do what.
func systemOnlyPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}

// WebhookEndpoint is a partner's receiver of webhooks: a durable subscriber
// of the event log, resumed from its own cursor, whose transport is an HTTP
// POST (internal/webhook).
type WebhookEndpoint struct {
	ent.Schema
}

// Fields of the WebhookEndpoint.
func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		// OwnerID is the api_keys row whose identity and scope deliveries
		// run with, at delivery time.
		field.Int("owner_id").Immutable(),
		field.String("url").NotEmpty().MaxLen(2048),
		field.String("description").MaxLen(512).Optional().Nillable(),
		// Document is the subscription document whose result for one event
		// is a delivery's data.
		field.Text("document").NotEmpty().SchemaType(map[string]string{dialect.MySQL: "mediumtext"}),
		field.JSON("variables", map[string]any{}).Optional(),
		// Secret is the signing secret, sealed (internal/secretbox);
		// PreviousSecret signs beside it until PreviousSecretUntil.
		field.Text("secret").NotEmpty().Sensitive(),
		field.Text("previous_secret").Optional().Nillable().Sensitive(),
		field.Time("previous_secret_until").SchemaType(timeSchema).Optional().Nillable(),
		field.Enum("state").Values("ENABLED", "DISABLED").Default("ENABLED").SchemaType(statusSchema),
		field.String("disabled_reason").MaxLen(512).Optional().Nillable(),
		field.Time("disabled_at").SchemaType(timeSchema).Optional().Nillable(),
		// Cursor is the seq of the last event of the log this endpoint has
		// taken (delivered, queued or skipped as not its own).
		field.Int64("cursor").Default(0),
		// FailingSince is the first failed attempt of the current run of
		// failures (nil after a success).
		field.Time("failing_since").SchemaType(timeSchema).Optional().Nillable(),
		// NextAttemptAt is when the oldest pending delivery is due (nil: no
		// delivery waits for a retry).
		field.Time("next_attempt_at").SchemaType(timeSchema).Optional().Nillable(),
		// LeaseOwner and LeaseUntil: the one instance working on the
		// endpoint, until its lease expires.
		field.String("lease_owner").MaxLen(128).Default(""),
		field.Time("lease_until").SchemaType(timeSchema).Optional().Nillable(),
		field.Time("created_at").SchemaType(timeSchema).Default(now).Immutable(),
		field.String("created_by").MaxLen(128).Immutable(),
		field.Time("updated_at").SchemaType(timeSchema).Default(now).UpdateDefault(now),
	}
}

// Indexes of the WebhookEndpoint.
func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("owner_id"), index.Fields("state", "next_attempt_at")}
}

// Annotations of the WebhookEndpoint.
func (WebhookEndpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("webhook_endpoints"), entgql.Skip(entgql.SkipAll)}
}

// Policy of the WebhookEndpoint: internal/webhook only.
func (WebhookEndpoint) Policy() ent.Policy { return systemOnlyPolicy() }

// WebhookDelivery is one message to one endpoint: an event of the log, a
// redelivery of one, or a test; it is attempted until it succeeds or fails
// for good.
type WebhookDelivery struct {
	ent.Schema
}

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.Int("endpoint_id").Immutable(),
		// EventSeq is the event of the log (nil for a test message).
		field.Int64("event_seq").Optional().Nillable().Immutable(),
		// MessageID is the webhook-id header: the event's ID, the same on
		// every attempt and redelivery (the receiver's idempotency key).
		field.String("message_id").NotEmpty().MaxLen(128).Immutable(),
		field.String("event_type").NotEmpty().MaxLen(64).Immutable(),
		field.Enum("status").Values("PENDING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELLED").
			Default("PENDING").SchemaType(statusSchema),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at").SchemaType(timeSchema).Default(now),
		field.String("last_error").MaxLen(1024).Optional().Nillable(),
		field.Int("last_status_code").Optional().Nillable(),
		field.Time("created_at").SchemaType(timeSchema).Default(now).Immutable(),
		field.Time("finished_at").SchemaType(timeSchema).Optional().Nillable(),
	}
}

// Indexes of the WebhookDelivery.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{index.Fields("endpoint_id", "status"), index.Fields("finished_at")}
}

// Annotations of the WebhookDelivery.
func (WebhookDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("webhook_deliveries"), entgql.Skip(entgql.SkipAll)}
}

// Policy of the WebhookDelivery: internal/webhook only.
func (WebhookDelivery) Policy() ent.Policy { return systemOnlyPolicy() }

// WebhookAttempt is one HTTP request of a delivery, for the delivery log.
type WebhookAttempt struct {
	ent.Schema
}

// Fields of the WebhookAttempt.
func (WebhookAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.Int("delivery_id").Immutable(),
		field.Time("at").SchemaType(timeSchema).Immutable(),
		field.Int("duration_ms").Immutable(),
		// StatusCode is the receiver's HTTP status (nil: no answer).
		field.Int("status_code").Optional().Nillable().Immutable(),
		field.String("error").MaxLen(1024).Optional().Nillable().Immutable(),
		// Response is the first KiB of the receiver's answer.
		field.Text("response").Optional().Nillable().Immutable(),
		field.String("instance").MaxLen(128).Immutable(),
	}
}

// Indexes of the WebhookAttempt.
func (WebhookAttempt) Indexes() []ent.Index {
	return []ent.Index{index.Fields("delivery_id")}
}

// Annotations of the WebhookAttempt.
func (WebhookAttempt) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("webhook_attempts"), entgql.Skip(entgql.SkipAll)}
}

// Policy of the WebhookAttempt: internal/webhook only.
func (WebhookAttempt) Policy() ent.Policy { return systemOnlyPolicy() }
