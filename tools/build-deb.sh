#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-deb.sh OUTDIR — build the Debian package from the working tree as it
# is now (uncommitted changes and new files included, ignored files and
# build*/ excluded) and copy fwguard_*.deb, .changes and .buildinfo to OUTDIR.
# Prints the path of each .deb, one a line, on stdout.
#
# dpkg-buildpackage writes its results next to the source tree and its work
# files into debian/ and obj-*/, so it runs on a copy in a temporary
# directory: the tree and its build-* directories stay untouched.
#
# Results are cached by a hash of the copied files (names, modes, contents):
# repeated and concurrent calls on the same tree build once. The cache is
# $FWGUARD_DEB_CACHE (default /var/tmp/fwguard-deb-cache); it keeps the last
# few builds. FWGUARD_DEB_REBUILD=1 ignores a cached build.
#
# The package's own test suites need root, network namespaces and sshd: they
# run from the tree (tools/run-tests.sh), so the build sets nocheck, and
# noautodbgsym to save time (no -dbgsym package).
set -euo pipefail

die() { echo "build-deb.sh: $*" >&2; exit 1; }

[ $# = 1 ] || die "usage: build-deb.sh OUTDIR"
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cache=${FWGUARD_DEB_CACHE:-/var/tmp/fwguard-deb-cache}
keep=4

list=$(mktemp)
work=
cleanup() { rm -f "$list"; [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT

# Tracked files (minus deleted ones) and untracked files that .gitignore does not exclude.
git -C "$src" ls-files -z -c -o --exclude-standard |
        while IFS= read -r -d '' f; do
                case $f in build*/*) continue ;; esac
                [ -e "$src/$f" ] || [ -L "$src/$f" ] || continue
                printf '%s\0' "$f"
        done | LC_ALL=C sort -z -u > "$list"

hash=$(cd "$src" && {
        xargs -0 -r stat -c '%n %a %F' < "$list"
        xargs -0 -r -n 64 sh -c 'for f; do
                if [ -L "$f" ]; then readlink "$f"; elif [ -f "$f" ]; then sha256sum < "$f"; fi
        done' sh < "$list"
} | sha256sum | cut -c1-16)

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

entry=$cache/$hash
if [ -n "${FWGUARD_DEB_REBUILD:-}" ] || ! [ -e "$entry/.done" ]; then
        rm -rf "$entry"
        work=$(mktemp -d "${TMPDIR:-/tmp}/fwguard-deb.XXXXXX")
        mkdir "$work/fwguard"
        tar -C "$src" --null -T "$list" -cf - | tar -C "$work/fwguard" -xf -
        [ -d "$work/fwguard/debian" ] || die "no debian/ in the tree (the link debian -> packaging/debian)"
        start=$(date +%s)
        log=$work/build.log
        if ! (cd "$work/fwguard" &&
              DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" \
              dpkg-buildpackage -us -uc -b) > "$log" 2>&1; then
                tail -n 40 "$log" >&2
                die "dpkg-buildpackage failed (log above)"
        fi
        rm -rf "$entry.tmp"
        mkdir "$entry.tmp"
        cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$log" "$entry.tmp/"
        echo "$(($(date +%s) - start))" > "$entry.tmp/build-seconds"
        touch "$entry.tmp/.done"
        rm -rf "$entry"
        mv "$entry.tmp" "$entry"
        # Keep the newest few builds.
        ls -1td "$cache"/*/ | tail -n +$((keep + 1)) | xargs -r rm -rf
        echo "build-deb.sh: built in $(cat "$entry/build-seconds") s (cache $entry)" >&2
else
        touch "$entry"
        echo "build-deb.sh: cached build $entry" >&2
fi

cp "$entry"/*.deb "$entry"/*.changes "$entry"/*.buildinfo "$out/"
for deb in "$entry"/*.deb; do
        echo "$out/$(basename "$deb")"
done
