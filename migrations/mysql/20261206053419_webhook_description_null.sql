-- A webhook endpoint's description is null when absent, never "" (as every
-- optional text of the API: docs/DECISIONS.md, "Optional fields are null,
-- never \"\""). The column becomes nullable and a blank one NULL.
-- +goose Up
-- modify "webhook_endpoints" table
ALTER TABLE `webhook_endpoints` MODIFY COLUMN `description` varchar(512) NULL;
UPDATE `webhook_endpoints` SET `description` = NULL WHERE TRIM(`description`) = '';


-- +goose Down
UPDATE `webhook_endpoints` SET `description` = '' WHERE `description` IS NULL;
-- reverse: modify "webhook_endpoints" table
ALTER TABLE `webhook_endpoints` MODIFY COLUMN `description` varchar(512) NOT NULL DEFAULT '';
