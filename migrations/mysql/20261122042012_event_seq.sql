-- +goose Up
-- modify "tracking_events" table
ALTER TABLE `tracking_events` ADD COLUMN `seq` bigint NULL;
-- existing events keep their order: seq = id
UPDATE `tracking_events` SET `seq` = `id`;
ALTER TABLE `tracking_events` MODIFY COLUMN `seq` bigint NOT NULL, ADD UNIQUE INDEX `seq` (`seq`);
-- create "sequences" table
CREATE TABLE `sequences` (`id` varchar(64) NOT NULL, `value` bigint NOT NULL DEFAULT 0, PRIMARY KEY (`id`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;
-- the sequence continues after the existing events
INSERT INTO `sequences` (`id`, `value`) SELECT 'tracking_events', COALESCE(MAX(`seq`), 0) FROM `tracking_events`;

-- +goose Down
-- reverse: create "sequences" table
DROP TABLE `sequences`;
-- reverse: modify "tracking_events" table
ALTER TABLE `tracking_events` DROP INDEX `seq`, DROP COLUMN `seq`;
