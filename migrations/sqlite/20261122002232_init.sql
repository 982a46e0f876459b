-- +goose Up
-- create "shipments" table
CREATE TABLE `shipments` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `reference` text NOT NULL, `customer_id` integer NOT NULL, `status` text NOT NULL DEFAULT ('DRAFT'), `carrier` text NOT NULL, `service_level` text NULL, `tracking_number` text NULL, `origin` json NOT NULL, `destination` json NOT NULL, `parcels` json NOT NULL, `estimated_delivery_at` datetime NULL, `delivered_at` datetime NULL, `cancel_reason` text NULL, `version` integer NOT NULL DEFAULT (1), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `created_by` text NOT NULL, `updated_by` text NOT NULL);
-- create index "shipments_reference_key" to table: "shipments"
CREATE UNIQUE INDEX `shipments_reference_key` ON `shipments` (`reference`);
-- create index "shipment_carrier_tracking_number" to table: "shipments"
CREATE UNIQUE INDEX `shipment_carrier_tracking_number` ON `shipments` (`carrier`, `tracking_number`);
-- create index "shipment_customer_id_created_at" to table: "shipments"
CREATE INDEX `shipment_customer_id_created_at` ON `shipments` (`customer_id`, `created_at`);
-- create index "shipment_status_created_at" to table: "shipments"
CREATE INDEX `shipment_status_created_at` ON `shipments` (`status`, `created_at`);
-- create index "shipment_created_at" to table: "shipments"
CREATE INDEX `shipment_created_at` ON `shipments` (`created_at`);
-- create "tracking_events" table
CREATE TABLE `tracking_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `status` text NOT NULL, `occurred_at` datetime NOT NULL, `description` text NULL, `location` json NULL, `source` text NOT NULL DEFAULT ('api'), `created_at` datetime NOT NULL, `created_by` text NOT NULL, `shipment_id` integer NOT NULL, CONSTRAINT `tracking_events_shipments_events` FOREIGN KEY (`shipment_id`) REFERENCES `shipments` (`id`) ON DELETE NO ACTION);
-- create index "trackingevent_shipment_id_occurred_at" to table: "tracking_events"
CREATE INDEX `trackingevent_shipment_id_occurred_at` ON `tracking_events` (`shipment_id`, `occurred_at`);

-- +goose Down
-- reverse: create index "trackingevent_shipment_id_occurred_at" to table: "tracking_events"
DROP INDEX `trackingevent_shipment_id_occurred_at`;
-- reverse: create "tracking_events" table
DROP TABLE `tracking_events`;
-- reverse: create index "shipment_created_at" to table: "shipments"
DROP INDEX `shipment_created_at`;
-- reverse: create index "shipment_status_created_at" to table: "shipments"
DROP INDEX `shipment_status_created_at`;
-- reverse: create index "shipment_customer_id_created_at" to table: "shipments"
DROP INDEX `shipment_customer_id_created_at`;
-- reverse: create index "shipment_carrier_tracking_number" to table: "shipments"
DROP INDEX `shipment_carrier_tracking_number`;
-- reverse: create index "shipments_reference_key" to table: "shipments"
DROP INDEX `shipments_reference_key`;
-- reverse: create "shipments" table
DROP TABLE `shipments`;
