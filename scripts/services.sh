#!/usr/bin/env bash
# Starts the services the tests need (MariaDB on :3306, PostgreSQL on :5432)
# when they are not answering, installing them from Debian's packages if they
# are missing. Idempotent: running services are left alone.
set -euo pipefail

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

if ! answering 3306; then
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || install mariadb-server
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB 3306
  # Tests connect as root without a password over TCP.
  as_root mariadb -e "SELECT 1" >/dev/null
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
echo "services ready"
