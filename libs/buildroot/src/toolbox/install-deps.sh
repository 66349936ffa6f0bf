#!/bin/bash
# aoinb toolbox: installs a build's dependencies INSIDE the build container, as
# /buildroot/toolbox/install-deps.sh, before build.sh runs. It runs no bundle code:
# the host parsed BUILDDEP/PKGDEP statically and wrote the names (checked package
# names, one a line) to /buildroot/deps/names.
#   download: with the network; refreshes the apt lists when the host added
#             repositories (AOINB_APT_UPDATE=1, a group's fresh debs) and downloads
#             the packages only: no maintainer script runs while there is a network.
#   install:  in the build's private network; installs what was downloaded.
set -euo pipefail
exec 2>&1

mode=${1:?usage: install-deps.sh download|install}
mapfile -t names < /buildroot/deps/names
apt=(apt-get -q -y --no-install-recommends -o Dpkg::Options::=--force-confold -o APT::Keep-Downloaded-Packages=true)

case "$mode" in
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
		"${apt[@]}" install --no-download "${names[@]}"
		;;
	*) echo "[aoinb] error: unknown mode $mode"; exit 2 ;;
esac
