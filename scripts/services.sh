#!/usr/bin/env bash
# Starts the services the tests need when they are not answering, installing
# them from Debian's packages if they are missing: MariaDB on :3306 (with its
# binary log on, as a replication primary), a second MariaDB on :3307 as a
# real binlog replica of it, PostgreSQL on :5432, Redis on :6379,
# memcached on :11211 and an S3-compatible server (versitygw) on :7070; and
# the programs the deploy/ tests run: nginx, HAProxy, promtool, amtool,
# Chromium (the playground's browser test), age (config backups).
# Idempotent: running services are left alone.
#
#   scripts/services.sh              start what is not running
#   scripts/services.sh stop-replica stop the :3307 replica (its data is kept)
set -euo pipefail

REPLICA_DIR=${REPLICA_DIR:-/var/lib/mysql-replica}
REPLICA_SOCK=/run/mysqld/mysqld-replica.sock
REPLICA_PID=/run/mysqld/mysqld-replica.pid

answering() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    answering "$port" && { echo "$name is answering on :$port"; return 0; }
    sleep 1
  done
  echo "$name did not start on :$port" >&2
  return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

primary() { mariadb -uroot -h127.0.0.1 -P3306 -N -B "$@"; }
replica() { mariadb -uroot --socket="$REPLICA_SOCK" -N -B "$@"; }
# Both threads: a statement the replica could not apply stops the SQL thread,
# and the replica is then pointed at the primary's current position again
# (it only serves tests, whose databases are made after that).
replicating() {
  local st
  st=$(mariadb -uroot --socket="$REPLICA_SOCK" -e "SHOW SLAVE STATUS\G")
  grep -q "Slave_IO_Running: Yes" <<<"$st" && grep -q "Slave_SQL_Running: Yes" <<<"$st"
}

if [ "${1:-}" = stop-replica ]; then
  if answering 3307; then
    replica -e "SHUTDOWN" || true
    for _ in $(seq 1 30); do answering 3307 || break; sleep 1; done
  fi
  echo "replica stopped"
  exit 0
fi

if ! answering 3306; then
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || install mariadb-server
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  # --pidfile: the replica is a mariadbd process too.
  as_root start-stop-daemon --start --oknodo --background --pidfile /run/mysqld/mysqld.pid --exec /usr/sbin/mariadbd
  wait_for MariaDB 3306
  # Tests connect as root without a password over TCP.
  as_root mariadb -e "SELECT 1" >/dev/null
fi

# The primary needs its binary log for the replica. Turning it on means a
# restart of the MariaDB on :3306 (once; the setting is kept in a config file).
if [ "$(primary -e 'SELECT @@log_bin')" != 1 ]; then
  echo "restarting MariaDB on :3306 with its binary log on"
  conf=/etc/mysql/conf.d/shipmentapp-primary.cnf
  [ -d /etc/mysql/conf.d ] || mkdir -p /etc/mysql/conf.d
  printf '[mysqld]\nlog-bin=mariadb-bin\nserver-id=1\nbinlog-format=ROW\nexpire-logs-days=1\n' > "$conf"
  grep -q '^!includedir /etc/mysql/conf.d' /etc/mysql/my.cnf || printf '\n!includedir /etc/mysql/conf.d/\n' >> /etc/mysql/my.cnf
  pid=$(cat /run/mysqld/mysqld.pid 2>/dev/null || true)
  primary -e "SHUTDOWN"
  for _ in $(seq 1 120); do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then sleep 1; else break; fi
  done
  as_root start-stop-daemon --start --oknodo --background --pidfile /run/mysqld/mysqld.pid --exec /usr/sbin/mariadbd
  wait_for MariaDB 3306
  [ "$(primary -e 'SELECT @@log_bin')" = 1 ] || { echo "binary log still off on :3306" >&2; exit 1; }
fi
# Test runs write a lot of binary log: keep one day of it.
primary -e "SET GLOBAL expire_logs_days = 1"
primary -e "CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';"

if ! answering 3307; then
  if [ ! -d "$REPLICA_DIR/mysql" ]; then
    mkdir -p "$REPLICA_DIR" && chown mysql:mysql "$REPLICA_DIR"
    mariadb-install-db --no-defaults --user=mysql --datadir="$REPLICA_DIR" --auth-root-authentication-method=normal >/dev/null
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  # Only the databases of the replication tests (sa_rep...) are replicated, so
  # the other databases of the primary never break the replica.
  as_root start-stop-daemon --start --background --pidfile "$REPLICA_PID" --exec /usr/sbin/mariadbd -- \
    --no-defaults --user=mysql --datadir="$REPLICA_DIR" --port=3307 --bind-address=127.0.0.1 \
    --socket="$REPLICA_SOCK" --pid-file="$REPLICA_PID" --server-id=2 --skip-name-resolve \
    --relay-log=replica-relay --replicate-wild-do-table='sa\_rep%.%' \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --log-error=/var/log/mysql/replica.log
  wait_for "MariaDB replica" 3307
  replica -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
fi
if ! replicating; then
  read -r file pos _ <<<"$(primary -e 'SHOW MASTER STATUS')"
  replica -e "STOP SLAVE; RESET SLAVE ALL; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_LOG_FILE='$file', MASTER_LOG_POS=$pos; START SLAVE;"
  for _ in $(seq 1 30); do
    replicating && break
    sleep 1
  done
  replicating || { echo "replica does not replicate" >&2; mariadb -uroot --socket="$REPLICA_SOCK" -e "SHOW SLAVE STATUS\G" >&2; exit 1; }
  echo "MariaDB :3307 replicates :3306 from $file:$pos"
fi

if ! answering 5432; then
  command -v pg_ctlcluster >/dev/null || install postgresql
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  wait_for PostgreSQL 5432
fi

if ! answering 6379; then
  command -v redis-server >/dev/null || install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis 6379
fi
if ! answering 11211; then
  command -v memcached >/dev/null || install memcached
  memcached -d -u memcache -l 127.0.0.1 -p 11211 -m 64
  wait_for memcached 11211
fi
# An S3-compatible server for the file storage tests: versitygw over a
# directory, with the credentials the tests use (internal/testutil).
if ! answering 7070; then
  vgw="$(go env GOPATH)/bin/versitygw"
  if [ ! -x "$vgw" ]; then
    echo "installing versitygw (an S3 gateway; about 2 minutes to build)"
    GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
  fi
  mkdir -p /var/lib/versitygw /var/log
  ROOT_ACCESS_KEY_ID=${TEST_S3_ACCESS_KEY:-shipmentapp} ROOT_SECRET_ACCESS_KEY=${TEST_S3_SECRET_KEY:-shipmentapp-secret} \
    setsid "$vgw" --port 127.0.0.1:7070 posix /var/lib/versitygw >>/var/log/versitygw.log 2>&1 < /dev/null &
  wait_for "versitygw (S3)" 7070
fi
# Programs of the deploy/ checks and tests, from Debian's packages.
missing=()
for pair in shellcheck:shellcheck nginx:nginx haproxy:haproxy promtool:prometheus amtool:prometheus-alertmanager chromium:chromium age:age mariadb-dump:mariadb-client pg_dump:postgresql-client sqlite3:sqlite3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  as_root apt-get update -qq
  # --no-install-recommends: Prometheus's and Alertmanager's packages would
  # otherwise pull in exporters; nothing here starts a daemon.
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "services ready"
