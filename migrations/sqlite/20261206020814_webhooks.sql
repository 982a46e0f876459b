-- +goose Up
-- create "webhook_attempts" table
CREATE TABLE `webhook_attempts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `delivery_id` integer NOT NULL, `at` datetime NOT NULL, `duration_ms` integer NOT NULL, `status_code` integer NULL, `error` text NULL, `response` text NULL, `instance` text NOT NULL);
-- create index "webhookattempt_delivery_id" to table: "webhook_attempts"
CREATE INDEX `webhookattempt_delivery_id` ON `webhook_attempts` (`delivery_id`);
-- create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `endpoint_id` integer NOT NULL, `event_seq` integer NULL, `message_id` text NOT NULL, `event_type` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `last_error` text NULL, `last_status_code` integer NULL, `created_at` datetime NOT NULL, `finished_at` datetime NULL);
-- create index "webhookdelivery_endpoint_id_status" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_endpoint_id_status` ON `webhook_deliveries` (`endpoint_id`, `status`);
-- create index "webhookdelivery_finished_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_finished_at` ON `webhook_deliveries` (`finished_at`);
-- create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `owner_id` integer NOT NULL, `url` text NOT NULL, `description` text NOT NULL DEFAULT (''), `document` text NOT NULL, `variables` json NULL, `secret` text NOT NULL, `previous_secret` text NULL, `previous_secret_until` datetime NULL, `state` text NOT NULL DEFAULT ('ENABLED'), `disabled_reason` text NULL, `disabled_at` datetime NULL, `cursor` integer NOT NULL DEFAULT (0), `failing_since` datetime NULL, `next_attempt_at` datetime NULL, `lease_owner` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, `created_at` datetime NOT NULL, `created_by` text NOT NULL, `updated_at` datetime NOT NULL);
-- create index "webhookendpoint_owner_id" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_owner_id` ON `webhook_endpoints` (`owner_id`);
-- create index "webhookendpoint_state_next_attempt_at" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_state_next_attempt_at` ON `webhook_endpoints` (`state`, `next_attempt_at`);

-- +goose Down
-- reverse: create index "webhookendpoint_state_next_attempt_at" to table: "webhook_endpoints"
DROP INDEX `webhookendpoint_state_next_attempt_at`;
-- reverse: create index "webhookendpoint_owner_id" to table: "webhook_endpoints"
DROP INDEX `webhookendpoint_owner_id`;
-- reverse: create "webhook_endpoints" table
DROP TABLE `webhook_endpoints`;
-- reverse: create index "webhookdelivery_finished_at" to table: "webhook_deliveries"
DROP INDEX `webhookdelivery_finished_at`;
-- reverse: create index "webhookdelivery_endpoint_id_status" to table: "webhook_deliveries"
DROP INDEX `webhookdelivery_endpoint_id_status`;
-- reverse: create "webhook_deliveries" table
DROP TABLE `webhook_deliveries`;
-- reverse: create index "webhookattempt_delivery_id" to table: "webhook_attempts"
DROP INDEX `webhookattempt_delivery_id`;
-- reverse: create "webhook_attempts" table
DROP TABLE `webhook_attempts`;
