#!/bin/bash
# aoinb toolbox: runs INSIDE the build container as /buildroot/toolbox/build.sh.
# The host has already fetched and verified every source into /buildroot/sources
# (listed in its manifest, main source first) and parsed the spec; it passes
# what it parsed as AOINB_* variables. This script unpacks, runs AOSC's autobuild4
# (once, or once per split package) and leaves in /buildroot/output each .deb
# this build made, once by name, flat (-dbg packages too unless AOINB_KEEP_DBG=0).
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

if [ -n "${AOINB_APT_UPDATE:-}" ]; then
	log "refreshing apt lists for the extra repositories"
	apt-get update -q
fi

mkdir -p "$BR/build" "$BR/output"
first=1
if [ -f "$BR/sources/manifest" ]; then
	while IFS=$'\t' read -r kind name; do
		[ -n "$kind" ] || continue
		if [ "$first" = 1 ]; then place_main_source "$kind" "$name"; first=0; else place_extra_source "$kind" "$name"; fi
	done < "$BR/sources/manifest"
fi

export PKGVER="$AOINB_PKGVER" PKGREL="$AOINB_PKGREL" PKGEPOCH="${AOINB_PKGEPOCH:-}" ARCH="$AOINB_ARCH"

# Only packages made by this build are collected: anything older than this
# marker (a .deb shipped in a source tarball, one left in /debs by the base OS)
# is not ours.
marker="$BR/.autobuild-started"
touch "$marker"

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

# Split packages as acbs builds them: the NN-name/ folders (beside spec in the
# ABBS layout, or under autobuild/), in the numeric order of NN, each copied in
# turn as autobuild/ into the one build folder the source was unpacked into.
split_parts() { # folder holding NN-name/ folders
	local dir
	for dir in "$1"/[0-9]*-*/; do
		if [ -f "${dir}defines" ]; then printf '%s\t%s\n' "$(basename "$dir" | cut -d- -f1)" "${dir%/}"; fi
	done | sort -n -k1,1 | cut -f2
}

log "running autobuild for ${AOINB_PKGNAME:-?} ${PKGVER}-${PKGREL} (${ARCH})"
if [ -f "$BR/bundle/autobuild/defines" ]; then
	run_autobuild "$BR/bundle/autobuild"
else
	mapfile -t parts < <(split_parts "$BR/bundle"; [ -d "$BR/bundle/autobuild" ] && split_parts "$BR/bundle/autobuild")
	[ "${#parts[@]}" -gt 0 ] || fail "the bundle has neither autobuild/defines nor NN-name/ package folders (beside spec or under autobuild/)"
	for part in "${parts[@]}"; do
		log "building split package $(basename "$part")"
		run_autobuild "$part"
	done
fi

# autobuild4 leaves each .deb in the build folder AND copies it to
# /debs/<prefix>/: collect each name once. Two different files with one name
# mean something is wrong; say which.
declare -A found=()
collect_one() { # path of a .deb
	local name
	name=$(basename "$1")
	case "$name" in *-dbg_*.deb) [ "${AOINB_KEEP_DBG:-1}" = 1 ] || { log "not keeping debug package $name ([build] keep_dbg = false)"; return 0; } ;; esac
	if [ -n "${found[$name]:-}" ]; then
		cmp -s "${found[$name]}" "$1" || fail "two different packages named $name: ${found[$name]} and $1"
		return 0
	fi
	found[$name]=$1
}
while IFS= read -r -d '' deb; do
	collect_one "$deb"
done < <(find "$BR/build" -maxdepth 1 -name '*.deb' -type f -newer "$marker" -print0; [ -d /debs ] && find /debs -name '*.deb' -type f -newer "$marker" -print0)
[ "${#found[@]}" -gt 0 ] || fail "autobuild finished but produced no .deb"
for name in "${!found[@]}"; do cp -- "${found[$name]}" "$BR/output/$name"; done
rm -f "$marker"
log "collected ${#found[@]} package(s): $(printf '%s\n' "${!found[@]}" | sort | tr '\n' ' ')"
