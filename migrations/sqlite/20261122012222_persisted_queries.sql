-- +goose Up
-- create "persisted_queries" table
CREATE TABLE `persisted_queries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `doc_id` text NOT NULL, `hash` text NOT NULL, `body` text NOT NULL, `operation_name` text NULL, `created_at` datetime NOT NULL);
-- create index "persisted_queries_doc_id_key" to table: "persisted_queries"
CREATE UNIQUE INDEX `persisted_queries_doc_id_key` ON `persisted_queries` (`doc_id`);
-- create index "persisted_queries_hash_key" to table: "persisted_queries"
CREATE UNIQUE INDEX `persisted_queries_hash_key` ON `persisted_queries` (`hash`);

-- +goose Down
-- reverse: create index "persisted_queries_hash_key" to table: "persisted_queries"
DROP INDEX `persisted_queries_hash_key`;
-- reverse: create index "persisted_queries_doc_id_key" to table: "persisted_queries"
DROP INDEX `persisted_queries_doc_id_key`;
-- reverse: create "persisted_queries" table
DROP TABLE `persisted_queries`;
