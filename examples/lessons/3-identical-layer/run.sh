#!/usr/bin/env bash
# Lesson 3: a change that produces an identical layer. Cascade mode
# (Docker's rule) rebuilds everything after a changed step; content mode
# notices the rebuilt layer is byte-identical and stops the cascade there.
source "$(dirname "$0")/../lib.sh"
base
ctx=$(lesson "$(dirname "$0")")
for mode in cascade content; do
	mb --progress quiet --cache-mode $mode "$ctx" >/dev/null
	# Rebuilt unchanged (every step hits), tagged as the "before" picture.
	mb --progress quiet --cache-mode $mode -t "lesson3:before-$mode" "$ctx" >/dev/null
done
echo "Both modes built once. Now change step 2's text, not its result: echo hello -> echo \"hello\""
sed -i 's/RUN echo hello > \/greeting/RUN echo "hello" > \/greeting/' "$ctx/Dockerfile"
cascade "--cache-mode cascade: every step after the change misses" --cache-mode cascade \
	-t lesson3:after-cascade --report "$report_dir/3-identical-layer-cascade.html" "$ctx"
cascade "--cache-mode content: the rebuilt layer is identical, the rest hits" --cache-mode content \
	-t lesson3:after-content --report "$report_dir/3-identical-layer-content.html" "$ctx"
for mode in cascade content; do
	mb report "lesson3:after-$mode" --compare "lesson3:before-$mode" -o "$report_dir/3-identical-layer-$mode-compare.html"
done
