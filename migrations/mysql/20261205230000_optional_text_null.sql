-- Optional fields answer null when absent, never "" (docs/DECISIONS.md,
-- "Optional fields are null, never \"\""). Rows written before keep their
-- meaning: a blank optional column becomes NULL, a blank optional key of an
-- address or a location is removed, and a location left with no key is NULL.
-- Data only: the schema does not change. Down has nothing to undo (old code
-- reads NULL and a missing key as "").
-- +goose Up
UPDATE `shipments` SET `service_level` = NULL WHERE TRIM(`service_level`) = '';
UPDATE `shipments` SET `tracking_number` = NULL WHERE TRIM(`tracking_number`) = '';
UPDATE `shipments` SET `cancel_reason` = NULL WHERE TRIM(`cancel_reason`) = '';
UPDATE `tracking_events` SET `description` = NULL WHERE TRIM(`description`) = '';
UPDATE `shipments` SET `origin` = JSON_REMOVE(`origin`, '$.company') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`origin`, '$.company'))) = '';
UPDATE `shipments` SET `origin` = JSON_REMOVE(`origin`, '$.line2') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`origin`, '$.line2'))) = '';
UPDATE `shipments` SET `origin` = JSON_REMOVE(`origin`, '$.region') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`origin`, '$.region'))) = '';
UPDATE `shipments` SET `origin` = JSON_REMOVE(`origin`, '$.phone') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`origin`, '$.phone'))) = '';
UPDATE `shipments` SET `origin` = JSON_REMOVE(`origin`, '$.email') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`origin`, '$.email'))) = '';
UPDATE `shipments` SET `destination` = JSON_REMOVE(`destination`, '$.company') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`destination`, '$.company'))) = '';
UPDATE `shipments` SET `destination` = JSON_REMOVE(`destination`, '$.line2') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`destination`, '$.line2'))) = '';
UPDATE `shipments` SET `destination` = JSON_REMOVE(`destination`, '$.region') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`destination`, '$.region'))) = '';
UPDATE `shipments` SET `destination` = JSON_REMOVE(`destination`, '$.phone') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`destination`, '$.phone'))) = '';
UPDATE `shipments` SET `destination` = JSON_REMOVE(`destination`, '$.email') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`destination`, '$.email'))) = '';
UPDATE `tracking_events` SET `location` = JSON_REMOVE(`location`, '$.city') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`location`, '$.city'))) = '';
UPDATE `tracking_events` SET `location` = JSON_REMOVE(`location`, '$.region') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`location`, '$.region'))) = '';
UPDATE `tracking_events` SET `location` = JSON_REMOVE(`location`, '$.postalCode') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`location`, '$.postalCode'))) = '';
UPDATE `tracking_events` SET `location` = JSON_REMOVE(`location`, '$.countryCode') WHERE TRIM(JSON_UNQUOTE(JSON_EXTRACT(`location`, '$.countryCode'))) = '';
UPDATE `tracking_events` SET `location` = NULL WHERE JSON_TYPE(`location`) = 'NULL' OR JSON_LENGTH(`location`) = 0;

-- +goose Down
-- nothing to reverse: absent stays absent.
