-- +goose Up
-- create "webhook_attempts" table
CREATE TABLE `webhook_attempts` (`id` bigint NOT NULL AUTO_INCREMENT, `delivery_id` bigint NOT NULL, `at` datetime(6) NOT NULL, `duration_ms` bigint NOT NULL, `status_code` bigint NULL, `error` varchar(1024) NULL, `response` longtext NULL, `instance` varchar(128) NOT NULL, PRIMARY KEY (`id`), INDEX `webhookattempt_delivery_id` (`delivery_id`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;
-- create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` bigint NOT NULL AUTO_INCREMENT, `endpoint_id` bigint NOT NULL, `event_seq` bigint NULL, `message_id` varchar(128) NOT NULL, `event_type` varchar(64) NOT NULL, `status` varchar(32) NOT NULL DEFAULT 'PENDING', `attempts` bigint NOT NULL DEFAULT 0, `next_attempt_at` datetime(6) NOT NULL, `last_error` varchar(1024) NULL, `last_status_code` bigint NULL, `created_at` datetime(6) NOT NULL, `finished_at` datetime(6) NULL, PRIMARY KEY (`id`), INDEX `webhookdelivery_endpoint_id_status` (`endpoint_id`, `status`), INDEX `webhookdelivery_finished_at` (`finished_at`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;
-- create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` bigint NOT NULL AUTO_INCREMENT, `owner_id` bigint NOT NULL, `url` varchar(2048) NOT NULL, `description` varchar(512) NOT NULL DEFAULT '', `document` mediumtext NOT NULL, `variables` json NULL, `secret` longtext NOT NULL, `previous_secret` longtext NULL, `previous_secret_until` datetime(6) NULL, `state` varchar(32) NOT NULL DEFAULT 'ENABLED', `disabled_reason` varchar(512) NULL, `disabled_at` datetime(6) NULL, `cursor` bigint NOT NULL DEFAULT 0, `failing_since` datetime(6) NULL, `next_attempt_at` datetime(6) NULL, `lease_owner` varchar(128) NOT NULL DEFAULT '', `lease_until` datetime(6) NULL, `created_at` datetime(6) NOT NULL, `created_by` varchar(128) NOT NULL, `updated_at` datetime(6) NOT NULL, PRIMARY KEY (`id`), INDEX `webhookendpoint_owner_id` (`owner_id`), INDEX `webhookendpoint_state_next_attempt_at` (`state`, `next_attempt_at`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;

-- +goose Down
-- reverse: create "webhook_endpoints" table
DROP TABLE `webhook_endpoints`;
-- reverse: create "webhook_deliveries" table
DROP TABLE `webhook_deliveries`;
-- reverse: create "webhook_attempts" table
DROP TABLE `webhook_attempts`;
