-- +goose Up
-- modify "tracking_events" table
ALTER TABLE "tracking_events" ADD COLUMN "seq" bigint NULL;
-- existing events keep their order: seq = id
UPDATE "tracking_events" SET "seq" = "id";
ALTER TABLE "tracking_events" ALTER COLUMN "seq" SET NOT NULL;
-- create index "tracking_events_seq_key" to table: "tracking_events"
CREATE UNIQUE INDEX "tracking_events_seq_key" ON "tracking_events" ("seq");
-- create "sequences" table
CREATE TABLE "sequences" ("id" character varying NOT NULL, "value" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- the sequence continues after the existing events
INSERT INTO "sequences" ("id", "value") SELECT 'tracking_events', COALESCE(MAX("seq"), 0) FROM "tracking_events";

-- +goose Down
-- reverse: create "sequences" table
DROP TABLE "sequences";
-- reverse: create index "tracking_events_seq_key" to table: "tracking_events"
DROP INDEX "tracking_events_seq_key";
-- reverse: modify "tracking_events" table
ALTER TABLE "tracking_events" DROP COLUMN "seq";
