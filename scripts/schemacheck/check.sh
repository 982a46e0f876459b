#!/usr/bin/env bash
# make schema-check: GraphQL Inspector's diff of the released schema against
# the current one, with rule.js holding breaking changes to api/CHANGELOG.md.
# Usage: scripts/schemacheck/check.sh [RELEASED CURRENT CHANGELOG]
# (defaults: api/released.graphql api/schema.graphql api/CHANGELOG.md).
# SCHEMA_CHECK_TODAY=YYYY-MM-DD stands in for today's UTC date (tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
released=${1:-$root/api/released.graphql}
current=${2:-$root/api/schema.graphql}
export SCHEMA_CHANGELOG=${3:-$root/api/CHANGELOG.md}
# Install the pinned Inspector when missing or when the lock changed, as
# scripts/test.sh does for the test harnesses.
if [ ! -d "$here/node_modules" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2
fi
exec node "$here/node_modules/@graphql-inspector/cli/cjs/index.js" diff "$released" "$current" \
  --rule "$here/rule.js" --onComplete "$here/complete.js"
