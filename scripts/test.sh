#!/usr/bin/env bash
# test.sh: everything the tests need on a fresh Debian machine, then the tests.
# Run as root (the tests mount overlayfs and create namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

# Independent checkers and the busybox the end-to-end tests build images from;
# a real registry (distribution v2), htpasswd for its basic auth, and zstd;
# headless Chromium and a font with the marks, to check the HTML reports.
# newuidmap and newgidmap (uidmap), for builds as an ordinary user.
# QEMU user emulation (qemu-user-static), for RUN of other architectures.
pkgs=(skopeo umoci oci-image-tool busybox-static runc docker-registry apache2-utils zstd chromium fonts-dejavu-core openssh-client uidmap qemu-user-static)
need=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "test.sh: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# QEMU's binfmt_misc handlers (F flag) and an arm64 busybox, for the
# builds of other platforms.
bash scripts/test-foreign.sh

# Two ordinary users: minibuild-test with subordinate IDs (for the
# rootless tests, which build as it through a user namespace, and the
# builder tests below), minibuild-norange without any (the one-ID
# fallback and 'minibuild doctor' saying what is missing).
id minibuild-test >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin minibuild-test
id minibuild-norange >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin minibuild-norange
touch /etc/subuid /etc/subgid
grep -q '^minibuild-test:' /etc/subuid || usermod --add-subuids 100000-165535 minibuild-test
grep -q '^minibuild-test:' /etc/subgid || usermod --add-subgids 100000-165535 minibuild-test
if grep -q '^minibuild-norange:' /etc/subuid /etc/subgid; then
	echo "test.sh: minibuild-norange must have no subordinate IDs: remove its lines from /etc/subuid and /etc/subgid"; exit 1
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -count=1 -timeout 20m "$@" ./...

# The builder's tests need neither root nor the checkers: run them again as
# an ordinary user (they build as root in a user namespace of their own).
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/builder.test" ./builder
chmod 755 "$bin" "$bin/builder.test"
(cd "$bin" && setpriv --reuid=minibuild-test --regid=minibuild-test --init-groups env HOME="$bin" ./builder.test -test.count=1)
echo "ok  	builder tests as the unprivileged user minibuild-test"
