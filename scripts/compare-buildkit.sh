#!/usr/bin/env bash
# compare-buildkit.sh: build one context with minibuild and with BuildKit and
# compare the two images: every file of the unpacked rootfs (type, mode,
# owner, content or link target) and the image config.
#
#   scripts/compare-buildkit.sh [--minibuild BIN] [--keep] CTX [-- BUILD FLAGS...]
#
# BUILD FLAGS are given to both builders and must mean the same to both:
# --secret id=ID,src=FILE, --ssh default, --opt build-arg:K=V is buildctl's
# (use --build-arg K=V here; it is translated). A FROM busybox:test is
# built from Debian's static busybox (examples/busybox) by each builder.
# BuildKit is started with ../shared/tools/buildkit.sh (override with
# $BUILDKIT_SH). Exits 0 when the images match, 1 when they differ. Empty
# dev/, proc/ and sys/ mount points that BuildKit's RUN leaves are ignored.
# Needs root, umoci and busybox-static.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
MB='' KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--minibuild) MB=$(realpath "$2"); shift ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
	shift
done
ctx=$(realpath "${1:?usage: compare-buildkit.sh [--minibuild BIN] CTX [-- FLAGS...]}")
shift
[ "${1:-}" = -- ] && shift
mbflags=() bkflags=()
while [ $# -gt 0 ]; do
	case $1 in
	--build-arg) mbflags+=(--build-arg "$2"); bkflags+=(--opt "build-arg:$2"); shift ;;
	*) mbflags+=("$1"); bkflags+=("$1") ;;
	esac
	shift
done
bk=${BUILDKIT_SH:-$repo/../shared/tools/buildkit.sh}
if [ -z "$MB" ]; then
	"$repo/scripts/build.sh" "$repo/bin/minibuild"
	MB=$repo/bin/minibuild
fi
work=$(mktemp -d /tmp/compare-buildkit-XXXXXX)
[ "$KEEP" = 1 ] && echo "compare-buildkit.sh: keeping $work" >&2 || trap 'rm -rf "$work"' EXIT
"$bk" start >/dev/null
mkdir -p "$work/bbctx"
cp "$repo/examples/busybox/Dockerfile" /bin/busybox "$work/bbctx/"
"$bk" build "$work/bbctx" "$work/bb" >/dev/null 2>&1
bbdigest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$work/bb/index.json")
"$bk" build "$ctx" "$work/bk" --oci-layout "bb=$work/bb" --opt "context:busybox:test=oci-layout://bb@$bbdigest" \
	"${bkflags[@]}" >"$work/bk.log" 2>&1 || { cat "$work/bk.log" >&2; echo "compare-buildkit.sh: BuildKit failed" >&2; exit 1; }
"$MB" build --root "$work/root" --progress quiet -t busybox:test "$work/bbctx" >/dev/null
"$MB" build --root "$work/root" --progress plain -t compare:latest -o "type=oci,dest=$work/mb" "${mbflags[@]}" "$ctx" >"$work/mb.log" 2>&1 ||
	{ cat "$work/mb.log" >&2; echo "compare-buildkit.sh: minibuild failed" >&2; exit 1; }
umoci unpack --image "$work/bk:latest" "$work/bk.bundle" >/dev/null
mbtag=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["manifests"][0]; print(m.get("annotations",{}).get("org.opencontainers.image.ref.name","latest"))' "$work/mb/index.json")
umoci unpack --image "$work/mb:$mbtag" "$work/mb.bundle" >/dev/null
python3 - "$work" <<'PY'
import hashlib, json, os, stat, sys
work = sys.argv[1]

def tree(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            desc = f"{stat.filemode(st.st_mode)} {st.st_uid}:{st.st_gid}"
            if stat.S_ISLNK(st.st_mode):
                desc += " -> " + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                desc += " " + hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]
            out[rel] = desc
    for m in ("dev", "proc", "sys"):
        if out.get(m, "").startswith("d") and not any(k.startswith(m + "/") for k in out):
            out.pop(m)
    return out

def config(layout):
    idx = json.load(open(os.path.join(layout, "index.json")))
    blob = lambda d: json.load(open(os.path.join(layout, "blobs", *d.split(":"))))
    man = blob(idx["manifests"][0]["digest"])
    return blob(man["config"]["digest"]).get("config", {})

bk, mb = tree(work + "/bk.bundle/rootfs"), tree(work + "/mb.bundle/rootfs")
diffs = []
for p in sorted(set(bk) | set(mb)):
    if bk.get(p) != mb.get(p):
        diffs.append(f"  {p}: BuildKit {bk.get(p, '(none)')!r}, minibuild {mb.get(p, '(none)')!r}")
cb, cm = config(work + "/bk"), config(work + "/mb")
for k in sorted(set(cb) | set(cm)):
    if cb.get(k) != cm.get(k):
        diffs.append(f"  config {k}: BuildKit {cb.get(k)!r}, minibuild {cm.get(k)!r}")
if diffs:
    print(f"DIFFER: {len(diffs)} differences ({len(bk)} paths in BuildKit's rootfs, {len(mb)} in minibuild's)")
    print("\n".join(diffs))
    sys.exit(1)
print(f"SAME: {len(bk)} paths, config {sorted(cb)}")
PY
