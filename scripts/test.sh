#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds, then
# typechecks, lints and checks formatting beside every test (unit, integration
# against a real redis-server, end to end through real OverlayFS and
# systemd-nspawn). Arguments go to vitest (e.g. one file).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "== build (the dashboard's static files)"
npm run build --silent

# The checks are CPU work and the tests mostly wait (containers, apt, processes starting), so the
# checks run beside the tests; their output follows the tests'. Every step runs; any failure fails.
checks_log=$(mktemp)
report=$(mktemp)
trap 'rm -f "$checks_log" "$report"' EXIT
(
	failed=()
	echo "== typecheck"
	npx tsc --noEmit -p tsconfig.json || failed+=(typecheck)
	npx tsc --noEmit -p apps/dashboard/tsconfig.json || failed+=("typecheck (dashboard)")
	echo "== lint"
	npx eslint . || failed+=(lint)
	echo "== format (prettier --check; fix with: npm run format)"
	npx prettier --check --log-level warn "**/*.{ts,js,mjs,css,html}" || failed+=(format)
	if [ "${#failed[@]}" -gt 0 ]; then
		echo "== failed: ${failed[*]}"
		exit 1
	fi
) >"$checks_log" 2>&1 &
checks=$!

echo "== tests"
tests_status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || tests_status=$?
checks_status=0
wait "$checks" || checks_status=$?
cat "$checks_log"
# The failed tests again, last: CI keeps only the tail of what this prints.
if [ "$tests_status" -ne 0 ]; then node --import tsx scripts/print-test-failures.ts "$report"; fi
if [ "$tests_status" -ne 0 ] || [ "$checks_status" -ne 0 ]; then
	echo "aoinb: test suite failed (tests: exit $tests_status; typecheck, lint, format: exit $checks_status)" >&2
	exit 1
fi
