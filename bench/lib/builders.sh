# builders.sh: how each builder is reset to a cold state and builds a
# workload. Sourced by run.sh. Every builder starts from the same base of
# the workload W (base.sh: busybox for W1-W3, debian for W4), given as the
# OCI layout $T/$(base_layout W) (tag 1), with no registry; NAME below is
# $(base_name W), the name in FROM:
#
#   minibuild  --build-context NAME=oci-layout://$T/LAYOUT:1, store under
#              $T/state/mb-W (the store is an OCI layout: nothing to export)
#   buildkit   named context: --oci-layout bb=$T/LAYOUT and
#              --opt context:NAME=oci-layout://bb:1@DIGEST; runc, overlayfs;
#              exported with --output type=oci,dest=$T/state/bk-W,tar=false
#   buildah    pull oci:LAYOUT:1 into storage under $T/state/bh-W (overlay
#              driver), tagged localhost/NAME; build --layers --isolation
#              chroot --pull=never
#
# A cold build starts from empty state, so it includes taking in the base
# image (minibuild's import, BuildKit's oci-layout load, Buildah's pull).
# BuildKit's cold state is a fresh buildkitd root (the daemon is restarted).
#
# Old state is moved aside, never deleted while measuring: on ext4 without
# a journal (these machines), every file created in the ~30 s after a mass
# deletion scans past the freed inodes (recently_deleted), so deleting one
# builder's state would slow down the next build, whoever runs it. The
# trash is deleted at exit.

BUILDERS_ALL="minibuild buildkit buildah"

tag_of() { echo "bench-${1,,}:latest"; }

# base_context W prints minibuild's --build-context value for W's base.
base_context() { echo "$(base_name "$1")=oci-layout://$T/$(base_layout "$1"):1"; }

# --- minibuild ---------------------------------------------------------------

# trash moves a directory into $T/trash.
trash() {
	[ -e "$1" ] || return 0
	unmount_under "$1"
	mkdir -p "$T/trash"
	mv "$1" "$T/trash/$(date +%s%N)"
}

reset_minibuild() { trash "$T/state/mb-$1"; }

# build_minibuild_W runs minibuild under GNU time, leaving its report in
# $T/time.out for the peak RSS.
build_minibuild_W() {
	local prof=()
	[ -n "${PROFILE_OUT:-}" ] && prof=(--cpuprofile "$PROFILE_OUT")
	/usr/bin/time -v -o "$T/time.out" "$MB" --root "$T/state/mb-$1" -t "$(tag_of "$1")" \
		--progress plain --build-context "$(base_context "$1")" "${prof[@]}" "$T/work/$1"
}

# --- previous: another minibuild binary (--baseline) -------------------------

reset_previous() { trash "$T/state/base-$1"; }

build_previous_W() {
	"$BASE_MB" --root "$T/state/base-$1" -t "$(tag_of "$1")" \
		--progress plain --build-context "$(base_context "$1")" "$T/work/$1"
}

# --- BuildKit ----------------------------------------------------------------

bkctl() { "$BK_BIN/buildctl" --addr "$BK_SOCK" "$@"; }

reset_buildkit() {
	stop_buildkitd
	trash "$T/state/bk-root"
	trash "$T/state/bk-$1"
	start_buildkitd
}

build_buildkit_W() {
	bkctl build --progress plain --frontend dockerfile.v0 \
		--local context="$T/work/$1" --local dockerfile="$T/work/$1" \
		--oci-layout bb="$T/$(base_layout "$1")" \
		--opt "context:$(base_name "$1")=oci-layout://bb:1@$(base_digest "$1")" \
		--output "type=oci,dest=$T/state/bk-$1,tar=false"
}

# --- Buildah -----------------------------------------------------------------

bh() {
	local w=$1
	shift
	buildah --root "$T/state/bh-$w/root" --runroot "$T/state/bh-$w/run" --storage-driver overlay "$@"
}

reset_buildah() { trash "$T/state/bh-$1"; }

build_buildah_W() {
	local id name
	name=localhost/$(base_name "$1"):latest
	if ! bh "$1" inspect --type image "$name" >/dev/null 2>&1; then
		# Pulled by a relative path: Buildah names the image after the path,
		# and $T may hold upper-case letters.
		id=$(cd "$T" && bh "$1" pull -q "oci:$(base_layout "$1"):1") && bh "$1" tag "$id" "$name" || return 1
	fi
	bh "$1" build --layers --isolation chroot --pull=never -t "$(tag_of "$1")" \
		-f "$T/work/$1/Dockerfile" "$T/work/$1"
}
