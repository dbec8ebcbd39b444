#!/usr/bin/env bash
# Lesson 6: cache mounts. A miss reruns a step from scratch, but a cache
# mount (RUN --mount=type=cache) is a directory that outlives the step and
# stays out of the layer: the package manager finds what it downloaded the
# last time, and only fetches what is new.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
# A tiny package mirror on the host's loopback: every file is a "package".
mirror="$work/mirror"
mkdir -p "$mirror"
for p in libfoo libbar libbaz; do head -c 100000 /dev/urandom >"$mirror/$p"; done
port=$((20000 + RANDOM % 20000))
/bin/busybox httpd -f -p "127.0.0.1:$port" -h "$mirror" &
httpd=$!
trap 'kill $httpd 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.3
args=(--build-arg "MIRROR=http://127.0.0.1:$port")
echo "First build: both packages are downloaded into the cache mount."
mb --progress plain "${args[@]}" "$ctx" 2>&1 | grep -E '^  \|   (downloading|in the cache)' | sed 's/^  | //'
echo
echo "Add libbaz to deps.txt and rebuild:"
echo libbaz >>"$ctx/deps.txt"
cascade_log="$work/rebuild.log" cascade "the rebuild: the RUN step misses (its parent, COPY deps.txt, did)" "${args[@]}" "$ctx"
echo
echo "...yet what the step printed shows only libbaz was downloaded:"
grep -E '^  \|   (downloading|in the cache)' "$work/rebuild.log" | sed 's/^  | //'
echo
echo "The cache mount is in the store root, not in any layer:"
mb cache du | grep -i -E 'mount|/var/cache/pkgs' || true
