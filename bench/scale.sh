#!/usr/bin/env bash
# make bench-scale (issue 17, "Cost as the data grows"): the app on two sizes
# of the same data set, side by side.
#
#   small: shipmentapp_scale_small, 10,000 shipments, 50,000 tracking events,
#          20,000 files over one year, 2,000 Dolibarr customers (make bench's
#          set, seeded with INSERTs);
#   large: shipmentapp_scale, 1,000,000 shipments, 5,000,000 tracking events,
#          2,000,000 files over five years, 20,000 Dolibarr customers (seeded
#          with COPY: benchseed -copy).
#
# Each on PostgreSQL with its own Dolibarr on MariaDB, both migrated by the
# app's migrations (with their indexes). An app per size is started as
# bench/run.sh starts it (APP_ENV=staging, PostgreSQL straight, no proxy),
# both at once, and benchload drives, the sizes alternating run by run, workloads (a) nested list, (b) by reference (references
# spread over the whole set) and "deep", (a)'s document with after: the cursor
# of the edge SCALE_DEEP (100,000) edges into (a)'s ordering, built as the API
# builds its cursors from that row and checked against the API (the page
# after it starts with the next row; on the small set, which has fewer
# edges, the deepest full page): the maximum
# (closed loop), then the latency at a fixed rate, half the small set's
# maximum for that workload, the same rate on both sizes. Then the EXPLAIN
# check on the large set (benchscale explain): every statement the app runs
# for (a), (b) and the deep page, read back from the server log, explained
# with its parameters; it fails on a Seq Scan of shipments, tracking_events or
# files, or on a COUNT nobody asked for.
#
# Results: bench/results/<UTC date>/scale/ (<size>-<workload>-<mode>.json,
# table.md, explain.json, explain.txt, seed-<size>.txt, cursors.txt).
#
# Environment: SCALE_DURATION (20s), SCALE_WARMUP (5s), SCALE_CONCURRENCY
# (32), SCALE_QUICK=1 (5s after 2s, C=8), SCALE_SKIP_SEED=1 (reuse the seeded
# databases), SCALE_SIZES ("small large"), SCALE_SHIPMENTS (1000000),
# SCALE_EVENTS (5000000), SCALE_FILES (2000000), SCALE_CUSTOMERS (20000),
# SCALE_YEARS (5), SCALE_DEEP (100000), SCALE_EXPLAIN (1; 0 skips the check),
# SCALE_PG_LOG (the server log; default: pg_current_logfile() or Debian's
# /var/log/postgresql/postgresql-<major>-main.log), SCALE_PG
# (postgres://root@127.0.0.1:5432), SCALE_MYSQL (root@tcp(127.0.0.1:3306)),
# SCALE_OUT (results directory).
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${SCALE_DURATION:-20s}"
warmup="${SCALE_WARMUP:-5s}"
conc="${SCALE_CONCURRENCY:-32}"
if [ "${SCALE_QUICK:-0}" = 1 ]; then
  duration="${SCALE_DURATION:-5s}"
  warmup="${SCALE_WARMUP:-2s}"
  conc="${SCALE_CONCURRENCY:-8}"
fi
read -r -a sizes <<<"${SCALE_SIZES:-small large}"
pg="${SCALE_PG:-postgres://root@127.0.0.1:5432}"
mysql="${SCALE_MYSQL:-root@tcp(127.0.0.1:3306)}"
deep="${SCALE_DEEP:-100000}"
out="${SCALE_OUT:-bench/results/$(date -u +%Y-%m-%d)/scale}"
mkdir -p "$out" bin
work="$(mktemp -d)"
declare -A port=([small]=18090 [large]=18092)
explain_port=18091
explain_role=shipmentapp_explain

declare -A db=([small]=shipmentapp_scale_small [large]=shipmentapp_scale)
declare -A refs=([small]=10000 [large]="${SCALE_SHIPMENTS:-1000000}")
declare -A seed_args=(
  [small]=""
  [large]="-copy -years ${SCALE_YEARS:-5} -customers ${SCALE_CUSTOMERS:-20000} -shipments ${SCALE_SHIPMENTS:-1000000} -events ${SCALE_EVENTS:-5000000} -files ${SCALE_FILES:-2000000}"
)

