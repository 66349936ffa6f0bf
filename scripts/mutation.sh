#!/usr/bin/env bash
# Mutation testing (Stryker with its vitest runner) over the farm's core modules,
# listed in scripts/stryker.config.json, against the tests listed in
# scripts/vitest.mutation.config.ts (the modules' own tests, real redis-server for
# the store; not the whole-farm tests). Not part of CI: on 2 cores shared with other
# jobs the whole scope takes 30-50 minutes (concurrency 1). Record the figures in
# docs/testing.md ("Mutation testing").
#   bash scripts/mutation.sh                  # the whole scope in one run: reports/mutation/mutation.json
#   bash scripts/mutation.sh --module FILE    # one file of the scope: reports/mutation/modules/NAME.report.json
#   bash scripts/mutation.sh --module FILE:40-52  # its mutants on lines 40 to 52 only (updates those in --sum)
#   bash scripts/mutation.sh --modules        # every file of the scope, one run each, then --sum
#   bash scripts/mutation.sh --sum            # the whole scope's score from the per-module reports
#   bash scripts/mutation.sh --score          # the whole scope's score from the last whole run
#   bash scripts/mutation.sh --lua [--file NAME] [--max N] [--survivors] [--summary]  # the Lua scripts' own mutants
# Each run is incremental (its own file beside its report: only what changed is retested);
# add --force to retest every mutant. Other arguments go to `stryker run` (e.g. --concurrency 2).
set -euo pipefail
cd "$(dirname "$0")/.."
# Stryker runs the tests in a copy of the repository (.stryker-tmp/): ../shared is not beside that copy.
export AOINB_SHARED_DIR="${AOINB_SHARED_DIR:-$(cd .. && pwd)/shared}"
config=scripts/stryker.config.json
modules=reports/mutation/modules
score() { node --import tsx scripts/mutation-score.ts --survivors "$@"; }

# One file of the scope, with its own report and incremental file (a derived config in reports/).
run_module() {
  local spec=$1 file=${1%%:*} name
  shift
  name=$(basename "$file" .ts)
  # A line range (`file.ts:40-52`, Stryker's syntax) gets its own report, which updates those mutants only.
  [ "$spec" = "$file" ] || name="$name.lines-${spec#*:}"
  mkdir -p "$modules"
  node -e '
    const [config, file, out] = process.argv.slice(1);
    const c = JSON.parse(require("node:fs").readFileSync(config, "utf8"));
    if (!c.mutate.includes(file.split(":")[0])) throw new Error(`${file} is not in the scope (mutate of ${config})`);
    delete c.$schema;
    c.mutate = [file];
    c.jsonReporter = { fileName: `${out}.report.json` };
    c.incrementalFile = `${out}.incremental.json`;
    require("node:fs").writeFileSync(`${out}.config.json`, JSON.stringify(c, null, 2));
  ' "$config" "$spec" "$modules/$name"
  npx stryker run "$modules/$name.config.json" --tempDirName ".stryker-tmp" "$@"
}

case "${1:-}" in
  --lua)
    # The Lua of the state scripts, mutated itself (scripts/lua-mutation.ts; its options follow).
    shift
    node --import tsx scripts/lua-mutation.ts "$@"
    ;;
  --module)
    [ $# -ge 2 ] || { echo "usage: $0 --module libs/.../file.ts[:LINES] [stryker options]" >&2; exit 2; }
    file=$2
    shift 2
    run_module "$file" "$@"
    ;;
  --modules)
    shift
    for file in $(node -e 'console.log(require("./'"$config"'").mutate.join("\n"))'); do
      run_module "$file" "$@"
    done
    score "$modules"/*.report.json
    ;;
  --sum) score "$modules"/*.report.json ;;
  --score) score reports/mutation/mutation.json ;;
  *)
    npx stryker run "$config" "$@"
    score reports/mutation/mutation.json
    ;;
esac
