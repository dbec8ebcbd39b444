#!/usr/bin/env bash
# record-corpus.sh: re-record e2e/testdata/corpus against BuildKit.
#
#   scripts/record-corpus.sh [BUILDKIT_SH]
#
# Builds every corpus case with BuildKit (buildctl's dockerfile.v0 frontend,
# BuildKit's own busybox:test as a named context), unpacks it with umoci and
# rewrites each want.json whose paths or config fields BuildKit describes
# otherwise; error cases are listed with BuildKit's message beside the
# expected one, to compare by hand. Then review the change with git diff.
# BUILDKIT_SH is a script with buildkit.sh's interface (start, build CTX OUT
# [buildctl flags]); default ../shared/tools/buildkit.sh. Needs root, umoci
# and busybox-static; the script starts BuildKit itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bk=$(realpath "${1:-../shared/tools/buildkit.sh}")
[ -x "$bk" ] || { echo "record-corpus.sh: $bk is not an executable BuildKit script" >&2; exit 2; }
status=0
MINIBUILD_BUILDKIT=$bk go test -count=1 -timeout 30m -run 'TestRecordCorpus$' -v ./e2e/ || status=$?
git status --short e2e/testdata/corpus
exit $status
