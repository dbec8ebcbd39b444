#!/usr/bin/env bash
# make.sh: regenerate the screenshots examples/README.md shows. It runs
# lessons 1 and 3 with REPORT_DIR set, then has headless Chromium (Debian's
# chromium, installed when missing) photograph their before/after reports.
# Run as root, like the lessons: bash examples/screenshots/make.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if ! command -v chromium >/dev/null; then
	echo "installing chromium (headless, for the screenshots)"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
if [ -z "${MINIBUILD:-}" ]; then
	(cd "$repo" && go build -o bin/minibuild ./cmd/minibuild)
	export MINIBUILD=$repo/bin/minibuild
fi
out=$(mktemp -d /tmp/minibuild-screenshots-XXXXXX)
trap 'rm -rf "$out"' EXIT
for lesson in 1-order 3-identical-layer; do
	REPORT_DIR=$out/reports LESSON_ROOT=$out/root-$lesson bash "$repo/examples/lessons/$lesson/run.sh" >/dev/null
done

# shot PAGE PNG [chromium flags]: a 1400x1000 screenshot of a report.
shot() {
	local page=$1 png=$2; shift 2
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$out/profile" --hide-scrollbars --window-size=1400,1000 \
		--screenshot="$here/$png" "$@" "file://$out/reports/$page" 2>/dev/null
	echo "wrote examples/screenshots/$png"
}
shot 3-identical-layer-cascade-compare.html 3-identical-layer-cascade.png
shot 3-identical-layer-content-compare.html 3-identical-layer-content.png
shot 3-identical-layer-content-compare.html 3-identical-layer-content-dark.png --force-dark-mode --blink-settings=preferredColorScheme=0
shot 1-order-slow-compare.html 1-order-slow.png
shot 1-order-fast-compare.html 1-order-fast.png
