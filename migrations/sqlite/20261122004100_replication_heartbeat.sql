-- +goose Up
-- create "replication_heartbeat" table
CREATE TABLE `replication_heartbeat` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `beat_at` datetime NOT NULL);

-- +goose Down
-- reverse: create "replication_heartbeat" table
DROP TABLE `replication_heartbeat`;
