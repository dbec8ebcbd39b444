#!/usr/bin/env bash
# Lesson 1: instruction order. Put what changes least (dependencies) before
# what changes most (your sources), or every edit reruns the slow steps.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
for v in slow fast; do mb --progress quiet -f "$ctx/Dockerfile.$v" "$ctx" >/dev/null; done
echo "Both Dockerfiles are built once. Now edit one source file, app/main.sh, and rebuild:"
sed -i 's/version 1/version 2/' "$ctx/app/main.sh"
cascade "Dockerfile.slow (COPY . . before the install): the install step misses" -f "$ctx/Dockerfile.slow" "$ctx"
cascade "Dockerfile.fast (dependencies first): the install step hits" -f "$ctx/Dockerfile.fast" "$ctx"
