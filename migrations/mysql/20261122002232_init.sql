-- +goose Up
-- create "shipments" table
CREATE TABLE `shipments` (`id` bigint NOT NULL AUTO_INCREMENT, `reference` varchar(64) NOT NULL, `customer_id` bigint NOT NULL, `status` varchar(32) NOT NULL DEFAULT 'DRAFT', `carrier` varchar(64) NOT NULL, `service_level` varchar(64) NULL, `tracking_number` varchar(64) NULL, `origin` json NOT NULL, `destination` json NOT NULL, `parcels` json NOT NULL, `estimated_delivery_at` datetime(6) NULL, `delivered_at` datetime(6) NULL, `cancel_reason` varchar(500) NULL, `version` bigint NOT NULL DEFAULT 1, `created_at` datetime(6) NOT NULL, `updated_at` datetime(6) NOT NULL, `created_by` varchar(128) NOT NULL, `updated_by` varchar(128) NOT NULL, PRIMARY KEY (`id`), UNIQUE INDEX `reference` (`reference`), UNIQUE INDEX `shipment_carrier_tracking_number` (`carrier`, `tracking_number`), INDEX `shipment_created_at` (`created_at`), INDEX `shipment_customer_id_created_at` (`customer_id`, `created_at`), INDEX `shipment_status_created_at` (`status`, `created_at`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;
-- create "tracking_events" table
CREATE TABLE `tracking_events` (`id` bigint NOT NULL AUTO_INCREMENT, `status` varchar(32) NOT NULL, `occurred_at` datetime(6) NOT NULL, `description` varchar(500) NULL, `location` json NULL, `source` varchar(32) NOT NULL DEFAULT 'api', `created_at` datetime(6) NOT NULL, `created_by` varchar(128) NOT NULL, `shipment_id` bigint NOT NULL, PRIMARY KEY (`id`), INDEX `trackingevent_shipment_id_occurred_at` (`shipment_id`, `occurred_at`), CONSTRAINT `tracking_events_shipments_events` FOREIGN KEY (`shipment_id`) REFERENCES `shipments` (`id`) ON UPDATE RESTRICT ON DELETE NO ACTION) CHARSET utf8mb4 COLLATE utf8mb4_bin;

-- +goose Down
-- reverse: create "tracking_events" table
DROP TABLE `tracking_events`;
-- reverse: create "shipments" table
DROP TABLE `shipments`;
