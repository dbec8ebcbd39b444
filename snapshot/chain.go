package snapshot

import (
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobOpener opens a layer blob as stored: its compressed bytes, verified
// against the descriptor as they are read (store.Store.OpenDescriptor).
type BlobOpener func(ocispec.Descriptor) (io.ReadCloser, error)

// Chain pairs an image's layer blobs with the diffIDs its config gives
// them, as a chain for Prepare: each Layer's Open decompresses its blob
// (gzip, zstd or none, told by the content). maxBytes is every Layer's
// MaxBytes.
func Chain(layers []ocispec.Descriptor, diffIDs []digest.Digest, open BlobOpener, maxBytes int64) ([]Layer, error) {
	if len(layers) != len(diffIDs) {
		return nil, fmt.Errorf("%d layers but %d diffIDs", len(layers), len(diffIDs))
	}
	chain := make([]Layer, len(layers))
	for i, d := range layers {
		chain[i] = Layer{DiffID: diffIDs[i], MaxBytes: maxBytes, Open: func() (io.ReadCloser, error) {
			rc, err := open(d)
			if err != nil {
				return nil, err
			}
			dr, err := tarutil.Decompress(rc)
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
			}
			return &layerReader{ReadCloser: dr, blob: rc}, nil
		}}
	}
	return chain, nil
}

// layerReader closes a decompressor and the blob under it.
type layerReader struct {
	io.ReadCloser
	blob io.Closer
}

func (r *layerReader) Close() error {
	return errors.Join(r.ReadCloser.Close(), r.blob.Close())
}
