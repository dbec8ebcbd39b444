#!/usr/bin/env bash
# Lesson 4: a build arg invalidates only the steps in its scope. First
# `minibuild plan` predicts it, then the build does it.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
mb --progress quiet "$ctx" >/dev/null
# Rebuilt unchanged (every step hits), tagged as the "before" picture.
mb --progress quiet -t lesson4:before "$ctx" >/dev/null
echo "Built with VERSION=1.0. What would --build-arg VERSION=2.0 rebuild? Ask plan first:"
echo
mb plan --build-arg VERSION=2.0 "$ctx"
cascade "the build with --build-arg VERSION=2.0" --build-arg VERSION=2.0 -t lesson4:after \
	--report "$report_dir/4-build-arg.html" "$ctx"
mb report lesson4:after --compare lesson4:before -o "$report_dir/4-build-arg-compare.html"
