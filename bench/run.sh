#!/usr/bin/env bash
# make bench (issue 9): seeds PostgreSQL (and the Dolibarr MariaDB), starts
# shipmentapp (built with -trimpath), the PostGraphile v5 peer and the
# hand-written ceiling side by side on the same PostgreSQL data, each behind
# its own statement-counting proxy, and drives them from benchload, a separate
# process on loopback. For every system and workload: maximum throughput
# (closed loop, BENCH_CONCURRENCY workers), then the latency at a fixed
# offered load (open loop) of half the app's maximum for that workload, the
# same rate for the three systems. Workloads c, d, e run on the app only,
# after a and b (c adds tracking events). Results: bench/results/<UTC date>/
# (one JSON per run, idle.json, table.md), docs/bench.svg.
#
# Environment: BENCH_DURATION (20s), BENCH_WARMUP (5s), BENCH_CONCURRENCY (32),
# BENCH_QUICK=1 (a smoke run of about a minute: 3s after 1s, C=8),
# BENCH_SYSTEMS ("app peer ceiling"), BENCH_PIN (a CPU list for taskset -c:
# pins the load generator; default: not pinned), BENCH_PG
# (postgres://root@127.0.0.1:5432), BENCH_MYSQL (root@tcp(127.0.0.1:3306)),
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
pg="${BENCH_PG:-postgres://root@127.0.0.1:5432}"
mysql="${BENCH_MYSQL:-root@tcp(127.0.0.1:3306)}"
db=shipmentapp_bench
dolibarr_dsn="$mysql/shipmentapp_bench_dolibarr"
out="${BENCH_OUT:-bench/results/$(date -u +%Y-%m-%d)}"
svg="${BENCH_SVG:-docs/bench.svg}"
mkdir -p "$out" bin
work="$(mktemp -d)"
key_file=bench/.key

# Ports: each system's own counting proxy, so the counts do not mix.
app_port=18080 peer_port=18081 ceiling_port=18082
declare -A proxy_port=([app]=15432 [peer]=15442 [ceiling]=15452)
declare -A proxy_http=([app]=15433 [peer]=15443 [ceiling]=15453)
declare -A target=(
  [app]="http://127.0.0.1:$app_port/graphql"
  [peer]="http://127.0.0.1:$peer_port/graphql"
  [ceiling]="http://127.0.0.1:$ceiling_port/graphql"
)
declare -A pid=()
started=()

log() { printf 'bench: %s\n' "$*" >&2; }

cleanup() {
  local p
  for p in "${started[@]}"; do
    # each service runs in its own session (setsid): stop its group
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${started[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs CMD in a session of its own, logs in $work/NAME.log.
start() {
  local name="$1"
  shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pid[$name]=$!
  started+=("$!")
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

log "building (go build -trimpath)"
go build -trimpath -o bin/shipmentapp .
for t in benchload benchchart benchseed pgcount benchceiling; do
  go build -trimpath -o "bin/$t" "./internal/tools/$t"
done

if [ "${BENCH_SKIP_SEED:-0}" != 1 ]; then
  log "seeding $db and shipmentapp_bench_dolibarr"
  bin/benchseed -pg "$pg/$db?sslmode=disable" -dolibarr "$dolibarr_dsn" -key-file "$key_file"
  if [[ " ${systems[*]} " == *" peer "* ]]; then
    psql "$pg/$db?sslmode=disable" -q -v ON_ERROR_STOP=1 -f bench/postgraphile/schema.sql >/dev/null
  fi
fi

for s in "${systems[@]}"; do
  start "pgcount-$s" bin/pgcount -listen "127.0.0.1:${proxy_port[$s]}" -target 127.0.0.1:5432 -http "127.0.0.1:${proxy_http[$s]}"
  wait_http "http://127.0.0.1:${proxy_http[$s]}/count" "pgcount-$s"
done

declare -A idle=()
for s in "${systems[@]}"; do
  case "$s" in
  app)
    start app env \
      APP_ENV=staging APP_ADDR="127.0.0.1:$app_port" APP_URL="http://127.0.0.1:$app_port" APP_DATA_DIR="$work/app-data" \
      LOG_LEVEL=warn FILE_SIGNING_KEY="bench-signing-key-$(date +%s)-0123456789abcdef" \
      DB_CONNECTION=pgsql DB_HOST=127.0.0.1 DB_PORT="${proxy_port[app]}" DB_DATABASE="$db" DB_USERNAME=root DB_SSLMODE=disable \
      DOLIBARR_DB_CONNECTION=mysql DOLIBARR_DB_HOST=127.0.0.1 DOLIBARR_DB_PORT=3306 \
      DOLIBARR_DB_DATABASE=shipmentapp_bench_dolibarr DOLIBARR_DB_USERNAME=root \
      CACHE_DRIVER=memory PERSISTED_QUERIES=apq RATE_LIMIT_IP_PER_MINUTE=0 RATE_LIMIT_KEY_PER_MINUTE=0 \
      bin/shipmentapp serve
    wait_http "http://127.0.0.1:$app_port/livez" app
    ;;
  peer)
    if [ ! -d bench/postgraphile/node_modules/postgraphile ]; then
      npm ci --prefix bench/postgraphile --no-audit --no-fund >&2
    fi
    start peer bench/postgraphile/start.sh "$peer_port" "postgres://root@127.0.0.1:${proxy_port[peer]}/$db"
    wait_http "http://127.0.0.1:$peer_port/" peer
    ;;
  ceiling)
    start ceiling bin/benchceiling -addr "127.0.0.1:$ceiling_port" \
      -pg "postgres://root@127.0.0.1:${proxy_port[ceiling]}/$db?sslmode=disable" -dolibarr "$dolibarr_dsn"
    wait_http "http://127.0.0.1:$ceiling_port/stats" ceiling
    ;;
  *) log "unknown system $s"; exit 2 ;;
  esac
  sleep 2
  idle[$s]="$(rss_tree "${pid[$s]}")"
  log "$s started (pid ${pid[$s]}), idle RSS $((idle[$s] >> 20)) MiB"
