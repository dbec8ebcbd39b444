#!/usr/bin/env bash
# test-foreign.sh: what the tests of other architectures need, set up once
# (scripts/test.sh runs it; it prints only what it changes):
#  - QEMU's binfmt_misc handlers for aarch64 and arm, with the F flag. On
#    Debian 12 qemu-user-static's postinst registers nothing without
#    binfmt-support, and systemd-binfmt only where systemd runs: here the
#    lines of /usr/lib/binfmt.d/qemu-ARCH.conf go to binfmt_misc's register
#    file, after mounting binfmt_misc where it is not.
#  - a static busybox for arm64: Debian's busybox-static:arm64, unpacked,
#    not installed, to $MINIBUILD_TEST_BUSYBOX_ARM64 (default below), from
#    an arm64-only package list of the Debian mirror kept apart from the
#    machine's own (no dpkg --add-architecture).
# Run as root, with qemu-user-static installed.
set -euo pipefail

binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
	echo "test-foreign.sh: mounting binfmt_misc on $binfmt"
	mount -t binfmt_misc binfmt_misc "$binfmt" ||
		{ echo "test-foreign.sh: cannot mount binfmt_misc (in a container, it must be privileged)"; exit 1; }
fi
if [ "$(cat "$binfmt/status")" != enabled ]; then
	echo "test-foreign.sh: enabling binfmt_misc"
	echo 1 >"$binfmt/status"
fi
for arch in aarch64 arm; do
	entry=$binfmt/qemu-$arch
	if [ -e "$entry" ] && ! { grep -qx enabled "$entry" && grep -q '^flags: .*F' "$entry"; }; then
		echo "test-foreign.sh: qemu-$arch is disabled or lacks the F flag: registering it again"
		echo -1 >"$entry"
	fi
	if [ ! -e "$entry" ]; then
		conf=/usr/lib/binfmt.d/qemu-$arch.conf
		line=$(grep -m1 '^:' "$conf") || { echo "test-foreign.sh: no $conf (is qemu-user-static installed?)"; exit 1; }
		case "${line##*:}" in
		*F*) ;;
		*) echo "test-foreign.sh: $conf registers qemu-$arch without the F flag"; exit 1 ;;
		esac
		printf '%s\n' "$line" >"$binfmt/register"
	fi
done

bb=${MINIBUILD_TEST_BUSYBOX_ARM64:-/var/cache/minibuild-test/busybox-arm64/bin/busybox}
if [ ! -x "$bb" ]; then
	echo "test-foreign.sh: fetching Debian's busybox-static for arm64 to $bb"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	. /etc/os-release
	mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/sources"
	cat >"$tmp/sources/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $VERSION_CODENAME-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt=(-qq -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o APT::Sandbox::User=root
		-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
		-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/sources")
	apt-get "${apt[@]}" update
	(cd "$tmp" && apt-get "${apt[@]}" download busybox-static)
	dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/root"
	# e_machine 183: an aarch64 ELF.
	if [ "$(od -An -tx1 -j18 -N2 "$tmp/root/bin/busybox" | tr -d ' ')" != b700 ]; then
		echo "test-foreign.sh: the busybox of busybox-static:arm64 is no aarch64 binary"; exit 1
	fi
	mkdir -p "$(dirname "$bb")"
	install -m 755 "$tmp/root/bin/busybox" "$bb.new"
	mv "$bb.new" "$bb"
fi
