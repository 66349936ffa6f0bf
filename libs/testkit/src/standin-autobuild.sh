#!/bin/bash
# =====================================================================
#  aoinb STAND-IN autobuild  --  this is NOT AOSC's autobuild.
#
#  The quick start's LAST RESORT only: installed as /usr/bin/autobuild in a
#  Debian base OS (standin-baseos-q-*) when neither ../shared/vendor's
#  autobuild4 source nor the pinned upstream release can be had. Tests never
#  use it: they build with AOSC's real autobuild4 (test-baseos.ts). It honours
#  the bundle contract in docs/aosc-bundle-contract.md and nothing more:
#
#    cwd = the build dir holding autobuild/; the caller exports PKGVER,
#    PKGREL, PKGEPOCH (may be empty) and ARCH.
#    defines (+ VAR__ARCH overrides) -> apt-get install BUILDDEP PKGDEP ->
#    patches -> prepare -> build (ABTYPE=self / autobuild/build, or a
#    Makefile) -> beyond -> overrides, maintainer scripts, DEBIAN/control
#    -> ${PKGNAME}_${PKGVER}-${PKGREL}_${ARCH}.deb in the build dir.
#    Split packages: autobuild/NN-name/ folders, built in NN order.
#
#  It never fetches anything and never runs apt-get update (whoever adds an
#  apt source refreshes the lists), as the real autobuild. It does not strip
#  binaries, make -dbg packages, run QA checks or know autobuild's other build
#  templates (autotools, cmake, meson, ...).
# =====================================================================
set -eE -o pipefail
shopt -s extglob
umask 022
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DPKG_COLORS=never

abinfo() { printf '[INFO]:  %s\n' "$*"; }
abwarn() { printf '[WARN]:  %s\n' "$*" >&2; }
aberr() { printf '[ERROR]: %s\n' "$*" >&2; }
abdie() { aberr "$*"; exit 1; }
export -f abinfo abwarn aberr

on_exit() {
	local rc=$?
	((rc == 0)) || aberr "autobuild (aoinb stand-in) failed with exit status $rc"
}
trap on_exit EXIT

# --- defines -----------------------------------------------------------

# VAR__AMD64=... overrides VAR when building for amd64.
apply_arch_overrides() {
	local suffix="__${ARCH^^}" var
	for var in $(compgen -v); do
		[[ $var == *"$suffix" && $var != "$suffix" ]] || continue
		declare -g "${var%"$suffix"}=${!var}"
	done
}

load_defines() {
	local abdir=$1
	if [[ $abdir != autobuild && -f autobuild/defines ]]; then
		. autobuild/defines
	fi
	[[ -f $abdir/defines ]] || abdie "$abdir/defines is missing"
	. "$abdir/defines"
	apply_arch_overrides
	local key
	for key in PKGNAME PKGSEC PKGDES; do
		[[ -n ${!key} ]] || abdie "$abdir/defines: $key is required"
	done
}

check_arch_filters() {
	local abdir=$1
	if [[ -n $FAIL_ARCH && $ARCH == $FAIL_ARCH ]]; then
		abdie "$abdir/defines: FAIL_ARCH=\"$FAIL_ARCH\" excludes $ARCH"
	fi
	if [[ -n $ALLOW_ARCH && $ARCH != $ALLOW_ARCH ]]; then
		abdie "$abdir/defines: ALLOW_ARCH=\"$ALLOW_ARCH\" does not include $ARCH"
	fi
}

# --- dependencies ------------------------------------------------------

# foo>=1.2 -> "foo (>= 1.2)"; a|b -> "a | b".
dep_to_debian() {
	local alt out='' name op ver re='^([^<>=]+)(<=|>=|==|=|<<|>>|<|>)(.+)$'
	local IFS='|'
	for alt in $1; do
		if [[ $alt =~ $re ]]; then
			name=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]} ver=${BASH_REMATCH[3]}
			case $op in '==') op='=' ;; '<') op='<<' ;; '>') op='>>' ;; esac
			alt="$name ($op $ver)"
		fi
		out+="${out:+ | }$alt"
	done
	printf '%s' "$out"
}

deps_field() {
	local dep out=''
	for dep in $1; do
		out+="${out:+, }$(dep_to_debian "$dep")"
	done
	printf '%s' "$out"
}

is_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# Picks one alternative to install: the first one already installed, else the first.
pick_alternative() {
	local alt
	local IFS='|'
	for alt in $1; do
		if is_installed "${alt%%[<>=]*}"; then printf '%s' "$alt"; return; fi
	done
	printf '%s' "${1%%|*}"
}

