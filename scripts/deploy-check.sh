#!/usr/bin/env bash
# Checks every deploy/ file with its own tool (make deploy-check; CI):
#   - Prometheus configuration, alert and recording rules and their unit
#     tests, Alertmanager's configuration and routes (promtool, amtool);
#   - Kubernetes manifests and the dashboard's ConfigMap (built with
#     kustomize, decoded strictly with the real API types, policy), the
#     compose file (compose-go) and the Dockerfiles (BuildKit's parser and
#     linter): deploy/validate;
#   - the Grafana dashboard and the Prometheus rules against the app: every
#     PromQL expression parsed with Prometheus's parser, every metric one
#     the app exports (deploy/dashboard_test.go);
#   - the CI/CD workflow (actionlint);
#   - the shell scripts (shellcheck).
# nginx.conf, haproxy.cfg, redis.conf, the my.cnf files and the logrotate
# file are checked by the Go tests of deploy/ (nginx -t, haproxy -c, the real
# redis-server and logrotate), which `make test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== deploy/prometheus, deploy/alertmanager"
deploy/prometheus/check.sh

echo "== deploy/k8s, deploy/compose.yaml, Dockerfiles"
deploy/validate/check.sh

echo "== deploy/grafana, deploy/prometheus/rules: PromQL against the app's metrics"
go test -count=1 -run '^TestDashboard' ./deploy/

echo "== .github/workflows (actionlint)"
# Its own module (its YAML library's version conflicts with Kubernetes').
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 .github/workflows/*.yml

echo "== shell scripts (shellcheck)"
command -v shellcheck >/dev/null || { echo "shellcheck is not installed (Debian package shellcheck; scripts/services.sh installs it)" >&2; exit 2; }
# The backup scripts assign variables through lib.sh's helpers (printf -v),
# which shellcheck cannot follow: SC2034/SC2154 are off for them alone.
shellcheck -S warning -x deploy/mysql/*.sh deploy/dolibarr/*.sh deploy/prometheus/check.sh deploy/validate/check.sh scripts/*.sh scripts/schemacheck/*.sh .ci/run
(cd deploy/backup && shellcheck -S warning -x -e SC2034,SC2154 ./*.sh)
echo "== deploy/ checks passed"
