#!/usr/bin/env bash
# Lesson 1: instruction order. Put what changes least (dependencies) before
# what changes most (your sources), or every edit reruns the slow steps.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
for v in slow fast; do
	mb --progress quiet -f "$ctx/Dockerfile.$v" "$ctx" >/dev/null
	# Rebuilt unchanged (every step hits), tagged as the "before" picture.
	mb --progress quiet -t "lesson1:$v-before" -f "$ctx/Dockerfile.$v" "$ctx" >/dev/null
done
echo "Both Dockerfiles are built once. Now edit one source file, app/main.sh, and rebuild:"
sed -i 's/version 1/version 2/' "$ctx/app/main.sh"
cascade "Dockerfile.slow (COPY . . before the install): the install step misses" -t lesson1:slow-after \
	--report "$report_dir/1-order-slow.html" -f "$ctx/Dockerfile.slow" "$ctx"
cascade "Dockerfile.fast (dependencies first): the install step hits" -t lesson1:fast-after \
	--report "$report_dir/1-order-fast.html" -f "$ctx/Dockerfile.fast" "$ctx"
for v in slow fast; do
	mb report "lesson1:$v-after" --compare "lesson1:$v-before" -o "$report_dir/1-order-$v-compare.html"
done
