#!/usr/bin/env bash
# demo.sh: build minibuild and the example images on a fresh Debian machine.
#   1. examples/hello   — FROM scratch, COPY, ENV, CMD: no process runs
#   2. examples/busybox — a busybox base image made offline from Debian's busybox-static
#   3. examples/app     — an app on that base with RUN steps
# Then it rebuilds (every step cached), exports an OCI layout, shows the history and runs the app.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
	echo "demo.sh: installing busybox-static"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi
scripts/build.sh bin/minibuild
export MINIBUILD_ROOT=${MINIBUILD_ROOT:-$PWD/.demo-root}
mb=bin/minibuild
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== examples/hello: build, then rebuild (every step cached)"
$mb -t hello:dev examples/hello
$mb -t hello:dev examples/hello

echo "== examples/busybox: a base image from Debian's busybox-static"
cp -r examples/busybox "$work/busybox"
cp /bin/busybox "$work/busybox/busybox"
$mb -t busybox:local "$work/busybox"

echo "== examples/app: RUN steps on that base, exported as an OCI layout"
rm -rf out/app
$mb -t app:dev -o type=oci,dest=out/app examples/app
$mb history app:dev
echo "== run it: a container is the image plus a thin writable layer (--diff shows what it wrote)"
$mb run --rm --diff app:dev -- sh -c '/app/app.sh && echo note > /app/data/note'
echo "== done: the image is in out/app (try: skopeo inspect oci:out/app:dev, or minibuild inspect app:dev)"
