package snapshot

import (
	"context"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
)

// Layer is one layer of a chain, bottom first.
type Layer struct {
	// DiffID is the digest of the uncompressed tar stream.
	DiffID digest.Digest
	// Open returns the uncompressed tar stream; the snapshotter checks it
	// against DiffID while reading it.
	Open func() (io.ReadCloser, error)
	// MaxBytes bounds the uncompressed stream, padding included: a longer
	// one (a decompression bomb) fails with tarutil.ErrTooLarge. 0 means
	// tarutil.DefaultMaxBytes; a negative value, no limit.
	MaxBytes int64
}

// Snapshotter prepares writable root file systems for build steps.
type Snapshotter interface {
	// Prepare returns a writable rootfs whose initial content is the chain
	// applied in order.
	Prepare(ctx context.Context, chain []Layer) (Mount, error)
}

// Mount is one prepared rootfs.
type Mount interface {
	// Root returns the rootfs directory to run in or write into.
	Root() string
	// Diff returns the change made under Root since Prepare as layer
	// entries sorted by name: new and changed objects, OCI whiteouts
	// ("dir/.wh.NAME") for deletions, and "dir/.wh..wh..opq" followed by the
	// directory's complete new content where every object a directory held
	// was deleted. Open functions read from the snapshot and stay valid
	// until Release. No process may still write under Root.
	Diff(ctx context.Context) ([]tarutil.Entry, error)
	// Release unmounts and removes everything Prepare made; calling it
	// again does nothing.
	Release() error
}

// chainID returns the OCI chain ID of the chain, or "" for an empty chain.
func chainID(chain []Layer) (digest.Digest, error) {
	ids := make([]digest.Digest, len(chain))
	for i, l := range chain {
		if err := l.DiffID.Validate(); err != nil {
			return "", fmt.Errorf("layer %d of the chain: invalid diffID %q: %w", i, l.DiffID, err)
		}
		if l.Open == nil {
			return "", fmt.Errorf("layer %d of the chain (%s) has no Open function", i, l.DiffID)
		}
		ids[i] = l.DiffID
	}
	return identity.ChainID(ids), nil
}
