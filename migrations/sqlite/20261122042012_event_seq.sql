-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_tracking_events" table
CREATE TABLE `new_tracking_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `seq` integer NOT NULL, `status` text NOT NULL, `occurred_at` datetime NOT NULL, `description` text NULL, `location` json NULL, `source` text NOT NULL DEFAULT ('api'), `created_at` datetime NOT NULL, `created_by` text NOT NULL, `shipment_id` integer NOT NULL, CONSTRAINT `tracking_events_shipments_events` FOREIGN KEY (`shipment_id`) REFERENCES `shipments` (`id`) ON DELETE NO ACTION);
-- copy rows from old table (existing events keep their order: seq = id) "tracking_events" to new temporary table "new_tracking_events"
INSERT INTO `new_tracking_events` (`id`, `seq`, `status`, `occurred_at`, `description`, `location`, `source`, `created_at`, `created_by`, `shipment_id`) SELECT `id`, `id`, `status`, `occurred_at`, `description`, `location`, `source`, `created_at`, `created_by`, `shipment_id` FROM `tracking_events`;
-- drop "tracking_events" table after copying rows
DROP TABLE `tracking_events`;
-- rename temporary table "new_tracking_events" to "tracking_events"
ALTER TABLE `new_tracking_events` RENAME TO `tracking_events`;
-- create index "tracking_events_seq_key" to table: "tracking_events"
CREATE UNIQUE INDEX `tracking_events_seq_key` ON `tracking_events` (`seq`);
-- create index "trackingevent_shipment_id_occurred_at" to table: "tracking_events"
CREATE INDEX `trackingevent_shipment_id_occurred_at` ON `tracking_events` (`shipment_id`, `occurred_at`);
-- create "sequences" table
CREATE TABLE `sequences` (`id` text NOT NULL, `value` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- the sequence continues after the existing events
INSERT INTO `sequences` (`id`, `value`) SELECT 'tracking_events', COALESCE(MAX(`seq`), 0) FROM `tracking_events`;
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create "sequences" table
DROP TABLE `sequences`;
-- reverse: create index "tracking_events_seq_key" to table: "tracking_events"
DROP INDEX `tracking_events_seq_key`;
-- reverse: add column "seq"
ALTER TABLE `tracking_events` DROP COLUMN `seq`;
