-- A webhook endpoint's description is null when absent, never "" (as every
-- optional text of the API: docs/DECISIONS.md, "Optional fields are null,
-- never \"\""). The column becomes nullable and a blank one NULL.
-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_webhook_endpoints" table
CREATE TABLE `new_webhook_endpoints` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `owner_id` integer NOT NULL, `url` text NOT NULL, `description` text NULL, `document` text NOT NULL, `variables` json NULL, `secret` text NOT NULL, `previous_secret` text NULL, `previous_secret_until` datetime NULL, `state` text NOT NULL DEFAULT ('ENABLED'), `disabled_reason` text NULL, `disabled_at` datetime NULL, `cursor` integer NOT NULL DEFAULT (0), `failing_since` datetime NULL, `next_attempt_at` datetime NULL, `lease_owner` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, `created_at` datetime NOT NULL, `created_by` text NOT NULL, `updated_at` datetime NOT NULL);
-- copy rows from old table "webhook_endpoints" to new temporary table "new_webhook_endpoints"
INSERT INTO `new_webhook_endpoints` (`id`, `owner_id`, `url`, `description`, `document`, `variables`, `secret`, `previous_secret`, `previous_secret_until`, `state`, `disabled_reason`, `disabled_at`, `cursor`, `failing_since`, `next_attempt_at`, `lease_owner`, `lease_until`, `created_at`, `created_by`, `updated_at`) SELECT `id`, `owner_id`, `url`, `description`, `document`, `variables`, `secret`, `previous_secret`, `previous_secret_until`, `state`, `disabled_reason`, `disabled_at`, `cursor`, `failing_since`, `next_attempt_at`, `lease_owner`, `lease_until`, `created_at`, `created_by`, `updated_at` FROM `webhook_endpoints`;
-- drop "webhook_endpoints" table after copying rows
DROP TABLE `webhook_endpoints`;
-- rename temporary table "new_webhook_endpoints" to "webhook_endpoints"
ALTER TABLE `new_webhook_endpoints` RENAME TO `webhook_endpoints`;
-- create index "webhookendpoint_owner_id" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_owner_id` ON `webhook_endpoints` (`owner_id`);
-- create index "webhookendpoint_state_next_attempt_at" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_state_next_attempt_at` ON `webhook_endpoints` (`state`, `next_attempt_at`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
UPDATE `webhook_endpoints` SET `description` = NULL WHERE TRIM(`description`) = '';


-- +goose Down
-- the table as it was: description NOT NULL DEFAULT '', a NULL one ''
PRAGMA foreign_keys = off;
CREATE TABLE `new_webhook_endpoints` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `owner_id` integer NOT NULL, `url` text NOT NULL, `description` text NOT NULL DEFAULT (''), `document` text NOT NULL, `variables` json NULL, `secret` text NOT NULL, `previous_secret` text NULL, `previous_secret_until` datetime NULL, `state` text NOT NULL DEFAULT ('ENABLED'), `disabled_reason` text NULL, `disabled_at` datetime NULL, `cursor` integer NOT NULL DEFAULT (0), `failing_since` datetime NULL, `next_attempt_at` datetime NULL, `lease_owner` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, `created_at` datetime NOT NULL, `created_by` text NOT NULL, `updated_at` datetime NOT NULL);
INSERT INTO `new_webhook_endpoints` (`id`, `owner_id`, `url`, `description`, `document`, `variables`, `secret`, `previous_secret`, `previous_secret_until`, `state`, `disabled_reason`, `disabled_at`, `cursor`, `failing_since`, `next_attempt_at`, `lease_owner`, `lease_until`, `created_at`, `created_by`, `updated_at`) SELECT `id`, `owner_id`, `url`, COALESCE(`description`, ''), `document`, `variables`, `secret`, `previous_secret`, `previous_secret_until`, `state`, `disabled_reason`, `disabled_at`, `cursor`, `failing_since`, `next_attempt_at`, `lease_owner`, `lease_until`, `created_at`, `created_by`, `updated_at` FROM `webhook_endpoints`;
DROP TABLE `webhook_endpoints`;
ALTER TABLE `new_webhook_endpoints` RENAME TO `webhook_endpoints`;
CREATE INDEX `webhookendpoint_owner_id` ON `webhook_endpoints` (`owner_id`);
CREATE INDEX `webhookendpoint_state_next_attempt_at` ON `webhook_endpoints` (`state`, `next_attempt_at`);
PRAGMA foreign_keys = on;
