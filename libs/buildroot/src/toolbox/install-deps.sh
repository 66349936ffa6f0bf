#!/bin/bash
# aoinb toolbox: installs a build's dependencies INSIDE a container, as
# /buildroot/toolbox/install-deps.sh, before build.sh runs. It runs no bundle code:
# the host parsed BUILDDEP/PKGDEP statically and wrote the names (checked package
# names, one a line) to /buildroot/deps/names.
#   resolve:  no network; writes the exact package set apt would install (with
#             versions) to /buildroot/deps/resolved. The host keys dependency
#             layers on it.
#   download: with the network; refreshes the apt lists when the host added
#             repositories (AOINB_APT_UPDATE=1, a group's fresh debs) and downloads
#             the packages only: no maintainer script runs while there is a network.
#   install:  in a private network; installs what was downloaded. With the host's
#             shared archive cache bound (AOINB_SHARED_ARCHIVES=1, read-only here)
#             the .debs stay there; without it they are removed from this root.
set -euo pipefail
exec 2>&1

mode=${1:?usage: install-deps.sh resolve|download|install}
mapfile -t names < /buildroot/deps/names
apt=(apt-get -q -y --no-install-recommends -o Dpkg::Options::=--force-confold -o APT::Keep-Downloaded-Packages=true)

case "$mode" in
	resolve)
		"${apt[@]}" --simulate install "${names[@]}" > /buildroot/deps/simulated || {
			status=$?
			cat /buildroot/deps/simulated
			exit "$status"
		}
		grep '^Inst ' /buildroot/deps/simulated > /buildroot/deps/resolved || true
		;;
	download)
		if [ -n "${AOINB_APT_UPDATE:-}" ]; then
			echo "[aoinb] refreshing apt lists for the extra repositories"
			apt-get update -q
		fi
		echo "[aoinb] downloading build dependencies: ${names[*]}"
		"${apt[@]}" install --download-only "${names[@]}"
		;;
	install)
		echo "[aoinb] installing build dependencies (no network)"
		# dpkg's fsyncs buy nothing here: the root is a throw-away workspace, or a
		# layer the host syncs once before publishing it.
		"${apt[@]}" -o Dpkg::Options::=--force-unsafe-io install --no-download "${names[@]}"
		[ -n "${AOINB_SHARED_ARCHIVES:-}" ] || find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -delete
		;;
	*) echo "[aoinb] error: unknown mode $mode"; exit 2 ;;
esac
