#!/usr/bin/env bash
# Rewrites package-lock.json from package.json so that `npm ci` accepts it with
# npm 10 and npm 11, then proves it: the one way to change dependencies.
#   bash scripts/update-lock.sh           # regenerate + check
#   bash scripts/update-lock.sh --check   # check the committed lock only
# Why in a copy: npm resolving over an existing node_modules leaves out optional
# packages of other platforms (@msgpackr-extract/*-darwin-*, npm/cli#4828), which
# `npm ci` then rejects. Resolved with --package-lock-only beside the manifests
# and the current lock only (no node_modules), the lock keeps its versions and
# lists them all. A lock with git conflict markers is fine: npm resolves them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT


# Every workspace manifest (tracked or new) and the root one, nothing else.
manifests=$(cd "$root" && { git ls-files -co --exclude-standard -- 'package.json' 'apps/*/package.json' 'libs/*/package.json'; } | sort -u)
stage() {
	local dest=$1
	mkdir -p "$dest"
	for f in $manifests; do mkdir -p "$dest/$(dirname "$f")"; cp "$root/$f" "$dest/$f"; done
}

if [ "${1:-}" != --check ]; then
	stage "$work/resolve"
	[ -f "$root/package-lock.json" ] && cp "$root/package-lock.json" "$work/resolve/"
	(cd "$work/resolve" && npm install --package-lock-only --no-audit --no-fund --ignore-scripts --loglevel=error)
	cp "$work/resolve/package-lock.json" "$root/package-lock.json"
	echo "aoinb: package-lock.json rewritten" >&2
fi

node "$root/scripts/check-lock.mjs" "$root/package-lock.json"

# The proof: a real `npm ci` with each npm major, in a clean copy; --engine-strict
# fails on any package whose engines exclude this machine's Node.
for npm in "npm@10" "npm@11"; do
	stage "$work/$npm"
	cp "$root/package-lock.json" "$work/$npm/"
	echo "aoinb: npm ci with $npm" >&2
	(cd "$work/$npm" && npx -y "$npm" ci --engine-strict --no-audit --no-fund --ignore-scripts --loglevel=error)
	cmp -s "$root/package-lock.json" "$work/$npm/package-lock.json" || { echo "aoinb: $npm ci changed the lock" >&2; exit 1; }
done
echo "aoinb: the lock installs with npm 10 and npm 11" >&2
