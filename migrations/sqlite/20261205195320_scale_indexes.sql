-- +goose Up
-- drop index "shipment_customer_id_created_at" from table: "shipments"
DROP INDEX `shipment_customer_id_created_at`;
-- drop index "shipment_status_created_at" from table: "shipments"
DROP INDEX `shipment_status_created_at`;
-- drop index "shipment_created_at" from table: "shipments"
DROP INDEX `shipment_created_at`;
-- create index "shipment_created_at_id" to table: "shipments"
CREATE INDEX `shipment_created_at_id` ON `shipments` (`created_at` DESC, `id`);
-- create index "shipment_status_created_at_id" to table: "shipments"
CREATE INDEX `shipment_status_created_at_id` ON `shipments` (`status`, `created_at` DESC, `id`);
-- create index "shipment_customer_id_created_at_id" to table: "shipments"
CREATE INDEX `shipment_customer_id_created_at_id` ON `shipments` (`customer_id`, `created_at` DESC, `id`);
-- create index "shipment_updated_at_id" to table: "shipments"
CREATE INDEX `shipment_updated_at_id` ON `shipments` (`updated_at` DESC, `id`);
-- create index "shipment_tracking_number" to table: "shipments"
CREATE INDEX `shipment_tracking_number` ON `shipments` (`tracking_number`);
-- drop index "file_shipment_id_uploaded_at" from table: "files"
DROP INDEX `file_shipment_id_uploaded_at`;
-- create index "file_shipment_id_uploaded_at_id" to table: "files"
CREATE INDEX `file_shipment_id_uploaded_at_id` ON `files` (`shipment_id`, `uploaded_at`, `id`);
-- drop index "trackingevent_shipment_id_occurred_at" from table: "tracking_events"
DROP INDEX `trackingevent_shipment_id_occurred_at`;
-- create index "trackingevent_shipment_id_occurred_at_id" to table: "tracking_events"
CREATE INDEX `trackingevent_shipment_id_occurred_at_id` ON `tracking_events` (`shipment_id`, `occurred_at` DESC, `id`);

-- +goose Down
-- reverse: create index "trackingevent_shipment_id_occurred_at_id" to table: "tracking_events"
DROP INDEX `trackingevent_shipment_id_occurred_at_id`;
-- reverse: drop index "trackingevent_shipment_id_occurred_at" from table: "tracking_events"
CREATE INDEX `trackingevent_shipment_id_occurred_at` ON `tracking_events` (`shipment_id`, `occurred_at`);
-- reverse: create index "file_shipment_id_uploaded_at_id" to table: "files"
DROP INDEX `file_shipment_id_uploaded_at_id`;
-- reverse: drop index "file_shipment_id_uploaded_at" from table: "files"
CREATE INDEX `file_shipment_id_uploaded_at` ON `files` (`shipment_id`, `uploaded_at`);
-- reverse: create index "shipment_tracking_number" to table: "shipments"
DROP INDEX `shipment_tracking_number`;
-- reverse: create index "shipment_updated_at_id" to table: "shipments"
DROP INDEX `shipment_updated_at_id`;
-- reverse: create index "shipment_customer_id_created_at_id" to table: "shipments"
DROP INDEX `shipment_customer_id_created_at_id`;
-- reverse: create index "shipment_status_created_at_id" to table: "shipments"
DROP INDEX `shipment_status_created_at_id`;
-- reverse: create index "shipment_created_at_id" to table: "shipments"
DROP INDEX `shipment_created_at_id`;
-- reverse: drop index "shipment_created_at" from table: "shipments"
CREATE INDEX `shipment_created_at` ON `shipments` (`created_at`);
-- reverse: drop index "shipment_status_created_at" from table: "shipments"
CREATE INDEX `shipment_status_created_at` ON `shipments` (`status`, `created_at`);
-- reverse: drop index "shipment_customer_id_created_at" from table: "shipments"
CREATE INDEX `shipment_customer_id_created_at` ON `shipments` (`customer_id`, `created_at`);
