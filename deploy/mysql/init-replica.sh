#!/bin/bash
# First start of the replica (docker-entrypoint-initdb.d): its own users (the
# app's read-only user, the exporter), then replication from the primary.
# Everything the primary did before now (its own first-start users and
# database) is marked as applied, so only what follows replicates: the
# migrations, which run after this replica is healthy (compose.yaml).
set -euo pipefail
root() { mysql -uroot -p"$MYSQL_ROOT_PASSWORD"; }
primary() { mysql -h mysql-primary -uroot -p"$MYSQL_ROOT_PASSWORD" -N -B "$@"; }
for _ in $(seq 1 60); do primary -e "SELECT 1" >/dev/null 2>&1 && break; sleep 2; done
executed=$(primary -e "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
root <<SQL
CREATE USER IF NOT EXISTS 'app_reader'@'%' IDENTIFIED BY '${READER_PASSWORD}';
GRANT SELECT ON shipmentapp.* TO 'app_reader'@'%';
CREATE USER IF NOT EXISTS 'exporter'@'localhost' IDENTIFIED BY '${EXPORTER_PASSWORD}' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'localhost';
RESET BINARY LOGS AND GTIDS;
SET GLOBAL gtid_purged = '${executed}';
CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'mysql-primary', SOURCE_PORT = 3306,
  SOURCE_USER = 'repl', SOURCE_PASSWORD = '${REPLICATION_PASSWORD}',
  SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 10;
START REPLICA;
SET PERSIST read_only = ON;
SET PERSIST super_read_only = ON;
SQL
