#!/usr/bin/env bash
# Lesson 8: why did CI miss what my machine hit? Two store roots play two
# machines; a remote cache (a local directory here, a registry in real
# life) is all they share. The "laptop" checks out the same commit with
# another umask, so one file's mode differs, and builds with another
# VERSION: each miss says what differs from the cache's entry, before the
# build (plan) and during it.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
cache="$work/shared-cache"

chmod 0755 "$ctx/src/run.sh"
echo "CI builds and exports its cache:"
mb --progress quiet --cache-to "type=local,dest=$cache,mode=max" "$ctx" >/dev/null
echo "  --cache-to type=local,dest=shared-cache,mode=max"
# The laptop: a fresh root, the same base image, umask 002 (run.sh 0775).
export MINIBUILD_ROOT=$(mktemp -d /tmp/minibuild-lesson-laptop-XXXXXX)
trap 'rm -rf "$work" "$MINIBUILD_ROOT"' EXIT
base
chmod 0775 "$ctx/src/run.sh"
echo
echo "The laptop asks first what CI's cache would give it:"
mb plan --cache-from "type=local,src=$cache" "$ctx" | sed "s|$cache|shared-cache|g"
cascade "the laptop's build with --cache-from: run.sh is 0775 here" --cache-from "type=local,src=$cache" "$ctx" |
	sed "s|$cache|shared-cache|g"
chmod 0755 "$ctx/src/run.sh"
cascade "run.sh fixed to 0755, but the laptop builds VERSION 1.2" --cache-from "type=local,src=$cache" \
	--build-arg VERSION=1.2 "$ctx" | sed "s|$cache|shared-cache|g"
cascade "with CI's mode and VERSION, the laptop reuses every step CI built" --cache-from "type=local,src=$cache" "$ctx" |
	sed "s|$cache|shared-cache|g"
