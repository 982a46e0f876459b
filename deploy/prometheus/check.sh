#!/usr/bin/env bash
# Checks the monitoring configuration of deploy/ with the real tools:
#   promtool check config   deploy/prometheus/prometheus.yml (and the rule files it names)
#   promtool check rules    deploy/prometheus/rules/*.yml
#   promtool test rules     deploy/prometheus/tests/*.yml
#   (every alert has a test where it fires and one where it does not,
#    every recording rule is tested)
#   amtool check-config     deploy/alertmanager/alertmanager.yml (and its templates)
#   amtool config routes test: critical, warning and other alerts reach their receivers
#   amtool template render: the notification templates render an example
# Runs from any directory; exits non-zero if anything fails.
# PROMTOOL and AMTOOL name other binaries (e.g. those of the release you run).
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
deploy=$(dirname -- "$here")
promtool=${PROMTOOL:-promtool}
amtool=${AMTOOL:-amtool}

missing=0
need() { # need COMMAND NAME DEBIAN-PACKAGE RELEASE VARIABLE
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "check.sh: $1 not found. Install the Debian package $3 (apt-get install $3)," >&2
		echo "          or set $5 to the path of $2 (from the $4 release tarballs)." >&2
		missing=1
	fi
}
need "$promtool" promtool prometheus Prometheus PROMTOOL
need "$amtool" amtool prometheus-alertmanager Alertmanager AMTOOL
[ "$missing" = 0 ] || exit 2

failed=()
step() { # step NAME COMMAND...: run, report, remember a failure and go on
	local name=$1
	shift
	echo "== $name"
	if ! "$@"; then
		echo "FAILED: $name" >&2
		failed+=("$name")
	fi
}

# promtool --------------------------------------------------------------------
step "promtool check config" "$promtool" check config --lint-fatal "$here/prometheus.yml"
step "promtool check rules" "$promtool" check rules --lint-fatal "$here"/rules/*.yml
step "promtool test rules" "$promtool" test rules "$here"/tests/*.yml

# Coverage: for each alert, a test case where it fires (exp_alerts with
# entries) and one where it does not (exp_alerts: []); each recording rule
# named in a test.
coverage() {
	local rc=0 name
	local cases
	cases=$(awk '
		/^[[:space:]]*(#.*)?$/ { next }
		firing != "" { if ($0 ~ /^[[:space:]]*-[[:space:]]*exp_labels:/) print firing, "fires"; firing = "" }
		/^[[:space:]]*-?[[:space:]]*alertname:/ { name = $NF; next }
		/^[[:space:]]*exp_alerts:[[:space:]]*\[\][[:space:]]*$/ { if (name != "") print name, "quiet"; name = ""; next }
		/^[[:space:]]*exp_alerts:[[:space:]]*$/ { firing = name; name = ""; next }
	' "$here"/tests/*.yml | sort -u)
	for name in $(sed -n 's/^[[:space:]]*-[[:space:]]*alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$here/rules/alerts.yml" | sort -u); do
		grep -qx "$name fires" <<<"$cases" || { echo "no test where $name fires" >&2; rc=1; }
		grep -qx "$name quiet" <<<"$cases" || { echo "no test where $name does not fire" >&2; rc=1; }
	done
	for name in $(sed -n 's/^[[:space:]]*-[[:space:]]*record:[[:space:]]*\([A-Za-z0-9_:]*\).*/\1/p' "$here/rules/recording.yml" | sort -u); do
		grep -qF "$name" "$here"/tests/*.yml || { echo "no test of the recording rule $name" >&2; rc=1; }
	done
	[ "$rc" = 0 ] && echo "  SUCCESS: every alert fires and keeps quiet in a test, every recording rule is tested"
	return "$rc"
}
step "test coverage" coverage

# amtool ----------------------------------------------------------------------
am_config="$deploy/alertmanager/alertmanager.yml"
step "amtool check-config" "$amtool" check-config "$am_config"

route() { # route RECEIVER LABEL=VALUE...: the labels reach exactly RECEIVER
	local want=$1 out
	shift
	# amtool warns on stderr that --config.file overrides --alertmanager.url
	if out=$("$amtool" config routes test --config.file="$am_config" --verify.receivers="$want" "$@" 2>&1); then
		echo "  $* -> $want"
	else
		echo "$out" >&2
		echo "  $* should reach $want" >&2
		return 1
	fi
}
routes() {
	local rc=0
	route pagerduty-slack alertname=ShipmentappCriticalDependencyDown severity=critical || rc=1
	route slack-email alertname=HostDiskSpaceLow severity=warning || rc=1
	route email alertname=Something severity=info || rc=1
	route email alertname=Something || rc=1
	return "$rc"
}
step "amtool config routes test" routes

render() {
	local data out rc=0
	data=$(mktemp)
	# shellcheck disable=SC2064
	trap "rm -f '$data'" RETURN
	cat >"$data" <<'EOF'
{"receiver": "slack-email", "status": "firing",
 "alerts": [{"status": "firing",
             "labels": {"alertname": "HostDiskSpaceLow", "severity": "warning", "instance": "db1:9100", "mountpoint": "/"},
             "annotations": {"summary": "Disk / of db1:9100 above 90%", "description": "/ is 92% full.",
                             "runbook_url": "https://runbooks.example.com/shipmentapp/HostDiskSpaceLow"}}],
 "groupLabels": {"alertname": "HostDiskSpaceLow"},
 "commonLabels": {"alertname": "HostDiskSpaceLow", "severity": "warning", "instance": "db1:9100", "environment": "production"},
 "commonAnnotations": {}, "externalURL": "https://alertmanager.example.com"}
EOF
	out=$("$amtool" template render --template.glob="$deploy/alertmanager/templates/*.tmpl" --template.data="$data" \
		--template.text='{{ template "shipmentapp.title" . }}|{{ template "shipmentapp.text" . }}' 2>&1) || rc=1
	if [ "$rc" = 0 ] && grep -qF '[FIRING:1] HostDiskSpaceLow (warning) [production]|*Disk / of db1:9100 above 90%*' <<<"$out"; then
		echo "  SUCCESS: ${out%%|*}"
	else
		echo "$out" >&2
		return 1
	fi
}
step "amtool template render" render

if [ "${#failed[@]}" -gt 0 ]; then
	echo "check.sh: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "check.sh: all monitoring checks passed"