log() { printf 'bench-scale: %s\n' "$*" >&2; }

declare -A app_pid=()
# stop_app NAME: stops the app started as NAME.
stop_app() {
  local p="${app_pid[$1]:-}"
  if [ -n "$p" ]; then
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
    unset "app_pid[$1]"
  fi
}
reset_role() {
  psql "$pg/postgres?sslmode=disable" -q -c "ALTER ROLE $explain_role IN DATABASE ${db[large]} RESET ALL" >/dev/null 2>&1 || true
}
cleanup() {
  local n
  for n in "${!app_pid[@]}"; do stop_app "$n"; done
  reset_role
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_app NAME SIZE PORT USER: the app as bench/run.sh starts it, on
# SIZE's databases, straight to PostgreSQL.
start_app() {
  local name="$1" size="$2" p="$3" user="$4"
  setsid env \
    APP_ENV=staging APP_ADDR="127.0.0.1:$p" APP_URL="http://127.0.0.1:$p" APP_DATA_DIR="$work/app-data-$name" \
    LOG_LEVEL=warn FILE_SIGNING_KEY="bench-signing-key-$(date +%s)-0123456789abcdef" \
    DB_CONNECTION=pgsql DB_HOST=127.0.0.1 DB_PORT=5432 DB_DATABASE="${db[$size]}" DB_USERNAME="$user" DB_SSLMODE=disable \
    DOLIBARR_DB_CONNECTION=mysql DOLIBARR_DB_HOST=127.0.0.1 DOLIBARR_DB_PORT=3306 \
    DOLIBARR_DB_DATABASE="${db[$size]}_dolibarr" DOLIBARR_DB_USERNAME=root \
    CACHE_DRIVER=memory PERSISTED_QUERIES=apq RATE_LIMIT_IP_PER_MINUTE=0 RATE_LIMIT_KEY_PER_MINUTE=0 \
    bin/shipmentapp serve >"$work/app-$name.log" 2>&1 &
  app_pid[$name]=$!
  for _ in $(seq 600); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/livez"; then return 0; fi
    if ! kill -0 "${app_pid[$name]}" 2>/dev/null; then log "app $name exited:"; tail -n 30 "$work/app-$name.log" >&2; exit 1; fi
    sleep 0.1
  done
  log "app $name did not answer:"; tail -n 30 "$work/app-$name.log" >&2; exit 1
}

log "building (go build -trimpath)"
go build -trimpath -o bin/shipmentapp .
for t in benchload benchseed benchscale; do
  go build -trimpath -o "bin/$t" "./bench/cmd/$t"
done

if [ "${SCALE_SKIP_SEED:-0}" != 1 ]; then
  for size in "${sizes[@]}"; do
    log "seeding ${db[$size]} and ${db[$size]}_dolibarr"
    # shellcheck disable=SC2086 # seed_args holds several flags
    bin/benchseed ${seed_args[$size]} -pg "$pg/${db[$size]}?sslmode=disable" \
      -dolibarr "$mysql/${db[$size]}_dolibarr" -key-file "bench/.key.scale-$size" | tee "$out/seed-$size.txt" >&2
  done
fi

# load SIZE WORKLOAD MODE [RATE]: one benchload run; prints its req/s.
load() {
  local size="$1" w="$2" mode="$3" rate="${4:-0}" file="$out/$1-$2-$3.json"
  local queries=bench/queries workload="$w"
  if [ "$w" = deep ]; then queries="$work/deep-$size" workload=a; fi
  local args=(-target "http://127.0.0.1:${port[$size]}/graphql" -workload "$workload" -system app -mode "$mode"
    -concurrency "$conc" -warmup "$warmup" -duration "$duration" -pid "${app_pid[$size]}"
    -key-file "bench/.key.scale-$size" -queries "$queries" -references "${refs[$size]}"
    -out "$file" -label "$size $w $(date -u +%FT%TZ)")
  if [ "$mode" = rate ]; then args+=(-rate "$rate"); fi
  bin/benchload "${args[@]}" >&2 || log "benchload $size/$w/$mode failed (see $file)"
  sed -n 's/^ *"requestsPerSec": *\([0-9.]*\).*/\1/p' "$file" 2>/dev/null | head -n 1
}

: >"$out/cursors.txt"
# Both apps run at once and the sizes alternate run by run, so that the
# load of a shared machine drifts alike for both.
for size in "${sizes[@]}"; do
  log "$size: starting the app on ${db[$size]}"
  start_app "$size" "$size" "${port[$size]}" root
  cursor="$(bin/benchscale cursor -target "http://127.0.0.1:${port[$size]}/graphql" -key-file "bench/.key.scale-$size" -skip "$deep" \
    -pg "$pg/${db[$size]}?sslmode=disable" 2> >(tee -a "$out/cursors.txt" >&2))"
  printf '%s %s\n' "$size" "$cursor" >>"$out/cursors.txt"
  bin/benchscale deepdoc -cursor "$cursor" -out "$work/deep-$size"
