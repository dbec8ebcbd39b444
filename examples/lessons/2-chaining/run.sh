#!/usr/bin/env bash
# Lesson 2: chaining RUN commands. A file deleted in a later layer still
# weighs in the image; delete it in the step that made it.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
mb --progress quiet -t tool:separate --report "$report_dir/2-chaining-separate.html" -f "$ctx/Dockerfile.separate" "$ctx" >/dev/null
mb --progress quiet -t tool:chained --report "$report_dir/2-chaining-chained.html" -f "$ctx/Dockerfile.chained" "$ctx" >/dev/null
echo "--- history of tool:separate (two RUN layers; the download is still inside)"
mb history tool:separate
echo
echo "--- history of tool:chained (one RUN layer; the download is gone)"
mb history tool:chained
echo
mb images
