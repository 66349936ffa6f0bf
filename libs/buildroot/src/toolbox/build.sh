#!/bin/bash
# aoinb toolbox: runs INSIDE the build container as /buildroot/toolbox/build.sh.
# The host has already fetched and verified every source into /buildroot/sources
# (listed in its manifest, main source first) and parsed the spec; it passes
# what it parsed as AOINB_* variables. This script unpacks, runs autobuild and
# collects the .debs into /buildroot/output.
set -euo pipefail
shopt -s nullglob dotglob
exec 2>&1

BR=/buildroot
log() { echo "[aoinb] $*"; }
fail() { echo "[aoinb] error: $*"; exit 1; }

unpack() { # archive, destination folder
	case "$1" in
		*.zip) command -v unzip >/dev/null || fail "unzip is needed for $1"; unzip -q "$1" -d "$2" ;;
		*) tar -xf "$1" -C "$2" --no-same-owner ;;
	esac
}

place_main_source() { # kind, name
	local staging="$BR/unpack" top
	rm -rf "$staging" && mkdir -p "$staging"
	case "$1" in
		archive) unpack "$BR/sources/$2" "$staging" ;;
		dir) mv "$BR/sources/$2" "$staging/$2" ;;
		file) cp -a "$BR/sources/$2" "$staging/" ;;
	esac
	if [ -n "${AOINB_SUBDIR:-}" ]; then
		top="$staging/$AOINB_SUBDIR"
		[ -d "$top" ] || fail "SUBDIR ${AOINB_SUBDIR} is not in the unpacked source"
	else
		local entries=("$staging"/*)
		if [ "${#entries[@]}" -eq 1 ] && [ -d "${entries[0]}" ]; then top="${entries[0]}"; else top="$staging"; fi
	fi
	rm -rf "$BR/build"
	mv "$top" "$BR/build"
	rm -rf "$staging"
}

place_extra_source() { # kind, name
	case "$1" in
		archive) unpack "$BR/sources/$2" "$BR/build" ;;
		dir) mv "$BR/sources/$2" "$BR/build/$2" ;;
		file) cp -a "$BR/sources/$2" "$BR/build/" ;;
	esac
}

mkdir -p "$BR/build" "$BR/output"
first=1
if [ -f "$BR/sources/manifest" ]; then
	while IFS=$'\t' read -r kind name; do
		[ -n "$kind" ] || continue
		if [ "$first" = 1 ]; then place_main_source "$kind" "$name"; first=0; else place_extra_source "$kind" "$name"; fi
	done < "$BR/sources/manifest"
fi

export PKGVER="$AOINB_PKGVER" PKGREL="$AOINB_PKGREL" PKGEPOCH="${AOINB_PKGEPOCH:-}" ARCH="$AOINB_ARCH"

run_autobuild() { # the folder to become build/autobuild
	rm -rf "$BR/build/autobuild"
	cp -a "$1" "$BR/build/autobuild"
	local status=0
	(cd "$BR/build" && autobuild) || status=$?
	if [ "$status" -ne 0 ]; then
		log "autobuild failed with exit status $status"
		exit "$status"
	fi
}

log "running autobuild for ${AOINB_PKGNAME:-?} ${PKGVER}-${PKGREL} (${ARCH})"
if [ -d "$BR/bundle/autobuild" ]; then
	run_autobuild "$BR/bundle/autobuild"
else
	# The ABBS tree's split layout: NN-name/ folders beside spec, each built in
	# turn as autobuild/ in the one build folder, as acbs does.
	parts=("$BR"/bundle/[0-9]*-*/)
	[ "${#parts[@]}" -gt 0 ] || fail "the bundle has neither autobuild/ nor NN-name/ package folders"
	for part in "${parts[@]}"; do
		log "building split package $(basename "$part")"
		run_autobuild "${part%/}"
	done
fi

debs=("$BR"/build/*.deb)
if [ -d /debs ]; then
	while IFS= read -r -d '' deb; do debs+=("$deb"); done < <(find /debs -name '*.deb' -print0)
fi
[ "${#debs[@]}" -gt 0 ] || fail "autobuild finished but produced no .deb"
cp "${debs[@]}" "$BR/output/"
log "collected ${#debs[@]} package(s)"
