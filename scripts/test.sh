#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, typechecks,
# lints, then runs every test (unit, integration against a real redis-server,
# end to end through real OverlayFS and systemd-nspawn).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "== build (the dashboard's static files)"
npm run build --silent
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p apps/dashboard/tsconfig.json
echo "== lint"
npx eslint .
echo "== format (prettier --check; fix with: npm run format)"
npx prettier --check --log-level warn "**/*.{ts,js,mjs,css,html}"
echo "== tests"
npx vitest run "$@"