done
{
  printf '{'
  sep=''
  for s in "${systems[@]}"; do printf '%s"%s": %s' "$sep" "$s" "${idle[$s]}"; sep=', '; done
  printf '}\n'
} >"$out/idle.json"

pin=()
if [ -n "${BENCH_PIN:-}" ] && command -v taskset >/dev/null; then
  pin=(taskset -c "$BENCH_PIN")
fi

# load SYSTEM WORKLOAD MODE [RATE]: one benchload run; prints its req/s.
load() {
  local s="$1" w="$2" mode="$3" rate="${4:-0}" file="$out/$1-$2-$3.json"
  local args=(-target "${target[$s]}" -workload "$w" -system "$s" -mode "$mode"
    -concurrency "$conc" -warmup "$warmup" -duration "$duration" -pid "${pid[$s]}"
    -count-url "http://127.0.0.1:${proxy_http[$s]}" -out "$file" -label "$(date -u +%FT%TZ)")
  if [ "$mode" = rate ]; then args+=(-rate "$rate"); fi
  if [ "$s" = app ]; then args+=(-key-file "$key_file"); fi
  "${pin[@]}" bin/benchload "${args[@]}" >&2 || log "benchload $s/$w/$mode failed (see $file)"
  sed -n 's/^ *"requestsPerSec": *\([0-9.]*\).*/\1/p' "$file" 2>/dev/null | head -n 1
}

# run_workload WORKLOAD SYSTEM...: each system's maximum, then each at half
# the app's maximum. (d) runs its fixed rate at (a)'s: the CPU per request of
# the two is compared at the same offered load.
a_base=""
run_workload() {
  local w="$1"
  shift
  local s base="" r rate
  declare -A max=()
  for s in "$@"; do
    r="$(load "$s" "$w" max)"
    max[$s]="${r:-0}"
    if [ "$s" = app ]; then base="${r:-0}"; fi
  done
  if [ "$w" = a ]; then a_base="$base"; fi
  if [ "$w" = d ] && [ -n "$a_base" ]; then base="$a_base"; fi
  for s in "$@"; do
    rate="$(awk -v m="${base:-${max[$s]}}" 'BEGIN { r = m / 2; if (r < 1) r = 1; printf "%.1f", r }')"
    load "$s" "$w" rate "$rate" >/dev/null
  done
}

for w in a b; do run_workload "$w" "${systems[@]}"; done
if [[ " ${systems[*]} " == *" app "* ]]; then
  for w in c d e; do run_workload "$w" app; done
fi

bin/benchchart -dir "$out" -svg "$svg" >"$out/table.md"
cat "$out/table.md"
log "results in $out, chart in $svg"
