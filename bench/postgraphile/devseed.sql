-- Stand-in for bench/cmd/benchseed, for developing and checking the
-- PostGraphile peer alone, in a scratch database whose schema public was made
-- by the Up sections of migrations/postgres/*.sql (see README.md). It fills
-- public.shipments/tracking_events/files and creates peer.countries and
-- peer.customers as the seeder does. Never run it on the benchmark database.
\set ON_ERROR_STOP 1
BEGIN;
TRUNCATE public.files, public.tracking_events, public.shipments RESTART IDENTITY;
CREATE SCHEMA IF NOT EXISTS peer;
DROP TABLE IF EXISTS peer.customers CASCADE;
DROP TABLE IF EXISTS peer.countries CASCADE;
CREATE TABLE peer.countries (id int PRIMARY KEY, code text, label text);
CREATE TABLE peer.customers (id bigint PRIMARY KEY, name text, country_id int REFERENCES peer.countries);
INSERT INTO peer.countries
SELECT i, c.code, c.label
FROM unnest(ARRAY['FR','DE','BE','ES','IT','NL','PT','GB','CH','AT'],
            ARRAY['France','Germany','Belgium','Spain','Italy','Netherlands','Portugal','United Kingdom','Switzerland','Austria'])
     WITH ORDINALITY AS c(code, label, i);
INSERT INTO peer.customers
SELECT i, 'Customer ' || i, CASE WHEN i % 17 = 0 THEN NULL ELSE 1 + i % 10 END
FROM generate_series(1, 500) i;

INSERT INTO public.shipments (reference, customer_id, status, carrier, service_level, tracking_number,
  origin, destination, parcels, estimated_delivery_at, delivered_at, version, created_at, updated_at, created_by, updated_by)
SELECT format('BENCH-%s', lpad(i::text, 6, '0')), 1 + i % 500,
  (ARRAY['DRAFT','LABEL_CREATED','IN_TRANSIT','OUT_FOR_DELIVERY','DELIVERED','EXCEPTION'])[1 + i % 6],
  'DHL', 'express', 'TRK' || i,
  jsonb_build_object('name','Warehouse','company','ACME','line1','1 rue de la Paix','city','Paris','postalCode','75002','countryCode','FR'),
  jsonb_build_object('name','Client ' || i,'line1', i || ' Main Street','line2','Floor 2','city','Lyon','postalCode','69001','countryCode','FR'),
  jsonb_build_array(jsonb_build_object('weightGrams',1000 + i % 900,'lengthMm',300,'widthMm',200,'heightMm',100)),
  now() + interval '2 days', NULL, 1,
  timestamptz '2026-01-01' + i * interval '7 minutes', timestamptz '2026-01-01' + i * interval '7 minutes', 'seed', 'seed'
FROM generate_series(1, 20000) i;

INSERT INTO public.tracking_events (status, occurred_at, description, location, source, created_at, created_by, shipment_id, seq)
SELECT (ARRAY['LABEL_CREATED','IN_TRANSIT','IN_TRANSIT','OUT_FOR_DELIVERY','DELIVERED','IN_TRANSIT'])[e],
  s.created_at + e * interval '3 hours', 'scan ' || e,
  jsonb_build_object('city','Lyon','countryCode','FR'), 'api', s.created_at + e * interval '3 hours', 'seed', s.id,
  (s.id - 1) * 6 + e
FROM public.shipments s, generate_series(1, 6) e;

INSERT INTO public.files (kind, name, content_type, size, sha256, storage_key, uploaded_at, uploaded_by, shipment_id)
SELECT CASE WHEN f = 1 THEN 'LABEL' ELSE 'INVOICE' END, format('file-%s-%s.pdf', s.id, f), 'application/pdf', 12345,
  md5(s.id || '-' || f), format('k/%s/%s', s.id, f), s.created_at + f * interval '1 minute', 'seed', s.id
FROM public.shipments s, generate_series(1, 1 + s.id % 2) f;
COMMIT;
ANALYZE;
