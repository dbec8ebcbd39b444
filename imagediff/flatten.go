package imagediff

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// checkLayers refuses an image whose manifest and config disagree on the
// number of layers.
func checkLayers(img Image) error {
	if n, m := len(img.Manifest.Layers), len(img.Config.RootFS.DiffIDs); n != m {
		return fmt.Errorf("image %s: %d layers but %d diff_ids", img.Name, n, m)
	}
	return nil
}

// flatten applies layers [from, to) of img to t, in order.
func flatten(ctx context.Context, img Image, from, to int, t *tree) error {
	for i := from; i < to; i++ {
		if err := readLayer(ctx, img, i, t); err != nil {
			return err
		}
	}
	return nil
}

// readLayer applies layer i of img to t, streaming its blob through the
// decompressor, and checks the uncompressed digest against the config's
// diffID. The blob is read to its end, where img.Blobs verifies it.
func readLayer(ctx context.Context, img Image, i int, t *tree) error {
	desc := img.Manifest.Layers[i]
	fail := func(err error) error {
		return fmt.Errorf("image %s: layer %d (%s): %w", img.Name, i, desc.Digest, err)
	}
	rc, err := img.Blobs.Open(ctx, desc)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	dr, err := tarutil.Decompress(rc)
	if err != nil {
		return fail(err)
	}
	defer dr.Close()
	h := sha256.New()
	r := io.TeeReader(tarutil.LimitReader(dr, 0), h)
	if err := t.apply(ctx, r); err != nil {
		return fail(err)
	}
	// What follows the tar's end marker counts in the diffID too.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fail(err)
	}
	if got, want := digest.NewDigest(digest.SHA256, h), img.Config.RootFS.DiffIDs[i]; got != want {
		return fail(fmt.Errorf("uncompressed content is %s, not the config's diff_id %s", got, want))
	}
	return nil
}
