#!/usr/bin/env bash
# make bench (issues 9 and 17): seeds a private PostgreSQL cluster (started
# here, pg_stat_statements loaded) and MariaDB (main database on the primary,
# read by the app through its replica; Dolibarr on the primary), then runs
# shipmentapp, the PostGraphile v5 peer and the hand-written ceiling one at a
# time, each straight on its database (no proxy in the request path), and
# drives them from benchload, a separate process on loopback. For every
# database, system and workload: maximum throughput (closed loop,
# BENCH_CONCURRENCY workers), then the latency at a fixed offered load (open
# loop) of half the maximum of the first system run on that database
# (PostGraphile on PostgreSQL, the app on MariaDB), the same rate for every
# system; writing workloads run last. Statements per request come from
# pg_stat_statements (each system connects as its own role) or, on MariaDB,
# from the app's counter and the ceiling's /stats; CPU per request is the
# server's process tree plus the database processes that served it.
# Results: bench/results/<UTC date>/ (one JSON per run, idle.json,
# table.md), docs/bench.svg.
#
# PostgreSQL runs: (a) (b) on the three systems, (c) (d) (e) on the app.
# MariaDB runs: (a) (b) on the app and the ceiling, (c) on the app
# (PostGraphile has no MariaDB support).
#
# Environment: BENCH_DURATION (20s), BENCH_WARMUP (5s), BENCH_CONCURRENCY (32),
# BENCH_QUICK=1 (a smoke run: 3s after 1s, C=8), BENCH_SYSTEMS ("app peer
# ceiling"), BENCH_DATABASES ("postgres mariadb"), BENCH_PIN (a CPU list for
# taskset -c: pins the load generator; default: not pinned),
# BENCH_PG_BIN (PostgreSQL's server programs: the newest
# /usr/lib/postgresql/*/bin), BENCH_PG_PORT (15432), BENCH_PGDATA (keep the
# private cluster in this directory instead of a temporary one; with
# BENCH_SKIP_SEED=1 its data is reused), BENCH_MYSQL (the MariaDB primary,
# root@tcp(127.0.0.1:3306): the main database and Dolibarr), BENCH_MYSQL_REPLICA
# (its replica, root@tcp(127.0.0.1:3307)), BENCH_MYSQL_DB
# (sa_rep_shipmentapp_bench: scripts/services.sh's replica replicates the
# databases named sa_rep* only), BENCH_DOLIBARR_DB (shipmentapp_bench_dolibarr),
# BENCH_SKIP_SEED=1 (reuse the seeded databases), BENCH_OUT (results
# directory), BENCH_SVG (chart file).
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${BENCH_DURATION:-20s}"
warmup="${BENCH_WARMUP:-5s}"
conc="${BENCH_CONCURRENCY:-32}"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  duration="${BENCH_DURATION:-3s}"
  warmup="${BENCH_WARMUP:-1s}"
  conc="${BENCH_CONCURRENCY:-8}"
fi
read -r -a systems <<<"${BENCH_SYSTEMS:-app peer ceiling}"
read -r -a databases <<<"${BENCH_DATABASES:-postgres mariadb}"
pg_port="${BENCH_PG_PORT:-15432}"
mysql="${BENCH_MYSQL:-root@tcp(127.0.0.1:3306)}"
replica="${BENCH_MYSQL_REPLICA:-root@tcp(127.0.0.1:3307)}"
db=shipmentapp_bench
mysql_db="${BENCH_MYSQL_DB:-sa_rep_shipmentapp_bench}"
dolibarr_db="${BENCH_DOLIBARR_DB:-shipmentapp_bench_dolibarr}"
dolibarr_dsn="$mysql/$dolibarr_db"
out="${BENCH_OUT:-bench/results/$(date -u +%Y-%m-%d)}"
svg="${BENCH_SVG:-docs/bench.svg}"
key_file=bench/.key # benchseed writes the MariaDB database's key to $key_file.mysql

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for s in "${systems[@]}"; do
  case "$s" in app | peer | ceiling) ;; *) die "unknown system $s (BENCH_SYSTEMS: app peer ceiling)" ;; esac
