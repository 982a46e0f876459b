-- +goose Up
-- create "files" table
CREATE TABLE `files` (`id` bigint NOT NULL AUTO_INCREMENT, `kind` varchar(32) NOT NULL, `name` varchar(255) NOT NULL, `content_type` varchar(127) NOT NULL, `size` bigint NOT NULL, `sha256` varchar(64) NOT NULL, `storage_key` varchar(255) NOT NULL, `uploaded_at` datetime(6) NOT NULL, `uploaded_by` varchar(128) NOT NULL, `shipment_id` bigint NOT NULL, PRIMARY KEY (`id`), INDEX `file_shipment_id_uploaded_at` (`shipment_id`, `uploaded_at`), UNIQUE INDEX `storage_key` (`storage_key`), CONSTRAINT `files_shipments_files` FOREIGN KEY (`shipment_id`) REFERENCES `shipments` (`id`) ON UPDATE RESTRICT ON DELETE NO ACTION) CHARSET utf8mb4 COLLATE utf8mb4_bin;

-- +goose Down
-- reverse: create "files" table
DROP TABLE `files`;
