-- Optional fields answer null when absent, never "" (docs/DECISIONS.md,
-- "Optional fields are null, never \"\""). Rows written before keep their
-- meaning: a blank optional column becomes NULL, a blank optional key of an
-- address or a location is removed, and a location left with no key is NULL.
-- Data only: the schema does not change. Down has nothing to undo (old code
-- reads NULL and a missing key as "").
-- +goose Up
UPDATE "shipments" SET "service_level" = NULL WHERE TRIM("service_level") = '';
UPDATE "shipments" SET "tracking_number" = NULL WHERE TRIM("tracking_number") = '';
UPDATE "shipments" SET "cancel_reason" = NULL WHERE TRIM("cancel_reason") = '';
UPDATE "tracking_events" SET "description" = NULL WHERE TRIM("description") = '';
UPDATE "shipments" SET "origin" = json_remove("origin", '$.company') WHERE json_type("origin", '$.company') = 'text' AND TRIM(json_extract("origin", '$.company')) = '';
UPDATE "shipments" SET "origin" = json_remove("origin", '$.line2') WHERE json_type("origin", '$.line2') = 'text' AND TRIM(json_extract("origin", '$.line2')) = '';
UPDATE "shipments" SET "origin" = json_remove("origin", '$.region') WHERE json_type("origin", '$.region') = 'text' AND TRIM(json_extract("origin", '$.region')) = '';
UPDATE "shipments" SET "origin" = json_remove("origin", '$.phone') WHERE json_type("origin", '$.phone') = 'text' AND TRIM(json_extract("origin", '$.phone')) = '';
UPDATE "shipments" SET "origin" = json_remove("origin", '$.email') WHERE json_type("origin", '$.email') = 'text' AND TRIM(json_extract("origin", '$.email')) = '';
UPDATE "shipments" SET "destination" = json_remove("destination", '$.company') WHERE json_type("destination", '$.company') = 'text' AND TRIM(json_extract("destination", '$.company')) = '';
UPDATE "shipments" SET "destination" = json_remove("destination", '$.line2') WHERE json_type("destination", '$.line2') = 'text' AND TRIM(json_extract("destination", '$.line2')) = '';
UPDATE "shipments" SET "destination" = json_remove("destination", '$.region') WHERE json_type("destination", '$.region') = 'text' AND TRIM(json_extract("destination", '$.region')) = '';
UPDATE "shipments" SET "destination" = json_remove("destination", '$.phone') WHERE json_type("destination", '$.phone') = 'text' AND TRIM(json_extract("destination", '$.phone')) = '';
UPDATE "shipments" SET "destination" = json_remove("destination", '$.email') WHERE json_type("destination", '$.email') = 'text' AND TRIM(json_extract("destination", '$.email')) = '';
UPDATE "tracking_events" SET "location" = json_remove("location", '$.city') WHERE json_type("location", '$.city') = 'text' AND TRIM(json_extract("location", '$.city')) = '';
UPDATE "tracking_events" SET "location" = json_remove("location", '$.region') WHERE json_type("location", '$.region') = 'text' AND TRIM(json_extract("location", '$.region')) = '';
UPDATE "tracking_events" SET "location" = json_remove("location", '$.postalCode') WHERE json_type("location", '$.postalCode') = 'text' AND TRIM(json_extract("location", '$.postalCode')) = '';
UPDATE "tracking_events" SET "location" = json_remove("location", '$.countryCode') WHERE json_type("location", '$.countryCode') = 'text' AND TRIM(json_extract("location", '$.countryCode')) = '';
UPDATE "tracking_events" SET "location" = NULL WHERE json_type("location") IN ('null', 'object') AND (json_type("location") = 'null' OR NOT EXISTS (SELECT 1 FROM json_each("location")));

-- +goose Down
-- nothing to reverse: absent stays absent.
