#!/usr/bin/env bash
# Checks deploy/ without a cluster or a network: the validator's own tests,
# then the validator on the repository's deploy/ tree (Kubernetes manifests,
# compose file, Dockerfile). Runnable from any directory; extra arguments go
# to the validator (e.g. -compose-env KEY=VALUE). Exits non-zero on any
# problem, printed one per line as "file: object: problem".
#
# deploy/validate is its own Go module (Kubernetes, kustomize, compose-go
# and BuildKit stay out of the application's go.mod). A cold module and
# build cache costs a few minutes here: keep GOMODCACHE and GOCACHE between
# CI runs.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")"

echo "deploy/validate: gofmt, vet, tests"
unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	echo "gofmt needed: $unformatted" >&2
	exit 1
fi
go vet ./...
go test -count=1 ./...

echo "deploy/validate: the deploy/ tree"
bin=$(mktemp -d)
trap 'rm -rf -- "$bin"' EXIT
go build -o "$bin/validate" .
"$bin/validate" -deploy .. "$@"
