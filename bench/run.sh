#!/usr/bin/env bash
# run.sh: minibuild against BuildKit and Buildah, side by side (issue 5).
#
#   bench/run.sh [--rounds N] [--only W1,W2,W3,W4] [--skip-peers]
#                [--minibuild BIN] [--baseline BIN] [--profile DIR] [--keep]
#
# Generates the workloads (see lib/workloads.sh) in a temporary directory,
# installs what is missing (pigz, zstd, GNU time, busybox-static, Buildah,
# runc with apt-get; buildkitd and buildctl built once from the Go module
# proxy at a pinned version), starts a private buildkitd, and runs every
# builder in turn (minibuild, BuildKit, Buildah, minibuild, ...) for N
# rounds of: a cold build, a rebuild with nothing changed, and a rebuild
# after one change. On W1 it also times tar piped to pigz and zstd, the raw
# cost of W1's layer; on W4, its floor (the base unpacked with tar, the same
# commands in a chroot). Prints per-round times as they come, then a table
# of medians and the ratios of minibuild to the faster of BuildKit and
# Buildah, minibuild's peak RSS and the targets of issues 5 and 18. Exits 0
# when every build succeeded, 1 otherwise.
#
#   --rounds N        rounds per workload (default 3)
#   --only LIST       workloads to run, comma-separated (default W1,W2,W3,W4)
#   --skip-peers      minibuild only (no BuildKit, no Buildah)
#   --minibuild BIN   measure this binary instead of building ./cmd/minibuild
#   --baseline BIN    also measure another minibuild binary (an earlier
#                     commit's) as a peer in the same rounds, "previous",
#                     so a change is compared with what it changed under the
#                     same load (the machine's disk speed drifts between runs)
#   --profile DIR     write a CPU profile of every minibuild build to DIR
#                     (W-scenario-round.pprof; read with go tool pprof -top)
#   --keep            keep the temporary directory (contexts, stores, log)
#
# Needs root (buildkitd, overlay mounts, namespaces) and about 6 GB in $TMPDIR.
# W4's Debian tree is debootstrapped from Debian's mirror the first time
# (scripts/debian-base.sh --rootfs, cached in /var/tmp/minibuild-debian) and
# its base layout made once (cached beside BuildKit, below).
set -euo pipefail

ROUNDS=3 ONLY=W1,W2,W3,W4 SKIP_PEERS=0 MB='' BASE_MB='' PROFILE_DIR='' KEEP=0
BK_VERSION=v0.34.2
BENCH_CACHE=${MINIBUILD_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minibuild-bench}
BK_BIN=$BENCH_CACHE/buildkit-$BK_VERSION
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)

say() { echo "run.sh: $*" >&2; }
die() {
	say "$*"
	exit 1
}
usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
	--rounds=*) ROUNDS=${1#*=} ;;
	--only) ONLY=${2:?--only needs a list}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	--skip-peers) SKIP_PEERS=1 ;;
	--minibuild) MB=$(realpath "${2:?--minibuild needs a path}"); shift ;;
	--baseline) BASE_MB=$(realpath "${2:?--baseline needs a path}"); shift ;;
	--profile) PROFILE_DIR=${2:?--profile needs a directory}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage 0 ;;
	*) say "unknown argument $1"; usage 2 >&2 ;;
	esac
	shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds $ROUNDS: want a positive number"
WORKLOADS=$(echo "$ONLY" | tr ',' ' ')
for w in $WORKLOADS; do
	case $w in W1 | W2 | W3 | W4) ;; *) die "--only: unknown workload $w (want W1, W2, W3, W4)" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (buildkitd, overlay mounts, namespaces)"
if [ -n "$PROFILE_DIR" ]; then
	mkdir -p "$PROFILE_DIR" && PROFILE_DIR=$(realpath "$PROFILE_DIR")
fi

. "$BENCH/lib/setup.sh"
. "$BENCH/lib/base.sh"
. "$BENCH/lib/workloads.sh"
. "$BENCH/lib/builders.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/mb-bench.XXXXXX")
LOG=$T/log RES=$T/results FAILED=0 BK_PID=
mkdir -p "$T/bin" "$T/gen" "$T/work" "$T/state"
: >"$RES"
cleanup() {
	stop_buildkitd
	unmount_under "$T"
	if [ "$KEEP" = 1 ]; then
		say "kept $T"
	else
		[ "$FAILED" = 1 ] && cp "$LOG" "$T.log" && say "log of the failed run: $T.log"
		rm -rf "$T"
	fi
}
trap cleanup EXIT

say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (other work on the machine skews every number)"
BUILDERS=minibuild
install_tools
build_minibuild
if [ "$SKIP_PEERS" = 0 ]; then
	install_buildkit
	start_buildkitd
	BUILDERS=$BUILDERS_ALL
fi
if [ -n "$BASE_MB" ]; then
	[ -x "$BASE_MB" ] || die "--baseline $BASE_MB: not an executable"
	BUILDERS="$BUILDERS previous"
