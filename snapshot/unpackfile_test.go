package snapshot

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The tests in this file measure the unpacking of a real layer blob, named
// by MINIBUILD_UNPACK_LAYER (e.g. a Debian base made with
// `tar -C rootfs --numeric-owner -cf - . | gzip`), through the path a
// build takes: Chain's decompressing Open, then Unpacker.Unpack. They are
// skipped without it.

// unpackFileLayer returns the Layer of the blob at p, its diffID computed
// by a first read.
func unpackFileLayer(tb testing.TB, p string) Layer {
	tb.Helper()
	open := func(ocispec.Descriptor) (io.ReadCloser, error) { return os.Open(p) }
	desc := ocispec.Descriptor{Digest: digest.FromString(p)}
	probe, err := Chain([]ocispec.Descriptor{desc}, []digest.Digest{digest.FromString("")}, open, -1)
	if err != nil {
		tb.Fatal(err)
	}
	rc, err := probe[0].Open()
	if err != nil {
		tb.Fatal(err)
	}
	diffID, err := digest.FromReader(rc)
	rc.Close()
	if err != nil {
		tb.Fatal(err)
	}
	chain, err := Chain([]ocispec.Descriptor{desc}, []digest.Digest{diffID}, open, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return chain[0]
}

// TestUnpackLayerFile unpacks MINIBUILD_UNPACK_LAYER once under
// MINIBUILD_UNPACK_DEST (a fresh Unpacker root, or a temporary one) and
// logs the time it took, for timing runs from the shell.
func TestUnpackLayerFile(t *testing.T) {
	p := os.Getenv("MINIBUILD_UNPACK_LAYER")
	if p == "" {
		t.Skip("skipping: MINIBUILD_UNPACK_LAYER names no layer blob")
	}
	requireRoot(t)
	l := unpackFileLayer(t, p)
	root := os.Getenv("MINIBUILD_UNPACK_DEST")
	if root == "" {
		root = t.TempDir()
	}
	start := time.Now()
	dir, err := NewUnpacker(root).Unpack(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unpacked %s into %s in %.3fs", p, dir, time.Since(start).Seconds())
}

// BenchmarkUnpackLayerFile unpacks MINIBUILD_UNPACK_LAYER into a fresh
// Unpacker root each iteration; removing the tree is not timed.
func BenchmarkUnpackLayerFile(b *testing.B) {
	p := os.Getenv("MINIBUILD_UNPACK_LAYER")
	if p == "" {
		b.Skip("skipping: MINIBUILD_UNPACK_LAYER names no layer blob")
	}
	if os.Geteuid() != 0 {
		b.Skip("skipping: needs root (chown, mknod, trusted xattrs)")
	}
	l := unpackFileLayer(b, p)
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		b.StopTimer()
		root, err := os.MkdirTemp(b.TempDir(), "u")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := NewUnpacker(root).Unpack(context.Background(), l); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := removeTree(root); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
