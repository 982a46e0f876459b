#!/usr/bin/env bash
# The README's test command (make test): every test, on every database that
# answers. A database that does not answer skips its suite, loudly; with
# REQUIRE_ALL_DATABASES=1 (CI) it fails instead.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
report=$(mktemp)
trap 'rm -f "$report"' EXIT
race=${RACE--race}
# The real JavaScript clients of the end-to-end tests (subscriptions, and
# playwright-core for the playground in Chromium), again when the lock changed.
# The same for graphql-http, whose server audits check /graphql against the
# GraphQL over HTTP draft (TestHTTPAudit).
# And standardwebhooks, the oracle for webhook signatures (TestStandardWebhooksNPM).
# And Apollo Client 3 and 4 and meros, the readers of @defer answers (TestDeferClients).
# And the TypeScript example's codegen, tsc, tsx and urql (TestTypeScriptClient).
# And GraphQL Inspector, make schema-check's differ (TestSchemaCheck).
for clients in internal/app/testdata/subclient internal/app/testdata/httpaudit internal/app/testdata/deferclient internal/app/testdata/deferclient/apollo4 internal/whsign/testdata/verifier examples/typescript scripts/schemacheck; do
  if command -v npm >/dev/null 2>&1 && { [ ! -d "$clients/node_modules" ] || [ "$clients/package-lock.json" -nt "$clients/node_modules/.package-lock.json" ]; }; then
    npm ci --prefix "$clients" --no-audit --no-fund --loglevel=error || echo "!!! npm ci failed in $clients: the tests that need it will be skipped (failed under REQUIRE_ALL_DATABASES=1)"
  fi
done
SHIPMENTAPP_SKIP_REPORT="$report" go test ${race} -count=1 -timeout 20m ./... "$@"
status=$?
if [ -s "$report" ]; then
  echo
  echo "!!! SKIPPED DATABASE SUITES (start the databases with 'make services', or see README):"
  sort -u "$report" | sed 's/^/!!!   /'
  echo
fi
exit $status
