-- +goose Up
-- create "persisted_queries" table
CREATE TABLE `persisted_queries` (`id` bigint NOT NULL AUTO_INCREMENT, `doc_id` varchar(128) NOT NULL, `hash` varchar(64) NOT NULL, `body` mediumtext NOT NULL, `operation_name` varchar(256) NULL, `created_at` datetime(6) NOT NULL, PRIMARY KEY (`id`), UNIQUE INDEX `doc_id` (`doc_id`), UNIQUE INDEX `hash` (`hash`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;

-- +goose Down
-- reverse: create "persisted_queries" table
DROP TABLE `persisted_queries`;
