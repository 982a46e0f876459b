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
UPDATE "shipments" SET "origin" = "origin" - 'company' WHERE jsonb_typeof("origin") = 'object' AND TRIM("origin" ->> 'company') = '';
UPDATE "shipments" SET "origin" = "origin" - 'line2' WHERE jsonb_typeof("origin") = 'object' AND TRIM("origin" ->> 'line2') = '';
UPDATE "shipments" SET "origin" = "origin" - 'region' WHERE jsonb_typeof("origin") = 'object' AND TRIM("origin" ->> 'region') = '';
UPDATE "shipments" SET "origin" = "origin" - 'phone' WHERE jsonb_typeof("origin") = 'object' AND TRIM("origin" ->> 'phone') = '';
UPDATE "shipments" SET "origin" = "origin" - 'email' WHERE jsonb_typeof("origin") = 'object' AND TRIM("origin" ->> 'email') = '';
UPDATE "shipments" SET "destination" = "destination" - 'company' WHERE jsonb_typeof("destination") = 'object' AND TRIM("destination" ->> 'company') = '';
UPDATE "shipments" SET "destination" = "destination" - 'line2' WHERE jsonb_typeof("destination") = 'object' AND TRIM("destination" ->> 'line2') = '';
UPDATE "shipments" SET "destination" = "destination" - 'region' WHERE jsonb_typeof("destination") = 'object' AND TRIM("destination" ->> 'region') = '';
UPDATE "shipments" SET "destination" = "destination" - 'phone' WHERE jsonb_typeof("destination") = 'object' AND TRIM("destination" ->> 'phone') = '';
UPDATE "shipments" SET "destination" = "destination" - 'email' WHERE jsonb_typeof("destination") = 'object' AND TRIM("destination" ->> 'email') = '';
UPDATE "tracking_events" SET "location" = "location" - 'city' WHERE jsonb_typeof("location") = 'object' AND TRIM("location" ->> 'city') = '';
UPDATE "tracking_events" SET "location" = "location" - 'region' WHERE jsonb_typeof("location") = 'object' AND TRIM("location" ->> 'region') = '';
UPDATE "tracking_events" SET "location" = "location" - 'postalCode' WHERE jsonb_typeof("location") = 'object' AND TRIM("location" ->> 'postalCode') = '';
UPDATE "tracking_events" SET "location" = "location" - 'countryCode' WHERE jsonb_typeof("location") = 'object' AND TRIM("location" ->> 'countryCode') = '';
UPDATE "tracking_events" SET "location" = NULL WHERE "location" = 'null'::jsonb OR "location" = '{}'::jsonb;

-- +goose Down
-- nothing to reverse: absent stays absent.
