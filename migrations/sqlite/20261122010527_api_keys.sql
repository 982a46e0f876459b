-- +goose Up
-- create "api_keys" table
CREATE TABLE `api_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key_id` text NOT NULL, `secret_hash` text NOT NULL, `name` text NOT NULL, `role` text NOT NULL, `customer_ids` json NULL, `created_at` datetime NOT NULL, `created_by` text NOT NULL, `expires_at` datetime NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL);
-- create index "api_keys_key_id_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_key_id_key` ON `api_keys` (`key_id`);
-- create index "apikey_created_at" to table: "api_keys"
CREATE INDEX `apikey_created_at` ON `api_keys` (`created_at`);

-- +goose Down
-- reverse: create index "apikey_created_at" to table: "api_keys"
DROP INDEX `apikey_created_at`;
-- reverse: create index "api_keys_key_id_key" to table: "api_keys"
DROP INDEX `api_keys_key_id_key`;
-- reverse: create "api_keys" table
DROP TABLE `api_keys`;
