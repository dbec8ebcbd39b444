#!/usr/bin/env bash
# Lesson 4: a build arg invalidates only the steps in its scope. First
# `minibuild plan` predicts it, then the build does it.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
mb --progress quiet "$ctx" >/dev/null
echo "Built with VERSION=1.0. What would --build-arg VERSION=2.0 rebuild? Ask plan first:"
echo
mb plan --build-arg VERSION=2.0 "$ctx"
cascade "the build with --build-arg VERSION=2.0" --build-arg VERSION=2.0 "$ctx"
