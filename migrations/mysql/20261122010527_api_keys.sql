-- +goose Up
-- create "api_keys" table
CREATE TABLE `api_keys` (`id` bigint NOT NULL AUTO_INCREMENT, `key_id` varchar(32) NOT NULL, `secret_hash` varchar(64) NOT NULL, `name` varchar(128) NOT NULL, `role` varchar(32) NOT NULL, `customer_ids` json NULL, `created_at` datetime(6) NOT NULL, `created_by` varchar(128) NOT NULL, `expires_at` datetime(6) NULL, `last_used_at` datetime(6) NULL, `revoked_at` datetime(6) NULL, PRIMARY KEY (`id`), INDEX `apikey_created_at` (`created_at`), UNIQUE INDEX `key_id` (`key_id`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;

-- +goose Down
-- reverse: create "api_keys" table
DROP TABLE `api_keys`;
