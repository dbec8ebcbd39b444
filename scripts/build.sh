#!/usr/bin/env bash
# build.sh: build the minibuild binary, the one way every script builds it.
#
#   scripts/build.sh [OUT]    (default: bin/minibuild in the repository)
#
# Static (CGO_ENABLED=0): minibuild starts itself again for every RUN, and
# a cgo binary goes through the dynamic loader at each start, about 1 ms.
# What that gives up: Go's pure resolver of user names reads /etc/passwd
# only, so a user known only through NSS (LDAP, SSSD) is matched in
# /etc/subuid by number, not by name.
set -euo pipefail
out=$(realpath -m "${1:-$(dirname "$0")/../bin/minibuild}")
cd "$(dirname "$0")/.."
mkdir -p "$(dirname "$out")"
CGO_ENABLED=0 go build -o "$out" ./cmd/minibuild
