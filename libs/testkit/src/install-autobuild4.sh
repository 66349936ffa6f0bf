#!/bin/bash
# Runs INSIDE the freshly debootstrapped test base OS (under systemd-nspawn):
# builds AOSC's real autobuild4 from /root/autobuild4.tar.gz with the commands
# its README gives (see ../shared/vendor/README.md), installs it (/usr/bin/autobuild,
# /usr/lib/<triplet>/autobuild4/, /etc/autobuild/), then removes what only the
# build needed. autobuild4 is a bash builtin (libautobuild.so loaded with
# `enable -f`), so at run time it needs the shared libraries that .so links to;
# those are kept, the compilers' extras and headers go.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

build_deps=(cmake ninja-build nlohmann-json3-dev libfmt-dev libelf-dev bash-builtins pkg-config)
src=/root/autobuild4-src

echo "[test base os] installing autobuild4's build dependencies: ${build_deps[*]}"
apt-get install -y -q --no-install-recommends "${build_deps[@]}"

mkdir -p "$src"
tar -xzf /root/autobuild4.tar.gz -C "$src" --strip-components=1 --no-same-owner
cd "$src"
echo "[test base os] building autobuild4"
cmake -S . -B build -GNinja -DCMAKE_INSTALL_PREFIX=/usr
ninja -C build
ninja -C build install
cd /

lib=$(find /usr/lib -path '*/autobuild4/libautobuild.so' -print -quit)
[ -n "$lib" ] || { echo "[test base os] error: autobuild4 installed no libautobuild.so"; exit 1; }

# The packages owning the libraries the builtin links to stay installed (and manual).
runtime=()
while read -r so; do
	owner=$(dpkg-query -S "$so" 2>/dev/null || dpkg-query -S "$(readlink -f "$so")" 2>/dev/null || dpkg-query -S "/usr$so")
	runtime+=("${owner%%:*}")
done < <(ldd "$lib" | awk '/=> \//{print $3}')
mapfile -t runtime < <(printf '%s\n' "${runtime[@]}" | sort -u)
echo "[test base os] autobuild4's run-time libraries come from: ${runtime[*]}"
apt-mark manual "${runtime[@]}" >/dev/null

apt-get purge -y -q --autoremove "${build_deps[@]}"
apt-get clean
rm -rf "$src" /root/autobuild4.tar.gz

# Every library the builtin links to must still be there once the build dependencies are gone.
if ldd "$lib" | grep -q 'not found'; then
	echo "[test base os] error: removing autobuild4's build dependencies broke $lib:"
	ldd "$lib"
	exit 1
fi
[ -x /usr/bin/autobuild ] || { echo "[test base os] error: /usr/bin/autobuild is missing"; exit 1; }
echo "[test base os] autobuild4 installed: /usr/bin/autobuild, $(dirname "$lib")"
