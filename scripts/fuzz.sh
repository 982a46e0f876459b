#!/usr/bin/env bash
# make fuzz: every fuzz target (package:function arguments) for FUZZTIME each.
#
# Go 1.26's fuzzing coordinator can fail a target that found nothing with a
# bare "context deadline exceeded" at the end of a -fuzztime window
# (go.dev/issue/75804, fixed in Go 1.27): the deadline's parent context is
# read as cancelled before its child is. On a loaded machine it happens in a
# few runs out of a hundred (it failed CI once, on FuzzUpload). That one
# signature, and only it, is told apart from a finding: the failure's only
# message is the deadline, no failing input was written, and the target's
# corpus then replays clean. Anything else (a crasher, a panic, a hung
# worker, a t.Fatal) fails as before.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for spec in "$@"; do
  pkg=${spec%%:*} fn=${spec##*:}
  echo "fuzz $pkg $fn"
  $GO test "$pkg" -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s 2>&1 | tee "$out"
  [ "${PIPESTATUS[0]}" -eq 0 ] && continue
  # The race's whole report: the target's FAIL line, the deadline, FAIL.
  if ! grep -q 'Failing input written to' "$out" &&
    [ "$(awk -v fn="$fn" '
        $0 ~ "^--- FAIL: " fn " \\(" { on = 1; next }
        on && /^FAIL$/ { on = 0; next }
        on { print }' "$out")" = "    context deadline exceeded" ]; then
    echo "fuzz $fn: failed with nothing but the coordinator's deadline (go.dev/issue/75804); replaying its corpus"
    if $GO test "$pkg" -run "^$fn\$" -count=1; then
      continue
    fi
  fi
  echo "fuzz $pkg $fn: FAILED"
  exit 1
done
