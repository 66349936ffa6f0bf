#!/usr/bin/env bash
# Installs what aoinb needs on a Debian 12 host, as root: system packages (only
# those missing) and the npm packages of this repository.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "aoinb: run this as root (it installs packages, mounts OverlayFS and runs systemd-nspawn)" >&2
		exit 1
	fi
}

# command (or file) -> Debian package that provides it
declare -A providers=(
	[redis-server]=redis-server
	[systemd-nspawn]=systemd-container
	[debootstrap]=debootstrap
	[/usr/share/keyrings/debian-archive-keyring.gpg]=debian-archive-keyring
	[dpkg-deb]=dpkg
	[zstd]=zstd
	[xz]=xz-utils
	# The real-package tests check the Debian mirror's InRelease before using its .orig files.
	[gpgv]=gpgv
	[git]=git
	[flock]=util-linux
	[setpriv]=util-linux
	[promtool]=prometheus
	[gpg]=gnupg
	[gpg-agent]=gnupg
	[dpkg-scanpackages]=dpkg-dev
	# the CLI's tests: completion scripts parsed by their shells, the man page rendered, a pty
	[zsh]=zsh
	[fish]=fish
	[groff]=groff-base
	[man]=man-db
	[script]=bsdutils
	# The dashboard's browser tests drive Debian's chromium through playwright-core (no browser download).
	[/usr/bin/chromium]=chromium
	# deploy/nginx's example runs in front of two coordinators in deploy/test/nginx-front.test.ts
	[nginx]=nginx
)

missing=()
for cmd in "${!providers[@]}"; do
	if [[ "$cmd" == /* ]]; then [ -e "$cmd" ] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
	missing+=("${providers[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
	need_root
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	echo "aoinb: installing ${missing[*]}" >&2
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	# Debian's packages start services where systemd runs them; aoinb starts its own.
	for svc in redis-server prometheus prometheus-node-exporter nginx; do
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
	done
fi

# npm ci installs exactly the lock and never rewrites it (the checkout stays clean);
# the lock is kept valid for npm 10 and 11 by scripts/update-lock.sh.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
