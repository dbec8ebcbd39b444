#!/usr/bin/env bash
# Lesson 7: a base image versus a parent image. A base image is built FROM
# scratch; an image built FROM another image has that image as its parent
# and shares its layers. history shows the shared layers, inspect the two
# RootFS lists, and diff what the child added.
source "$(dirname "$0")/../lib.sh"
ctx=$(lesson "$(dirname "$0")")
mb --progress quiet -t lesson7:base -f "$ctx/Dockerfile.base" "$ctx" >/dev/null
mb --progress quiet -t lesson7:app -f "$ctx/Dockerfile.app" "$ctx" >/dev/null
echo "--- history of the child (SHARED: other images holding the layer)"
mb history lesson7:app
echo
echo "--- RootFS of each: the child's list starts with the base's"
for i in base app; do
	printf '%-14s' "lesson7:$i"
	mb inspect "lesson7:$i" | python3 -c 'import json,sys; print(" ".join(d[7:19] for d in json.load(sys.stdin)["rootfs"]["diff_ids"]))'
done
echo
echo "--- diff base app: what the child added"
mb diff lesson7:base lesson7:app || true
