# setup.sh: what run.sh needs before it measures: Debian packages, BuildKit
# built at a pinned version, the minibuild binary and a private buildkitd
# (the base images are base.sh's). Sourced by run.sh; uses its variables
# (REPO, T, BK_VERSION, BK_BIN, SKIP_PEERS, MB).

# need_pkgs CMD:PKG... installs the Debian package of each missing command.
need_pkgs() {
	local want=() pair
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || want+=("${pair#*:}")
	done
	[ ${#want[@]} -eq 0 ] || apt_install "${want[@]}"
}

# install_tools installs the compressors, GNU time, busybox-static and,
# unless --skip-peers, Buildah and runc.
install_tools() {
	need_pkgs pigz:pigz zstd:zstd /usr/bin/time:time tar:tar
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" ||
		apt_install busybox-static
	[ "$SKIP_PEERS" = 1 ] || need_pkgs buildah:buildah runc:runc
}

# apt_install PKG... installs Debian packages.
apt_install() {
	say "installing $* (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; } >/dev/null || die "apt-get install $* failed"
}

# install_buildkit puts buildkitd and buildctl at BK_VERSION into BK_BIN,
# building them from the Go module proxy when they are not there yet.
# `go install …@version` refuses BuildKit's go.mod exclude directives, so
# they are built from a throwaway module that requires BuildKit.
install_buildkit() {
	if [ -x "$BK_BIN/buildkitd" ] && [ -x "$BK_BIN/buildctl" ] &&
		"$BK_BIN/buildkitd" --version 2>/dev/null | grep -q " $BK_VERSION"; then
		return 0
	fi
	command -v go >/dev/null || die "go is needed to build BuildKit"
	say "building buildkitd and buildctl $BK_VERSION from the Go module proxy (once; kept in $BK_BIN)"
	local m
	m=$(mktemp -d "$T/bkmod.XXXXXX")
	mkdir -p "$BK_BIN"
	(
		cd "$m"
		go mod init bkbench >/dev/null 2>&1
		printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/moby/buildkit/cmd/buildctl"\n\t_ "github.com/moby/buildkit/cmd/buildkitd"\n)\n' >tools.go
		go get "github.com/moby/buildkit@$BK_VERSION" >/dev/null 2>&1
		go mod tidy >/dev/null 2>&1
		ld="-X github.com/moby/buildkit/version.Version=$BK_VERSION"
		go build -ldflags "$ld" -o "$BK_BIN/buildkitd" github.com/moby/buildkit/cmd/buildkitd
		go build -ldflags "$ld" -o "$BK_BIN/buildctl" github.com/moby/buildkit/cmd/buildctl
	) || die "building BuildKit $BK_VERSION failed"
	rm -rf "$m"
}

# start_buildkitd starts a private buildkitd (OCI worker, runc, overlayfs
# snapshotter) with its state in $T/state/bk-root and its socket and log
# in $T/bk.
start_buildkitd() {
	mkdir -p "$T/bk"
	rm -f "$T/bk/sock"
	BK_SOCK="unix://$T/bk/sock"
	setsid "$BK_BIN/buildkitd" --root "$T/state/bk-root" --addr "$BK_SOCK" \
		--oci-worker=true --containerd-worker=false --oci-worker-snapshotter overlayfs \
		>>"$T/bk/log" 2>&1 </dev/null &
	BK_PID=$!
	for _ in $(seq 150); do
		[ -S "$T/bk/sock" ] && "$BK_BIN/buildctl" --addr "$BK_SOCK" debug workers >/dev/null 2>&1 && return 0
		kill -0 "$BK_PID" 2>/dev/null || break
		sleep 0.2
	done
	tail -20 "$T/bk/log" >&2
	die "buildkitd did not start"
}

# stop_buildkitd stops the buildkitd that start_buildkitd started.
stop_buildkitd() {
	local st
	[ -n "${BK_PID:-}" ] || return 0
	kill "$BK_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		# Done when gone, or a zombie waiting for this shell to reap it.
		st=$(cut -d' ' -f3 "/proc/$BK_PID/stat" 2>/dev/null || true)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
	done
	kill -9 "$BK_PID" 2>/dev/null || true
	wait "$BK_PID" 2>/dev/null || true
	BK_PID=
}

# build_minibuild builds minibuild from the repository unless --minibuild
# named a binary.
build_minibuild() {
	if [ -n "$MB" ]; then
		[ -x "$MB" ] || die "--minibuild $MB: not an executable"
		return 0
	fi
	say "building minibuild from $REPO"
	"$REPO/scripts/build.sh" "$T/bin/minibuild" || die "building minibuild failed"
	MB=$T/bin/minibuild
}

# unmount_under unmounts every mount below dir, deepest first.
unmount_under() {
	local m
	{ findmnt -rn -o TARGET | grep -F "$1/" || true; } | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}