# Fails unless the installed version of a "name (op ver)" dependency satisfies it.
check_constraint() {
	local name=$1 op=$2 ver=$3 installed
	installed=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null) || {
		abwarn "cannot check $name ($op $ver): $name is not a real installed package"
		return 0
	}
	dpkg --compare-versions "$installed" "$op" "$ver" ||
		abdie "dependency $name ($op $ver) not satisfied: installed version is $installed"
}

install_deps() {
	local dep alt names=() checks=() skip=" $SPLIT_NAMES "
	local exact='^([^ ]+) \(= (.+)\)$' ranged='^([^ ]+) \(([<>=]+) (.+)\)$'
	for dep in $BUILDDEP $PKGDEP; do
		alt=$(dep_to_debian "$(pick_alternative "$dep")")
		[[ $skip == *" ${alt%% *} "* ]] && continue
		if [[ $alt =~ $exact ]]; then
			names+=("${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
		elif [[ $alt =~ $ranged ]]; then
			names+=("${BASH_REMATCH[1]}")
			checks+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}")
		else
			names+=("$alt")
		fi
	done
	((${#names[@]})) || return 0
	abinfo "Installing dependencies: ${names[*]}"
	apt-get install -y --no-install-recommends "${names[@]}"
	for dep in "${checks[@]}"; do
		check_constraint $dep
	done
}

# --- stages --------------------------------------------------------------

apply_patches() {
	local abdir=$1 pdir=$1/patches p list=()
	if [[ -f $abdir/patch ]]; then
		abinfo "Running $abdir/patch ..."
		. "$abdir/patch"
		return
	fi
	[[ -d $pdir ]] || return 0
	if [[ -f $pdir/series ]]; then
		while read -r p; do
			p=${p%%#*}
			p=${p%%+([[:space:]])}
			[[ -n $p ]] && list+=("$pdir/$p")
		done <"$pdir/series"
	else
		shopt -s nullglob
		list=("$pdir"/*.patch "$pdir"/*.diff "$pdir"/*.patch."$ARCH" "$pdir"/*.diff."$ARCH")
		shopt -u nullglob
		((${#list[@]} == 0)) || mapfile -t list < <(printf '%s\n' "${list[@]}" | sort)
	fi
	for p in "${list[@]}"; do
		abinfo "Applying patch ${p##*/} ..."
		patch -Np1 -i "$p"
	done
}

run_build() {
	local abdir=$1
	if [[ $ABTYPE == self || -f $abdir/build ]]; then
		[[ -f $abdir/build ]] || abdie "$abdir/defines: ABTYPE=self but $abdir/build is missing"
		AB_STAGE=$abdir/build
		abinfo "Running $abdir/build ..."
		. "$abdir/build"
	elif [[ -n $ABTYPE && $ABTYPE != plainmake ]]; then
		abdie "$abdir/defines: ABTYPE=$ABTYPE is not supported by aoinb's stand-in autobuild (only self and plainmake)"
	elif [[ -f Makefile || -f makefile || -f GNUmakefile ]]; then
		AB_STAGE="make in $SRCDIR"
		abinfo "Building with make ..."
		make -j"$ABTHREADS"
		make install DESTDIR="$PKGDIR"
	else
		abdie "cannot tell how to build: no $abdir/build, no ABTYPE=self and no Makefile in $SRCDIR"
	fi
}

run_stage() {
	local file=$1
	[[ -f $file ]] || return 0
	AB_STAGE=$file
	abinfo "Running $file ..."
	cd "$SRCDIR"
	. "$file"
}

# --- packaging -----------------------------------------------------------

copy_package_files() {
	local abdir=$1 script
	if [[ -d $abdir/overrides ]]; then
		abinfo "Copying $abdir/overrides ..."
		cp -a "$abdir/overrides/." "$PKGDIR/"
	fi
	install -d -m 0755 "$PKGDIR/DEBIAN"
	[[ -f $abdir/conffiles ]] && install -m 0644 "$abdir/conffiles" "$PKGDIR/DEBIAN/conffiles"
	for script in preinst postinst prerm postrm; do
		[[ -f $abdir/$script ]] || continue
		{
			[[ $(head -c2 "$abdir/$script") == '#!' ]] || echo '#!/bin/bash'
			cat "$abdir/$script"
		} >"$PKGDIR/DEBIAN/$script"
		chmod 0755 "$PKGDIR/DEBIAN/$script"
	done
}

write_control() {
	local field var value
	{
		echo "Package: $PKGNAME"
		echo "Version: ${PKGEPOCH:+$PKGEPOCH:}$PKGVER-$PKGREL"
		echo "Architecture: $DEB_ARCH"
		echo "Maintainer: ${MTER:-aoinb stand-in autobuild <aoinb@localhost>}"
		echo "Installed-Size: $(du -sk --exclude=DEBIAN "$PKGDIR" | cut -f1)"
		echo "Section: $PKGSEC"
		for field in Depends:PKGDEP Recommends:PKGRECOM Suggests:PKGSUG Breaks:PKGBREAK \
			Conflicts:PKGCONFL Replaces:PKGREP Provides:PKGPROV; do
			var=${field#*:}
			value=$(deps_field "${!var}")
			[[ -z $value ]] || echo "${field%%:*}: $value"
		done
		echo "Description: ${PKGDES//$'\n'/ }"
	} >"$PKGDIR/DEBIAN/control"
}

build_deb() {
	local file_arch=$ARCH
	DEB_ARCH=$ARCH
	if [[ $ABHOST == noarch ]]; then
		DEB_ARCH=all file_arch=noarch
	fi
	write_control
	local deb="${PKGNAME}_${PKGVER}-${PKGREL}_${file_arch}.deb"
	abinfo "Building $deb ..."
	dpkg-deb --root-owner-group --build "$PKGDIR" "$SRCDIR/$deb"
	abinfo "Built $deb"
}

# --- one package ---------------------------------------------------------

# Names the stage a package failed in (runs in build_one's subshell).
package_failed() {
	local rc=$?
	((rc == 0)) || aberr "building ${PKGNAME:-the package from $AB_DIR} failed in ${AB_STAGE:-setup} (exit status $rc)"
}

build_one() {
	local abdir=$1
	AB_DIR=$abdir AB_STAGE="reading $abdir/defines"
	trap package_failed EXIT
	cd "$SRCDIR"
	load_defines "$abdir"
	abinfo "Package $PKGNAME $PKGVER-$PKGREL for $ARCH (from $abdir)"
	AB_STAGE="checking architecture filters"
	check_arch_filters "$abdir"
	AB_STAGE="installing dependencies"
	install_deps
	PKGDIR=$SRCDIR/abdist
	rm -rf "$PKGDIR"
	mkdir -p "$PKGDIR"
	export SRCDIR PKGDIR PKGNAME PKGVER PKGREL ARCH CFLAGS CPPFLAGS CXXFLAGS LDFLAGS
	AB_STAGE="applying patches"
	apply_patches "$abdir"
	run_stage "$abdir/prepare"
	cd "$SRCDIR"
	AB_STAGE="choosing the build method"
	run_build "$abdir"
	run_stage "$abdir/beyond"
	cd "$SRCDIR"
	AB_STAGE=packaging
	copy_package_files "$abdir"
	build_deb
	rm -rf "$PKGDIR"
}

split_names() {
	local dir
	for dir in "$@"; do
		(load_defines "${dir%/}" >/dev/null && printf '%s ' "$PKGNAME")
	done
}

main() {
	abinfo "autobuild (aoinb stand-in, not AOSC autobuild) in $PWD"
	# MTER and friends, as the farm writes them per instance (autobuild4 reads the same file).
	if [[ -f /etc/autobuild/ab4cfg.sh ]]; then . /etc/autobuild/ab4cfg.sh; fi
	[[ -d autobuild ]] || abdie "no autobuild/ folder in $PWD: run autobuild in the build directory"
	[[ -n $PKGVER ]] || abdie "PKGVER is not set: the caller must export PKGVER, PKGREL and ARCH"
	[[ -n $ARCH ]] || abdie "ARCH is not set: the caller must export PKGVER, PKGREL and ARCH"
	export PKGREL=${PKGREL:-0} PKGEPOCH=${PKGEPOCH:-}
	export SRCDIR=$PWD ABTHREADS=${ABTHREADS:-$(nproc)}
	export CFLAGS="-O2 -pipe -fno-omit-frame-pointer -fstack-protector-strong"
	export CXXFLAGS=$CFLAGS CPPFLAGS="-D_FORTIFY_SOURCE=2"
	export LDFLAGS="-Wl,-O1,--sort-common,--as-needed -Wl,-z,relro -Wl,-z,now"
	shopt -s nullglob
	local splits=(autobuild/[0-9][0-9]-*/)
	shopt -u nullglob
	if ((${#splits[@]} == 0)); then
		SPLIT_NAMES=''
		(build_one autobuild)
		return
	fi
	SPLIT_NAMES=$(split_names "${splits[@]}")
	SPLIT_NAMES=${SPLIT_NAMES% }
	abinfo "Split packages: $SPLIT_NAMES"
	local dir
	for dir in "${splits[@]}"; do
		(build_one "${dir%/}")
	done
}

main "$@"
