-- +goose Up
-- modify "files" table
ALTER TABLE `files` DROP INDEX `file_shipment_id_uploaded_at`, ADD INDEX `file_shipment_id_uploaded_at_id` (`shipment_id`, `uploaded_at`, `id`);
-- modify "shipments" table
ALTER TABLE `shipments` DROP INDEX `shipment_created_at`, DROP INDEX `shipment_customer_id_created_at`, DROP INDEX `shipment_status_created_at`, ADD INDEX `shipment_created_at_id` (`created_at` DESC, `id`), ADD INDEX `shipment_customer_id_created_at_id` (`customer_id`, `created_at` DESC, `id`), ADD INDEX `shipment_status_created_at_id` (`status`, `created_at` DESC, `id`), ADD INDEX `shipment_tracking_number` (`tracking_number`), ADD INDEX `shipment_updated_at_id` (`updated_at` DESC, `id`);
-- modify "tracking_events" table
ALTER TABLE `tracking_events` DROP INDEX `trackingevent_shipment_id_occurred_at`, ADD INDEX `trackingevent_shipment_id_occurred_at_id` (`shipment_id`, `occurred_at` DESC, `id`);

-- +goose Down
-- reverse: modify "tracking_events" table
ALTER TABLE `tracking_events` DROP INDEX `trackingevent_shipment_id_occurred_at_id`, ADD INDEX `trackingevent_shipment_id_occurred_at` (`shipment_id`, `occurred_at`);
-- reverse: modify "shipments" table
ALTER TABLE `shipments` DROP INDEX `shipment_updated_at_id`, DROP INDEX `shipment_tracking_number`, DROP INDEX `shipment_status_created_at_id`, DROP INDEX `shipment_customer_id_created_at_id`, DROP INDEX `shipment_created_at_id`, ADD INDEX `shipment_status_created_at` (`status`, `created_at`), ADD INDEX `shipment_customer_id_created_at` (`customer_id`, `created_at`), ADD INDEX `shipment_created_at` (`created_at`);
-- reverse: modify "files" table
ALTER TABLE `files` DROP INDEX `file_shipment_id_uploaded_at_id`, ADD INDEX `file_shipment_id_uploaded_at` (`shipment_id`, `uploaded_at`);
