# lib.sh: what every lesson needs. Source it from a lesson's run.sh.
# It builds minibuild (unless $MINIBUILD names a binary), gives the lesson a
# fresh store of its own, and builds the busybox base image into it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${MINIBUILD:-}" ]; then
	mkdir -p "$repo/bin"
	(cd "$repo" && go build -o bin/minibuild ./cmd/minibuild)
	MINIBUILD=$repo/bin/minibuild
fi
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
	echo "installing busybox-static (the lessons' base image is made from it)"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi
export MINIBUILD_ROOT=${LESSON_ROOT:-$(mktemp -d /tmp/minibuild-lesson-XXXXXX)}
work=$(mktemp -d /tmp/minibuild-lesson-work-XXXXXX)
trap 'rm -rf "$work"' EXIT

# Each lesson draws its builds as HTML reports (minibuild --report and
# minibuild report --compare) into $REPORT_DIR, else into its work dir.
report_dir=${REPORT_DIR:-$work}
mkdir -p "$report_dir"

# mb runs minibuild with the lesson's store.
mb() { "$MINIBUILD" "$@"; }

# base builds busybox:local from Debian's static busybox.
base() {
	rm -rf "$work/busybox"
	cp -r "$repo/examples/busybox" "$work/busybox"
	cp /bin/busybox "$work/busybox/busybox"
	mb -t busybox:local --progress quiet "$work/busybox" >/dev/null
}

# cascade builds and prints one line per step: its cache result and why.
#   cascade TITLE [build flags] CONTEXT
cascade() {
	local title=$1; shift
	echo
	echo "--- $title"
	local md="$work/md.json"
	# With $cascade_log set, the build's plain output is kept there.
	if [ -n "${cascade_log:-}" ]; then
		mb --progress plain --metadata-file "$md" "$@" >"$cascade_log" 2>&1
	else
		mb --progress quiet --metadata-file "$md" "$@" >/dev/null
	fi
	python3 - "$md" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["steps"]:
    mark = {"hit": "  HIT ", "miss": "✗ MISS", "base": "  BASE"}.get(s["cache"], s["cache"])
    print(f"  {mark}  step {s['index']} line {s['line']:<3} {s['instruction'][:60]}")
    if s["reason"]:
        print(f"                 why: {s['reason']}")
PY
}

# lesson copies a lesson's files into a scratch context dir and prints its path.
lesson() {
	local dir="$work/ctx"
	rm -rf "$dir"
	cp -r "$1" "$dir"
	echo "$dir"
}
