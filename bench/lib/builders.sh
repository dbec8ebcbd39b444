# builders.sh: how each builder is reset to a cold state and builds a
# workload. Sourced by run.sh. Every builder starts from the same busybox
# base, given as the OCI layout $T/base (tag 1), with no registry:
#
#   minibuild  --build-context busybox=oci-layout://$T/base:1, store under
#              $T/state/mb-W (the store is an OCI layout: nothing to export)
#   buildkit   named context: --oci-layout bb=$T/base and
#              --opt context:busybox=oci-layout://bb:1@DIGEST; runc, overlayfs;
#              exported with --output type=oci,dest=$T/state/bk-W,tar=false
#   buildah    pull oci:$T/base:1 into storage under $T/state/bh-W (overlay
#              driver), tagged localhost/busybox; build --layers --isolation
#              chroot --pull=never
#
# A cold build starts from empty state, so it includes taking in the base
# image (minibuild's import, BuildKit's oci-layout load, Buildah's pull).

BUILDERS_ALL="minibuild buildkit buildah"

tag_of() { echo "bench-$(echo "$1" | tr 'A-Z' 'a-z'):latest"; }

# --- minibuild ---------------------------------------------------------------

reset_minibuild() {
	unmount_under "$T/state/mb-$1"
	rm -rf "$T/state/mb-$1"
}

# build_minibuild_W runs minibuild under GNU time, leaving its report in
# $T/time.out for the peak RSS.
build_minibuild_W() {
	local prof=()
	[ -n "${PROFILE_OUT:-}" ] && prof=(--cpuprofile "$PROFILE_OUT")
	/usr/bin/time -v -o "$T/time.out" "$MB" --root "$T/state/mb-$1" -t "$(tag_of "$1")" \
		--progress plain --build-context "busybox=oci-layout://$T/base:1" "${prof[@]}" "$T/work/$1"
}

# --- BuildKit ----------------------------------------------------------------

bkctl() { "$BK_BIN/buildctl" --addr "$BK_SOCK" "$@"; }

reset_buildkit() {
	bkctl prune --all >/dev/null
	rm -rf "$T/state/bk-$1"
}

build_buildkit_W() {
	bkctl build --progress plain --frontend dockerfile.v0 \
		--local context="$T/work/$1" --local dockerfile="$T/work/$1" \
		--oci-layout bb="$T/base" --opt "context:busybox=oci-layout://bb:1@$BASE_DIGEST" \
		--output "type=oci,dest=$T/state/bk-$1,tar=false"
}

# --- Buildah -----------------------------------------------------------------

bh() {
	local w=$1
	shift
	buildah --root "$T/state/bh-$w/root" --runroot "$T/state/bh-$w/run" --storage-driver overlay "$@"
}

reset_buildah() {
	if [ -d "$T/state/bh-$1" ]; then
		bh "$1" rm -a >/dev/null 2>&1 || true
		bh "$1" rmi -a -f >/dev/null 2>&1 || true
		unmount_under "$T/state/bh-$1"
		rm -rf "$T/state/bh-$1"
	fi
}

build_buildah_W() {
	local id
	if ! bh "$1" inspect --type image localhost/busybox:latest >/dev/null 2>&1; then
		# Pulled by a relative path: Buildah names the image after the path,
		# and $T may hold upper-case letters.
		id=$(cd "$T" && bh "$1" pull -q oci:base:1) && bh "$1" tag "$id" localhost/busybox:latest || return 1
	fi
	bh "$1" build --layers --isolation chroot --pull=never -t "$(tag_of "$1")" \
		-f "$T/work/$1/Dockerfile" "$T/work/$1"
}