done
use_mariadb=0
for d in "${databases[@]}"; do
  case "$d" in
  postgres) ;;
  mariadb) use_mariadb=1 ;;
  *) die "unknown database $d (BENCH_DATABASES: postgres mariadb)" ;;
  esac
done

# mysql_part DSN FIELD: user, password, host or port of a go-sql-driver DSN
# prefix user[:password]@tcp(host:port).
mysql_part() {
  local re='^([^:@]+)(:([^@]*))?@tcp\(([^:()]+):([0-9]+)\)$'
  [[ "$1" =~ $re ]] || die "$1: want user[:password]@tcp(host:port)"
  case "$2" in
  user) echo "${BASH_REMATCH[1]}" ;;
  password) echo "${BASH_REMATCH[3]}" ;;
  host) echo "${BASH_REMATCH[4]}" ;;
  port) echo "${BASH_REMATCH[5]}" ;;
  esac
}
# my DSN ARGS...: the mariadb client on the server of DSN, batch mode.
my() {
  local dsn="$1"
  shift
  MYSQL_PWD="$(mysql_part "$dsn" password)" mariadb --protocol=tcp -h "$(mysql_part "$dsn" host)" \
    -P "$(mysql_part "$dsn" port)" -u "$(mysql_part "$dsn" user)" -N -B "$@"
}

# Checked here, in this shell: a die in $(mysql_part ...) would only leave
# the command substitution.
for dsn in "$mysql" "$replica"; do mysql_part "$dsn" host >/dev/null; done
if [ -n "${BENCH_PG:-}" ]; then
  log "BENCH_PG is ignored: the benchmark runs its own PostgreSQL cluster (BENCH_PG_PORT, BENCH_PG_BIN, BENCH_PGDATA)"
fi

mkdir -p "$out" bin
pg_bin="${BENCH_PG_BIN:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}"
for p in initdb pg_ctl postgres; do
  [ -x "$pg_bin/$p" ] || die "no PostgreSQL server program $p in '$pg_bin' (BENCH_PG_BIN; Debian: apt-get install postgresql)"
done
pg_admin="postgres://root@127.0.0.1:$pg_port"
# Set before the trap, made after it.
work="" pg_root="" keep_pg=1 pg_started=0 load_pid=""

# PostgreSQL refuses to run as root: as root, its programs run as the
# postgres user, which owns the cluster's directory.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a postgres user for the private cluster"
  as_pg=(runuser -u postgres --)
fi

# Ports of the servers under test; each runs alone (started before its
# runs, stopped after them), so the database CPU of a window is its own.
app_port=18080 peer_port=18081 ceiling_port=18082
declare -A target=(
  [app]="http://127.0.0.1:$app_port/graphql"
  [peer]="http://127.0.0.1:$peer_port/graphql"
  [ceiling]="http://127.0.0.1:$ceiling_port/graphql"
)
declare -A pid=()
started=()

