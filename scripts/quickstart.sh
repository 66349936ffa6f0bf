#!/usr/bin/env bash
# Installs what is missing, then builds the example bundle into a real .deb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build --silent  # the dashboard the coordinator serves at /
exec node --import tsx scripts/quickstart.ts "$@"
