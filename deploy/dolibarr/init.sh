#!/bin/bash
# First start of the demo Dolibarr database (docker-entrypoint-initdb.d): the
# read-only user the API connects as. The tables and demo rows are created
# by `shipmentapp dolibarr seed-demo` (compose's dolibarr-seed service), as
# dolibarr_admin; a real Dolibarr only needs this GRANT.
set -euo pipefail
mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" <<SQL
CREATE USER IF NOT EXISTS 'readonly_user'@'%' IDENTIFIED BY '${READONLY_PASSWORD}';
GRANT SELECT ON dolibarr.* TO 'readonly_user'@'%';
SQL
