#!/usr/bin/env bash
# debian-base.sh: build a Debian base image, debian:SUITE, into a minibuild
# root, from Debian's mirror with debootstrap (no registry needed).
#
#   scripts/debian-base.sh [--root DIR] [--suite bookworm] [--minibuild BIN]
#   scripts/debian-base.sh --rootfs [--suite bookworm]
#
# The debootstrapped tree is kept in $MINIBUILD_DEBIAN_CACHE (default
# /var/tmp/minibuild-debian/SUITE), so a second run only re-imports it.
# --rootfs only makes sure the tree is there and prints its path (the
# benchmark, bench/run.sh, makes its own image of it).
# Needs root; installs debootstrap with apt-get when it is missing.
set -euo pipefail
ROOT=${MINIBUILD_ROOT:-/var/lib/minibuild} SUITE=bookworm MB='' ROOTFS_ONLY=0
while [ $# -gt 0 ]; do
	case $1 in
	--root) ROOT=$2; shift ;;
	--suite) SUITE=$2; shift ;;
	--minibuild) MB=$2; shift ;;
	--rootfs) ROOTFS_ONLY=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "debian-base.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$MB" ] && [ "$ROOTFS_ONLY" = 0 ]; then
	"$repo/scripts/build.sh" "$repo/bin/minibuild"
	MB=$repo/bin/minibuild
fi
cache=${MINIBUILD_DEBIAN_CACHE:-/var/tmp/minibuild-debian}/$SUITE
if [ ! -e "$cache/.complete" ]; then
	command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	rm -rf "$cache"
	mkdir -p "$cache"
	debootstrap --variant=minbase "$SUITE" "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log"
	touch "$cache/.complete"
fi
if [ "$ROOTFS_ONLY" = 1 ]; then
	echo "$cache/rootfs"
	exit 0
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
# The kernel's file systems and device nodes are the runtime's to provide.
tar -C "$cache/rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
	--exclude='./var/cache/apt/archives/*.deb' -cf "$ctx/rootfs.tar" .
printf 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' >"$ctx/Dockerfile"
"$MB" build --root "$ROOT" --progress quiet -t "debian:$SUITE" "$ctx"
