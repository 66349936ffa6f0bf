#!/bin/bash
# aoinb toolbox: installs a build's dependencies INSIDE a container, as
# /buildroot/toolbox/install-deps.sh, before build.sh runs. It runs no bundle code:
# the host parsed BUILDDEP/PKGDEP statically and wrote the names (checked package
# names, one a line) to /buildroot/deps/names.
#   resolve:  no network; writes the exact package set apt would install (with
#             versions) to /buildroot/deps/resolved. The host keys dependency
#             layers on it.
#   plan:     with the network, for builds with extra repositories: refreshes the
#             apt lists and writes the archives apt would fetch, each with its URI,
#             size and SHA256 from the lists, to /buildroot/deps/uris (nothing is
#             downloaded). The host fills this root's own archive folder from its
#             shared cache with the files whose SHA256 matches.
#   download: with the network; refreshes the apt lists when the host added
#             repositories (AOINB_APT_UPDATE=1, a group's fresh debs) and downloads
#             the packages only: no maintainer script runs while there is a network.
#   install:  in a private network; installs what was downloaded. With the host's
#             shared archive cache bound (AOINB_SHARED_ARCHIVES=1, read-only here)
#             the .debs stay there; without it they are removed from this root.
set -euo pipefail
exec 2>&1

mode=${1:?usage: install-deps.sh resolve|plan|download|install}
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
	plan)
		echo "[aoinb] refreshing apt lists for the extra repositories"
		apt-get update -q
		# An empty archive folder, so every archive apt needs is listed. SHA256 forced:
		# apt itself checks only the size of a file already in its archive folder.
		mkdir -p /buildroot/deps/no-archives/partial
		apt-get -qq -y --no-install-recommends -o Acquire::ForceHash=SHA256 \
			-o Dir::Cache::Archives=/buildroot/deps/no-archives/ --print-uris install "${names[@]}" > /buildroot/deps/uris
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
