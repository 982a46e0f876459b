#!/usr/bin/env bash
# Vendors the files the GraphiQL playground loads (React, ReactDOM, GraphiQL)
# into internal/playground/assets/, which go:embed puts in the binary: the
# playground then needs no CDN, and `go build` needs no npm.
#
# The versions are the ones gqlgen's playground.Handler loads from jsDelivr
# for the gqlgen of go.mod, and every file must match the SRI hash that
# gqlgen ships for it (read from gqlgen's playground.go): a tampered or
# different download fails and leaves the committed files as they were.
#
#   scripts/playground-assets.sh          fetch, verify, copy (needs npm and go)
#
# To move to other versions: bump gqlgen, set the versions below to the ones
# its playground.go names, run this script, commit internal/playground/assets.
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHIQL_VERSION=4.1.2
REACT_VERSION=18.2.0

dest=internal/playground/assets
gqlgen_dir=$(go list -m -f '{{.Dir}}' github.com/99designs/gqlgen)
gqlgen_version=$(go list -m -f '{{.Version}}' github.com/99designs/gqlgen)
gqlgen_playground="$gqlgen_dir/graphql/playground/playground.go"
[ -f "$gqlgen_playground" ] || { echo "gqlgen's playground.go not found at $gqlgen_playground (go mod download?)" >&2; exit 1; }

# Each line: npm package spec | file in the package | CDN path in gqlgen's
# playground.go | name under $dest.
files="
graphiql@$GRAPHIQL_VERSION|graphiql.min.js|graphiql@$GRAPHIQL_VERSION/graphiql.min.js|graphiql-$GRAPHIQL_VERSION.min.js
graphiql@$GRAPHIQL_VERSION|graphiql.min.css|graphiql@$GRAPHIQL_VERSION/graphiql.min.css|graphiql-$GRAPHIQL_VERSION.min.css
react@$REACT_VERSION|umd/react.production.min.js|react@$REACT_VERSION/umd/react.production.min.js|react-$REACT_VERSION.production.min.js
react-dom@$REACT_VERSION|umd/react-dom.production.min.js|react-dom@$REACT_VERSION/umd/react-dom.production.min.js|react-dom-$REACT_VERSION.production.min.js
"
# The licences (MIT) travel with the files.
licences="
graphiql@$GRAPHIQL_VERSION|LICENSE|graphiql-$GRAPHIQL_VERSION.LICENSE.txt
react@$REACT_VERSION|LICENSE|react-$REACT_VERSION.LICENSE.txt
react-dom@$REACT_VERSION|LICENSE|react-dom-$REACT_VERSION.LICENSE.txt
"

# expected_sri CDN_PATH: the first SRI hash after the line naming the URL.
expected_sri() {
  awk -v url="https://cdn.jsdelivr.net/npm/$1\"" '
    index($0, url) { found = 1; next }
    found && match($0, /sha(256|384|512)-[A-Za-z0-9+\/=]+/) { print substr($0, RSTART, RLENGTH); exit }
  ' "$gqlgen_playground"
}

sri() { # sri ALGO FILE
  printf '%s-%s' "$1" "$(openssl dgst "-$1" -binary "$2" | base64 | tr -d '\n')"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

specs=$(printf '%s\n' "$files" | awk -F'|' 'NF { print $1 }' | sort -u)
for spec in $specs; do
  mkdir -p "$tmp/pack/$spec"
  # npm checks the tarball against the registry's integrity; the SRI check
  # below checks the files against gqlgen's.
  (cd "$tmp/pack/$spec" && npm pack --silent --ignore-scripts "$spec" >/dev/null)
  tar -xzf "$tmp/pack/$spec"/*.tgz -C "$tmp/pack/$spec"
done

mkdir -p "$tmp/out"
failed=0
while IFS='|' read -r spec file cdn name; do
  [ -n "$spec" ] || continue
  src="$tmp/pack/$spec/package/$file"
  want=$(expected_sri "$cdn")
  if [ -z "$want" ]; then
    echo "gqlgen $gqlgen_version's playground.go does not load https://cdn.jsdelivr.net/npm/$cdn: pin the versions it names" >&2
    failed=1
    continue
  fi
  [ -f "$src" ] || { echo "$spec has no $file" >&2; failed=1; continue; }
  got=$(sri "${want%%-*}" "$src")
  if [ "$got" != "$want" ]; then
    echo "MISMATCH $spec $file: got $got, gqlgen $gqlgen_version expects $want" >&2
    failed=1
    continue
  fi
  cp "$src" "$tmp/out/$name"
  echo "ok $name $want"
done <<<"$files"
[ "$failed" = 0 ] || { echo "verification failed: $dest left unchanged" >&2; exit 1; }

while IFS='|' read -r spec file name; do
  [ -n "$spec" ] || continue
  cp "$tmp/pack/$spec/package/$file" "$tmp/out/$name"
done <<<"$licences"

rm -rf "$dest"
mkdir -p "$dest"
cp "$tmp/out"/* "$dest/"
du -b "$dest"/* | awk '{ total += $1; printf "%10d  %s\n", $1, $2 } END { printf "%10d  total\n", total }'
