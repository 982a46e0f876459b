-- Builds the rest of schema `peer`, the data PostGraphile v5 serves in the
-- issue 9 benchmarks, from the app's tables in schema public.
--
-- Runs after the seeder (bench/cmd/benchseed), which fills public and
-- creates peer.countries(id, code, label) and peer.customers(id, name,
-- country_id):
--
--   psql "$DSN" -v ON_ERROR_STOP=1 -f bench/postgraphile/schema.sql
--
-- Idempotent: drops and recreates peer.shipments, peer.tracking_events and
-- peer.files (never the seeder's peer.customers/peer.countries).
--
-- Why copies, not views: PostGraphile reads primary keys, foreign keys,
-- NOT NULL and indexes from the catalog. On tables it gets them as they are,
-- without smart tags, and the indexes are the very ones the app's migrations
-- make (same columns, same order), so both servers' queries have the same
-- access paths. The columns have the app's types (jsonb stays jsonb).
\set ON_ERROR_STOP 1

BEGIN;

CREATE SCHEMA IF NOT EXISTS peer;

DROP TABLE IF EXISTS peer.files, peer.tracking_events, peer.shipments CASCADE;

-- LIKE copies the columns, their types and NOT NULL (and defaults); the keys
-- and indexes are made below, after the rows are in.
CREATE TABLE peer.shipments (LIKE public.shipments INCLUDING DEFAULTS);
CREATE TABLE peer.tracking_events (LIKE public.tracking_events INCLUDING DEFAULTS);
CREATE TABLE peer.files (LIKE public.files INCLUDING DEFAULTS);

INSERT INTO peer.shipments SELECT * FROM public.shipments;
INSERT INTO peer.tracking_events SELECT * FROM public.tracking_events;
INSERT INTO peer.files SELECT * FROM public.files;

-- shipments: as migrations/postgres/20261122002232_init.sql
ALTER TABLE peer.shipments ADD PRIMARY KEY (id);
ALTER TABLE peer.shipments
  ADD CONSTRAINT shipments_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES peer.customers (id);
CREATE UNIQUE INDEX shipment_carrier_tracking_number ON peer.shipments (carrier, tracking_number);
CREATE INDEX shipment_created_at ON peer.shipments (created_at);
CREATE INDEX shipment_customer_id_created_at ON peer.shipments (customer_id, created_at);
CREATE INDEX shipment_status_created_at ON peer.shipments (status, created_at);
-- The app has a unique index; a unique constraint (same index underneath) is
-- what gives PostGraphile its shipmentByReference(reference:) field.
ALTER TABLE peer.shipments ADD CONSTRAINT shipments_reference_key UNIQUE (reference);

-- tracking_events: as 20261122002232_init.sql and 20261122042012_event_seq.sql
ALTER TABLE peer.tracking_events ADD PRIMARY KEY (id);
ALTER TABLE peer.tracking_events
  ADD CONSTRAINT tracking_events_shipments_events FOREIGN KEY (shipment_id) REFERENCES peer.shipments (id);
CREATE INDEX trackingevent_shipment_id_occurred_at ON peer.tracking_events (shipment_id, occurred_at);
CREATE UNIQUE INDEX tracking_events_seq_key ON peer.tracking_events (seq);

-- files: as 20261122021512_add_files.sql
ALTER TABLE peer.files ADD PRIMARY KEY (id);
ALTER TABLE peer.files
  ADD CONSTRAINT files_shipments_files FOREIGN KEY (shipment_id) REFERENCES peer.shipments (id);
CREATE INDEX file_shipment_id_uploaded_at ON peer.files (shipment_id, uploaded_at);
CREATE UNIQUE INDEX files_storage_key_key ON peer.files (storage_key);

-- Field names closer to the app's (Shipment.events, Shipment.files); the
-- relations themselves come from the foreign keys.
COMMENT ON CONSTRAINT tracking_events_shipments_events ON peer.tracking_events IS
  E'@foreignFieldName events\n@fieldName shipment';
COMMENT ON CONSTRAINT files_shipments_files ON peer.files IS
  E'@foreignFieldName files\n@fieldName shipment';
COMMENT ON CONSTRAINT shipments_customer_id_fkey ON peer.shipments IS
  E'@foreignFieldName shipments\n@fieldName customer';

COMMIT;

-- Fresh statistics and visibility maps on both sides, so that neither server
-- reads a table the other has had vacuumed (index-only scans) or analyzed.
VACUUM (ANALYZE) public.shipments, public.tracking_events, public.files;
VACUUM (ANALYZE) peer.shipments, peer.tracking_events, peer.files, peer.customers, peer.countries;