fi
make_bases

# measure W SCENARIO BUILDER ROUND builds W with BUILDER and records the time.
measure() {
	local w=$1 s=$2 b=$3 r=$4 t0 t1 secs
	echo "=== $w $s $b round $r" >>"$LOG"
	PROFILE_OUT=
	[ -n "$PROFILE_DIR" ] && [ "$b" = minibuild ] && PROFILE_OUT=$PROFILE_DIR/$w-$s-$r.pprof
	# Start every build with no dirty pages left by the one before.
	sync
	t0=$(date +%s%N)
	if "build_${b}_W" "$w" >>"$LOG" 2>&1; then
		t1=$(date +%s%N)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	else
		secs=fail FAILED=1
		say "$b failed on $w $s (round $r); the log's end:"
		tail -n 15 "$LOG" >&2
	fi
	echo "T $w $s $b $r $secs" >>"$RES"
	if [ "$b" = minibuild ] && [ "$secs" != fail ]; then
		awk -v k="$w $s $r" '/Maximum resident set size/ { rss = $NF }
			/User time/ { u = $NF } /System time/ { s = $NF }
			END { print "RSS", k, rss; print "CPU", k, u, s }' "$T/time.out" >>"$RES"
	fi
	printf '  %-3s %-9s %-10s round %d: %s s\n' "$w" "$s" "$b" "$r" "$secs"
}

# baseline W NAME ROUND CMD times shell code (a pipeline over W1's source,
# W4's floor), run in W's context directory; recorded as scenario "layer".
baseline() {
	local w=$1 name=$2 r=$3 t0 t1
	echo "=== $w layer $name round $r" >>"$LOG"
	sync
	t0=$(date +%s%N)
	(cd "$T/work/$w" && set -o pipefail && eval "$4") >>"$LOG" 2>&1 || die "baseline $w $name failed"
	t1=$(date +%s%N)
	awk -v w="$w" -v a="$t0" -v b="$t1" -v n="$name" -v r="$r" 'BEGIN { printf "T %s layer %s %d %.3f\n", w, n, r, (b - a) / 1e9 }' >>"$RES"
	printf '  %-3s layer     %-10s round %d: %s s\n' "$w" "$name" "$r" "$(tail -n 1 "$RES" | cut -d' ' -f6)"
}

# rotated R prints the builders in round R's order: the list turned by R-1
# places. Every build inherits after-effects of the one before it (on these
# machines' ext4 without a journal, a builder that deletes thousands of
# files, as Buildah does with its working container, makes file creation
# scan past the freed inodes for a minute or more), so no builder may
# always follow the same other one.
rotated() {
	local -a b=($BUILDERS)
	local n=${#b[@]} i
	for ((i = 0; i < n; i++)); do printf '%s ' "${b[(i + $1 - 1) % n]}"; done
}

for w in $WORKLOADS; do
	say "generating $w"
	"gen_$w"
	for r in $(seq 1 "$ROUNDS"); do
		order=$(rotated "$r")
		for b in $order; do
			"reset_$b" "$w"
			measure "$w" cold "$b" "$r"
		done
		for b in $order; do measure "$w" nochange "$b" "$r"; done
		for b in $order; do
			"change_$w"
			measure "$w" change "$b" "$r"
		done
		if [ "$w" = W1 ]; then
			# GNU tar skips reading files when writing to /dev/null: pipe it.
			baseline W1 tar "$r" 'tar -cf - src | cat >/dev/null'
			baseline W1 pigz-6 "$r" 'tar -cf - src | pigz -p 2 -6 >/dev/null'
			baseline W1 pigz-1 "$r" 'tar -cf - src | pigz -p 2 -1 >/dev/null'
			baseline W1 zstd-3 "$r" 'tar -cf - src | zstd -q -T2 -3 >/dev/null'
			# Floors: what any builder must do at least. A cold build
			# writes the files where a RUN can see them and stores a
			# compressed layer; a no-change build stats every file.
			mkdir -p "$T/floor"
			baseline W1 cp+pigz-6 "$r" "cp -r src '$T/floor/$r' && tar -cf - -C '$T/floor/$r' . | pigz -p 2 -6 >'$T/floor/$r.gz'"
			baseline W1 stat-walk "$r" "find src -printf '%s %T@ %C@ %i\\n' >/dev/null"
		fi
		if [ "$w" = W4 ]; then
			# The floor of a cold build: unpack the base, run the
			# steps in a chroot, store no layer (lib/workloads.sh).
			mkdir -p "$T/floor"
			baseline W4 floor "$r" "floor_W4 '$T/floor/W4-$r'"
		fi
	done
	for b in $BUILDERS; do "reset_$b" "$w"; done
	trash "$T/work/$w"
done

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
awk -v rounds="$ROUNDS" -v builders="$BUILDERS" -f "$BENCH/lib/report.awk" "$RES"
echo
echo "raw results (T workload scenario builder round seconds; RSS ... round KB; CPU ... round user sys):"
cat "$RES"
exit "$FAILED"
