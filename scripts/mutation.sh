#!/usr/bin/env bash
# Mutation testing (Stryker with its vitest runner) over the farm's core modules,
# listed in scripts/stryker.config.json, against the tests listed in
# scripts/vitest.mutation.config.ts (the modules' own tests, real redis-server for
# the store; not the whole-farm tests). Not part of CI: on 2 cores shared with other
# jobs it takes 30-40 minutes (concurrency 1). Prints the score per file; the report is
# reports/mutation/mutation.json, and reports/mutation/stryker-incremental.json lets
# the next run retest only what changed. Record the figures in docs/testing.md.
#   bash scripts/mutation.sh                          # the configured modules
#   bash scripts/mutation.sh --mutate libs/x/src/y.ts  # other files (Stryker's own options)
set -euo pipefail
cd "$(dirname "$0")/.."
# Stryker runs the tests in a copy of the repository (.stryker-tmp/): ../shared is not beside that copy.
export AOINB_SHARED_DIR="${AOINB_SHARED_DIR:-$(cd .. && pwd)/shared}"
npx stryker run scripts/stryker.config.json "$@"
