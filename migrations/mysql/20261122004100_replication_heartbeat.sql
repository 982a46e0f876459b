-- +goose Up
-- create "replication_heartbeat" table
CREATE TABLE `replication_heartbeat` (`id` bigint NOT NULL AUTO_INCREMENT, `beat_at` datetime(6) NOT NULL, PRIMARY KEY (`id`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;

-- +goose Down
-- reverse: create "replication_heartbeat" table
DROP TABLE `replication_heartbeat`;