stop_group() {
  local p="$1"
  # each service runs in its own session (setsid): stop its group
  kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

cleanup() {
  local p
  if [ -n "$load_pid" ]; then kill -TERM "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; fi
  for p in "${started[@]}"; do stop_group "$p"; done
  if [ "$pg_started" = 1 ] && [ -f "$pg_data/postmaster.pid" ]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      log "could not stop the private PostgreSQL cluster in $pg_data"
  fi
  if [ "$keep_pg" = 0 ] && [ -n "$pg_root" ]; then rm -rf "$pg_root"; fi
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

work="$(mktemp -d)"
if [ -n "${BENCH_PGDATA:-}" ]; then
  pg_root="$(realpath -m "$BENCH_PGDATA")"
else
  keep_pg=0
  pg_root="$(mktemp -d "${TMPDIR:-/tmp}/shipmentapp-bench-pg.XXXXXX")"
fi
pg_data="$pg_root/data"

# start NAME CMD...: runs CMD in a session of its own, logs in $work/NAME.log.
start() {
  local name="$1"
  shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pid[$name]=$!
  started+=("$!")
}

# stop NAME: stops what start NAME started.
stop() {
  local p="${pid[$1]}" keep=() q
  stop_group "$p"
  for q in "${started[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  started=("${keep[@]}")
  unset "pid[$1]"
}

# wait_http URL NAME: until URL answers (any HTTP status), 60 s at most.
wait_http() {
  for _ in $(seq 600); do
    if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
    if ! kill -0 "${pid[$2]}" 2>/dev/null; then
      log "$2 exited:"; tail -n 30 "$work/$2.log" >&2; exit 1
    fi
    sleep 0.1
  done
  log "$2 did not answer on $1:"; tail -n 30 "$work/$2.log" >&2; exit 1
}

# rss_tree PID: VmRSS in bytes of PID and its descendants.
rss_tree() {
  local total=0 p kb
  local todo=("$1")
  while [ "${#todo[@]}" -gt 0 ]; do
    p="${todo[0]}"
    todo=("${todo[@]:1}")
    kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)"
    total=$((total + ${kb:-0} * 1024))
    # shellcheck disable=SC2207
    todo+=($(pgrep -P "$p" || true))
  done
  echo "$total"
}

# mysqld_pid DSN: the process id of the MariaDB server of DSN, when it runs
# on this machine (empty otherwise: its CPU cannot be read).
mysqld_pid() {
  local f p
  f="$(my "$1" -e 'SELECT @@pid_file')" || return 0
  p="$(cat "$f" 2>/dev/null || true)"
  if [[ "$p" =~ ^[0-9]+$ ]] && [ -r "/proc/$p/stat" ]; then echo "$p"; fi
}

log "building (go build -trimpath)"
go build -trimpath -o bin/shipmentapp .
for t in benchload benchchart benchseed benchceiling; do
  go build -trimpath -o "bin/$t" "./bench/cmd/$t"
done

# --- MariaDB: the primary (Dolibarr, and the main database of the MariaDB
# runs) and, for those runs, its replica.
my "$mysql" -e 'SELECT 1' >/dev/null || die "MariaDB $mysql does not answer (make services)"
mysql_pid="$(mysqld_pid "$mysql")"
if [ "$use_mariadb" = 1 ]; then
  st="$(my "$replica" --column-names -e 'SHOW SLAVE STATUS\G' 2>/dev/null)" ||
    die "the MariaDB replica $replica does not answer: scripts/services.sh (make services) starts it; or BENCH_DATABASES=postgres"
  if ! grep -q 'Slave_IO_Running: Yes' <<<"$st" || ! grep -q 'Slave_SQL_Running: Yes' <<<"$st"; then
    die "the MariaDB replica $replica does not replicate (scripts/services.sh repairs it)"
  fi
  replica_pid="$(mysqld_pid "$replica")"
fi

# --- The private PostgreSQL cluster: no other client, its own port,
# pg_stat_statements counting every statement (nested ones too).
if [ ! -f "$pg_data/PG_VERSION" ]; then
  [ "${BENCH_SKIP_SEED:-0}" != 1 ] || die "BENCH_SKIP_SEED=1 needs an existing cluster in BENCH_PGDATA"
  mkdir -p "$pg_data"
  if [ "${#as_pg[@]}" -gt 0 ]; then chown -R postgres: "$pg_root"; fi
  chmod 700 "$pg_data"
  log "initdb $pg_data ($("$pg_bin/postgres" --version))"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -U root -A trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 ||
    { tail -n 20 "$work/initdb.log" >&2; die "initdb failed"; }
  printf "\n# bench/run.sh writes bench.conf before every start\ninclude 'bench.conf'\n" >>"$pg_data/postgresql.conf"
fi
# Settings as the shared server's (PostgreSQL 15 defaults, autovacuum off,
# UTC), plus pg_stat_statements.
cat >"$pg_data/bench.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_root'
max_connections = 100
shared_buffers = 128MB
autovacuum = off
timezone = 'UTC'
log_timezone = 'UTC'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 10000
EOF
log "starting the private PostgreSQL cluster on 127.0.0.1:$pg_port"
pg_started=1
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_root/postgres.log" -w -t 60 start >/dev/null ||
  { tail -n 20 "$pg_root/postgres.log" >&2; die "the private PostgreSQL cluster did not start"; }
postmaster_pid="$(head -n 1 "$pg_data/postmaster.pid")"
psql_admin() { psql "$pg_admin/postgres?sslmode=disable" -X -q -v ON_ERROR_STOP=1 "$@"; }
# One role per system: pg_stat_statements counts each one's statements by
# its userid. Superusers, so that they read and write what root seeded.
psql_admin -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
for s in app peer ceiling; do
  psql_admin -c "DO \$\$ BEGIN CREATE ROLE bench_$s LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null
done

if [ "${BENCH_SKIP_SEED:-0}" != 1 ]; then
  seed_args=(-pg "$pg_admin/$db?sslmode=disable" -dolibarr "$dolibarr_dsn" -key-file "$key_file")
  if [ "$use_mariadb" = 1 ]; then seed_args+=(-mysql "$mysql/$mysql_db"); fi
  log "seeding $db (private cluster), $dolibarr_db$([ "$use_mariadb" = 1 ] && echo " and $mysql_db") (MariaDB)"
  bin/benchseed "${seed_args[@]}"
  psql "$pg_admin/$db?sslmode=disable" -X -q -v ON_ERROR_STOP=1 -f bench/postgraphile/schema.sql >/dev/null
fi
if [ "$use_mariadb" = 1 ]; then
  # The replica must hold the seeded data before the app reads from it.
  read -r file pos _ <<<"$(my "$mysql" -e 'SHOW MASTER STATUS')"
  [ -n "${pos:-}" ] || die "MariaDB $mysql has no binary log: it cannot be replicated (scripts/services.sh turns it on)"
  r="$(my "$replica" -e "SELECT MASTER_POS_WAIT('$file', $pos, 120)")"
  # MASTER_POS_WAIT: events waited for (>= 0), -1 on timeout, NULL when
  # the replica does not replicate.
  [[ "$r" =~ ^[0-9]+$ ]] || die "the replica did not catch up with $file:$pos (MASTER_POS_WAIT: $r)"
  n_primary="$(my "$mysql" -e "SELECT COUNT(*) FROM \`$mysql_db\`.tracking_events")"
  n_replica="$(my "$replica" -e "SELECT COUNT(*) FROM \`$mysql_db\`.tracking_events" 2>/dev/null || echo none)"
  [ "$n_primary" = "$n_replica" ] ||
    die "the replica has $n_replica tracking events of $mysql_db, the primary $n_primary: does the replica replicate $mysql_db? (scripts/services.sh: sa_rep* only)"
fi

pin=()
if [ -n "${BENCH_PIN:-}" ] && command -v taskset >/dev/null; then
  pin=(taskset -c "$BENCH_PIN")
fi

# start_system DATABASE SYSTEM: starts the system on the database, waits
# until it answers, records its idle RSS and the database processes that
# serve it (db_pids).
declare -A idle=()
db_pids=""
start_system() {
  local d="$1" s="$2"
  case "$d/$s" in
  postgres/app)
    start app env \
      APP_ENV=staging APP_ADDR="127.0.0.1:$app_port" APP_URL="http://127.0.0.1:$app_port" APP_DATA_DIR="$work/app-data" \
      LOG_LEVEL=warn FILE_SIGNING_KEY="bench-signing-key-$(date +%s)-0123456789abcdef" \
      DB_CONNECTION=pgsql DB_HOST=127.0.0.1 DB_PORT="$pg_port" DB_DATABASE="$db" DB_USERNAME=bench_app DB_SSLMODE=disable \
      DOLIBARR_DB_CONNECTION=mysql DOLIBARR_DB_HOST="$(mysql_part "$mysql" host)" DOLIBARR_DB_PORT="$(mysql_part "$mysql" port)" \
      DOLIBARR_DB_DATABASE="$dolibarr_db" DOLIBARR_DB_USERNAME="$(mysql_part "$mysql" user)" DOLIBARR_DB_PASSWORD="$(mysql_part "$mysql" password)" \
      CACHE_DRIVER=memory PERSISTED_QUERIES=apq RATE_LIMIT_IP_PER_MINUTE=0 RATE_LIMIT_KEY_PER_MINUTE=0 \
      bin/shipmentapp serve
    wait_http "http://127.0.0.1:$app_port/livez" app
    ;;
  mariadb/app)
    start app env \
      APP_ENV=staging APP_ADDR="127.0.0.1:$app_port" APP_URL="http://127.0.0.1:$app_port" APP_DATA_DIR="$work/app-data" \
      LOG_LEVEL=warn FILE_SIGNING_KEY="bench-signing-key-$(date +%s)-0123456789abcdef" \
      DB_CONNECTION=mysql DB_HOST="$(mysql_part "$mysql" host)" DB_PORT="$(mysql_part "$mysql" port)" DB_DATABASE="$mysql_db" \
      DB_USERNAME="$(mysql_part "$mysql" user)" DB_PASSWORD="$(mysql_part "$mysql" password)" \
      DB_READ_HOST="$(mysql_part "$replica" host)" DB_READ_PORT="$(mysql_part "$replica" port)" \
      DB_READ_USERNAME="$(mysql_part "$replica" user)" DB_READ_PASSWORD="$(mysql_part "$replica" password)" \
      DOLIBARR_DB_CONNECTION=mysql DOLIBARR_DB_HOST="$(mysql_part "$mysql" host)" DOLIBARR_DB_PORT="$(mysql_part "$mysql" port)" \
      DOLIBARR_DB_DATABASE="$dolibarr_db" DOLIBARR_DB_USERNAME="$(mysql_part "$mysql" user)" DOLIBARR_DB_PASSWORD="$(mysql_part "$mysql" password)" \
      CACHE_DRIVER=memory PERSISTED_QUERIES=apq RATE_LIMIT_IP_PER_MINUTE=0 RATE_LIMIT_KEY_PER_MINUTE=0 \
      bin/shipmentapp serve
    wait_http "http://127.0.0.1:$app_port/livez" app
    ;;
  postgres/peer)
    if [ ! -d bench/postgraphile/node_modules/postgraphile ]; then
      npm ci --prefix bench/postgraphile --no-audit --no-fund >&2
    fi
    start peer bench/postgraphile/start.sh "$peer_port" "postgres://bench_peer@127.0.0.1:$pg_port/$db"
    wait_http "http://127.0.0.1:$peer_port/" peer
    ;;
  postgres/ceiling)
    start ceiling bin/benchceiling -addr "127.0.0.1:$ceiling_port" \
      -pg "postgres://bench_ceiling@127.0.0.1:$pg_port/$db?sslmode=disable" -dolibarr "$dolibarr_dsn"
    wait_http "http://127.0.0.1:$ceiling_port/stats" ceiling
    ;;
  mariadb/ceiling)
    # It reads its main database where the app reads: on the replica.
    start ceiling bin/benchceiling -addr "127.0.0.1:$ceiling_port" \
      -mysql "$replica/$mysql_db" -dolibarr "$dolibarr_dsn"
    wait_http "http://127.0.0.1:$ceiling_port/stats" ceiling
    ;;
  *) die "no $s on $d" ;;
  esac
  # Database processes whose CPU is the system's: the private cluster's
  # postmaster and its backends; the MariaDB primary (Dolibarr, and on
  # MariaDB the app's writes) and the replica (MariaDB reads).
  local pids=()
  if [ "$d" = postgres ]; then pids+=("postgres=$postmaster_pid"); fi
  if [ "$s" != peer ] && [ -n "$mysql_pid" ]; then pids+=("mariadb=$mysql_pid"); fi
  if [ "$d" = mariadb ] && [ -n "${replica_pid:-}" ]; then pids+=("mariadb-replica=$replica_pid"); fi
  db_pids="$(IFS=,; echo "${pids[*]}")"
  # Let start-up work (pools, caches, PostGraphile's introspection) settle.
  sleep 2
  idle[$d/$s]="$(rss_tree "${pid[$s]}")"
  log "$s on $d started (pid ${pid[$s]}), idle RSS $((idle[$d/$s] >> 20)) MiB, database processes: ${db_pids:-none}"
}

# load DATABASE SYSTEM WORKLOAD MODE [RATE]: one benchload run; sets rps to
# its requests/s (empty when it failed). It runs in the background and is
# waited for, so that a signal stops the script at once (cleanup stops it).
rps=""
load() {
  local d="$1" s="$2" w="$3" mode="$4" rate="${5:-0}"
  local file="$out/$d-$s-$w-$mode.json"
  local args=(-target "${target[$s]}" -workload "$w" -system "$s" -database "$d" -mode "$mode"
    -concurrency "$conc" -warmup "$warmup" -duration "$duration" -pid "${pid[$s]}"
    -out "$file" -label "$(date -u +%FT%TZ)")
  if [ -n "$db_pids" ]; then args+=(-db-pids "$db_pids"); fi
  if [ "$d" = postgres ]; then args+=(-pgss "$pg_admin/postgres?sslmode=disable" -pgss-user "bench_$s"); fi
  if [ "$mode" = rate ]; then args+=(-rate "$rate"); fi
  if [ "$s" = app ] && [ "$d" = postgres ]; then args+=(-key-file "$key_file"); fi
  if [ "$s" = app ] && [ "$d" = mariadb ]; then args+=(-key-file "$key_file.mysql"); fi
  rm -f "$file"
  "${pin[@]}" bin/benchload "${args[@]}" >&2 &
  load_pid=$!
  if ! wait "$load_pid"; then log "benchload $d/$s/$w/$mode failed (see $file)"; fi
  load_pid=""
  rps="$(sed -n 's/^ *"requestsPerSec": *\([0-9.]*\).*/\1/p' "$file" 2>/dev/null | head -n 1)"
}

# run_workload DATABASE SYSTEM WORKLOAD: the system's maximum, then its
# latency at a fixed rate: half the maximum of the first system run on this
# database for this workload (PostGraphile on PostgreSQL, the app on
# MariaDB), the same offered load for every system. Issue 17's latency
# target is set at half of PostGraphile's maximum. (d) runs its fixed rate
# at (a)'s: the CPU per request of the two is compared at one offered load.
declare -A ref_max=()
run_workload() {
  local d="$1" s="$2" w="$3" r base rate
  load "$d" "$s" "$w" max
  r="$rps"
  if [ -z "${ref_max[$d/$w]:-}" ]; then ref_max[$d/$w]="${r:-0}"; fi
  base="${ref_max[$d/$w]}"
  if [ "$w" = d ] && [ -n "${ref_max[$d/a]:-}" ]; then base="${ref_max[$d/a]}"; fi
  rate="$(awk -v m="$base" 'BEGIN { r = m / 2; if (r < 1) r = 1; printf "%.1f", r }')"
  load "$d" "$s" "$w" rate "$rate"
}

# PostGraphile first where it runs: the fixed rates are half its maxima.
ordered=()
for s in peer app ceiling; do
  if [[ " ${systems[*]} " == *" $s "* ]]; then ordered+=("$s"); fi
done
# Reads first on every system, writes last: (c) and (e) add tracking events,
# so a system measured after them would read other data. (d) right after
# (a), on the same data.
for d in "${databases[@]}"; do
  for s in "${ordered[@]}"; do
    case "$d/$s" in
    postgres/app) wls=(a d b) ;;
    mariadb/peer) log "PostGraphile has no MariaDB support: no peer run on MariaDB"; continue ;;
    *) wls=(a b) ;;
    esac
    start_system "$d" "$s"
    for w in "${wls[@]}"; do run_workload "$d" "$s" "$w"; done
    stop "$s"
  done
  if [[ " ${systems[*]} " == *" app "* ]]; then
    wls=(c)
    if [ "$d" = postgres ]; then wls=(c e); fi
    first_idle="${idle[$d/app]}"
    start_system "$d" app
    idle[$d/app]="$first_idle" # idle RSS as first started
    for w in "${wls[@]}"; do run_workload "$d" app "$w"; done
    stop app
  fi
done

{
  printf '{'
  sep=''
  for d in "${databases[@]}"; do
    printf '%s"%s": {' "$sep" "$d"
    sep2=''
    for s in "${ordered[@]}"; do
      if [ -n "${idle[$d/$s]:-}" ]; then printf '%s"%s": %s' "$sep2" "$s" "${idle[$d/$s]}"; sep2=', '; fi
    done
    printf '}'
    sep=', '
  done
  printf '}\n'
} >"$out/idle.json"

bin/benchchart -dir "$out" -svg "$svg" >"$out/table.md"
cat "$out/table.md"
log "results in $out, chart in $svg"
