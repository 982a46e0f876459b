-- +goose Up
-- create "files" table
CREATE TABLE `files` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `kind` text NOT NULL, `name` text NOT NULL, `content_type` text NOT NULL, `size` integer NOT NULL, `sha256` text NOT NULL, `storage_key` text NOT NULL, `uploaded_at` datetime NOT NULL, `uploaded_by` text NOT NULL, `shipment_id` integer NOT NULL, CONSTRAINT `files_shipments_files` FOREIGN KEY (`shipment_id`) REFERENCES `shipments` (`id`) ON DELETE NO ACTION);
-- create index "files_storage_key_key" to table: "files"
CREATE UNIQUE INDEX `files_storage_key_key` ON `files` (`storage_key`);
-- create index "file_shipment_id_uploaded_at" to table: "files"
CREATE INDEX `file_shipment_id_uploaded_at` ON `files` (`shipment_id`, `uploaded_at`);

-- +goose Down
-- reverse: create index "file_shipment_id_uploaded_at" to table: "files"
DROP INDEX `file_shipment_id_uploaded_at`;
-- reverse: create index "files_storage_key_key" to table: "files"
DROP INDEX `files_storage_key_key`;
-- reverse: create "files" table
DROP TABLE `files`;