done
for w in a b deep; do
  base=""
  for size in "${sizes[@]}"; do
    r="$(load "$size" "$w" max)"
    log "$size $w: max $r req/s"
    # the fixed rate: half the first size's maximum, the same for both
    if [ -z "$base" ]; then base="${r:-0}"; fi
  done
  rate="$(awk -v m="$base" 'BEGIN { r = m / 2; if (r < 1) r = 1; printf "%.1f", r }')"
  for size in "${sizes[@]}"; do
    load "$size" "$w" rate "$rate" >/dev/null
  done
done
for size in "${sizes[@]}"; do stop_app "$size"; done

bin/benchscale table -dir "$out" | tee "$out/table.md"

if [ "${SCALE_EXPLAIN:-1}" = 1 ] && [[ " ${sizes[*]} " == *" large "* ]]; then
  pglog="${SCALE_PG_LOG:-}"
  if [ -z "$pglog" ]; then
    pglog="$(psql "$pg/postgres?sslmode=disable" -Atc "SELECT coalesce(current_setting('data_directory') || '/' || pg_current_logfile(), '')")"
    if [ -z "$pglog" ] || [ ! -r "$pglog" ]; then
      major="$(psql "$pg/postgres?sslmode=disable" -Atc "SELECT current_setting('server_version_num')::int / 10000")"
      pglog="/var/log/postgresql/postgresql-$major-main.log"
    fi
  fi
  if [ ! -r "$pglog" ]; then
    log "EXPLAIN check: cannot read the server log $pglog (set SCALE_PG_LOG, or SCALE_EXPLAIN=0 to skip)"
    exit 1
  fi
  log "EXPLAIN check on ${db[large]}: every statement of $explain_role logged to $pglog"
  # A role of its own whose statements alone are logged: root's privileges
  # (member of root), log_min_duration_statement = 0 in the large database.
  psql "$pg/postgres?sslmode=disable" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$explain_role') THEN
    CREATE ROLE $explain_role LOGIN;
  END IF;
END \$\$;
GRANT root TO $explain_role;
ALTER ROLE $explain_role IN DATABASE ${db[large]} SET log_min_duration_statement = 0;
ALTER ROLE $explain_role IN DATABASE ${db[large]} SET log_parameter_max_length = -1;
SQL
  start_app explain large "$explain_port" "$explain_role"
  status=0
  bin/benchscale explain -target "http://127.0.0.1:$explain_port/graphql" -key-file bench/.key.scale-large \
    -deep-queries "$work/deep-large" -references "${refs[large]}" \
    -pg "$pg/${db[large]}?sslmode=disable" -log "$pglog" -who "$explain_role@${db[large]}" \
    -out "$out/explain.json" | tee "$out/explain.txt" || status=$?
  stop_app explain
  reset_role
  if [ "$status" != 0 ]; then
    log "EXPLAIN check FAILED (see $out/explain.txt)"
    exit "$status"
  fi
fi
log "results in $out"
