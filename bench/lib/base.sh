# base.sh: the base images every builder starts from, as OCI layouts under
# $T with one image tagged 1, handed to every builder the same way (no
# registry): minibuild with --build-context NAME=oci-layout://DIR:1,
# BuildKit with a named oci-layout context, Buildah by pulling oci:DIR:1.
# Sourced by run.sh; uses its variables (REPO, T, MB, BENCH_CACHE).
#
#   busybox  W1, W2, W3: examples/busybox built with minibuild ($T/base)
#   debian   W4: Debian bookworm, debootstrap --variant=minbase, as one
#            layer (121 MB of tar, 49 MB gzipped, 6,660 entries) written
#            by this file, not by any builder ($T/debian)
#
# The Debian tree comes from scripts/debian-base.sh --rootfs (debootstrap
# from Debian's mirror, cached in /var/tmp/minibuild-debian); its layout is
# made once and kept in $BENCH_CACHE/debian-SUITE: the same bytes on every
# run (a name-sorted tar with numeric owners, gzip -n, fixed dates), so its
# digest only changes when the tree or this recipe does.

DEBIAN_SUITE=bookworm
# DEBIAN_RECIPE names the way the layout is made; change it whenever
# oci_from_tree changes, so the cached layout is made again.
DEBIAN_RECIPE=1

# base_name W prints the name W's Dockerfile starts FROM.
base_name() { if [ "$1" = W4 ]; then echo debian; else echo busybox; fi; }

# base_layout W prints the directory, relative to $T, of W's base layout.
base_layout() { if [ "$1" = W4 ]; then echo debian; else echo base; fi; }

# base_digest W prints the manifest digest of W's base image.
base_digest() { if [ "$1" = W4 ]; then echo "$DEBIAN_DIGEST"; else echo "$BASE_DIGEST"; fi; }

# make_bases makes the base images the workloads in $WORKLOADS need.
make_bases() {
	case " $WORKLOADS " in *" W1 "* | *" W2 "* | *" W3 "*) make_base ;; esac
	case " $WORKLOADS " in *" W4 "*) make_debian_base ;; esac
	return 0
}

# make_base builds the busybox base (examples/busybox) with minibuild and
# exports it as the OCI layout $T/base, tag 1.
make_base() {
	local ctx=$T/gen/busybox
	mkdir -p "$ctx"
	cp "$REPO/examples/busybox/Dockerfile" "$ctx/"
	cp /bin/busybox "$ctx/busybox"
	"$MB" --root "$T/gen/base-store" -t busybox:1 -o "type=oci,dest=$T/base" --progress quiet "$ctx" >/dev/null ||
		die "building the busybox base failed"
	BASE_DIGEST=$(manifest_digest "$T/base")
}

# make_debian_base copies the cached Debian layout to $T/debian, making it
# first when the cache lacks it or holds an older tree's or recipe's.
make_debian_base() {
	local rootfs want cached=$BENCH_CACHE/debian-$DEBIAN_SUITE
	rootfs=$("$REPO/scripts/debian-base.sh" --rootfs --suite "$DEBIAN_SUITE") || die "debootstrap of $DEBIAN_SUITE failed"
	want="recipe $DEBIAN_RECIPE tree $(stat -c %Y "$rootfs/../.complete")"
	if [ "$(cat "$cached/.made" 2>/dev/null)" != "$want" ]; then
		say "making the Debian base layout from $rootfs (once; kept in $cached)"
		rm -rf "$cached.new"
		oci_from_tree "$rootfs" "$cached.new" || die "making the Debian base layout failed"
		echo "$want" >"$cached.new/.made"
		rm -rf "$cached"
		mv "$cached.new" "$cached"
	fi
	# A copy, so that no builder can touch the cache.
	cp -r "$cached" "$T/debian"
	rm -f "$T/debian/.made"
	DEBIAN_DIGEST=$(manifest_digest "$T/debian")
}

# manifest_digest DIR prints the digest of the first manifest in DIR's index.
manifest_digest() {
	local d
	d=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$1/index.json" | head -1 | cut -d'"' -f4)
	[ -n "$d" ] || die "no manifest digest in $1/index.json"
	echo "$d"
}

# put_blob DIR FILE moves FILE into DIR's blobs and prints its digest and size.
put_blob() {
	local sum
	sum=$(sha256sum "$2" | cut -d' ' -f1) || return 1
	printf 'sha256:%s %s\n' "$sum" "$(stat -c %s "$2")"
	mv "$2" "$1/blobs/sha256/$sum"
}

# oci_from_tree TREE DIR writes DIR, an OCI layout of one image, tag 1, whose
# only layer is TREE without what the runtime provides (/dev, /proc, /sys)
# and what Debian's images leave out (downloaded packages, apt's lists).
oci_from_tree() {
	local tree=$1 dir=$2 arch diff layer lsize cfg csize man msize
	arch=$(dpkg --print-architecture)
	mkdir -p "$dir/blobs/sha256"
	# Members named without "./", in name order, owners as numbers; GNU
	# format stores no access or change times.
	(cd "$tree" && LC_ALL=C tar --format=gnu --sort=name --numeric-owner --anchored \
		--exclude='dev/*' --exclude='proc/*' --exclude='sys/*' \
		--exclude='var/cache/apt/archives/*.deb' --exclude='var/lib/apt/lists/*' \
		-cf - $(LC_ALL=C ls -A)) >"$dir/layer.tar" || return 1
	diff=sha256:$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
	gzip -n -6 "$dir/layer.tar" || return 1
	read -r layer lsize < <(put_blob "$dir" "$dir/layer.tar.gz")
	printf '{"created":"1970-01-01T00:00:00Z","architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"]},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"debootstrap --variant=minbase %s (minibuild bench)"}]}' \
		"$arch" "$diff" "$DEBIAN_SUITE" >"$dir/config.json"
	read -r cfg csize < <(put_blob "$dir" "$dir/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
		"$cfg" "$csize" "$layer" "$lsize" >"$dir/manifest.json"
	read -r man msize < <(put_blob "$dir" "$dir/manifest.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"1"},"platform":{"architecture":"%s","os":"linux"}}]}' \
		"$man" "$msize" "$arch" >"$dir/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}

# base_layer W prints the path of the only layer blob of W's base (W4).
base_layer() {
	local d=$T/$(base_layout "$1") m
	m=$(base_digest "$1")
	grep -o '"layers":\[{[^]]*' "$d/blobs/sha256/${m#sha256:}" | grep -o 'sha256:[0-9a-f]*' | head -1 |
		sed "s|^sha256:|$d/blobs/sha256/|"
}
