package registry

import (
	"context"
	"fmt"

	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// pushConcurrency is how many blobs a push uploads at once.
const pushConcurrency = 3

// Push uploads the image desc (a manifest or index in the store) to the
// registry name refers to: only the blobs the registry lacks (progress
// says StatusExists for the others), then the manifest under name's tag
// or digest. Blobs the store only has through its fetcher are fetched
// first. It returns the pushed manifest's descriptor.
func (c *Client) Push(ctx context.Context, s *store.Store, desc ocispec.Descriptor, name string, progress ProgressFunc) (ocispec.Descriptor, error) {
	r, err := ParseRef(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	root := plain(desc)
	if r.Digest != "" && r.Digest != root.Digest {
		return ocispec.Descriptor{}, fmt.Errorf("pushing to %s: the image's digest is %s", r, root.Digest)
	}
	repo, err := c.repository(r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	pushed, err := copyInto(ctx, storeSource{s: s, root: root}, repo, r.Reference(), c.mounter(r), progress)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pushing %s: %w", r, c.explain(ctx, r, err))
	}
	return pushed, nil
}

// mounter returns the MountFrom function of a push to r: the other
// repositories of r's registry known to hold a blob.
func (c *Client) mounter(r Ref) func(context.Context, ocispec.Descriptor) ([]string, error) {
	return func(_ context.Context, d ocispec.Descriptor) ([]string, error) {
		return c.mountSources(r, d.Digest), nil
	}
}

// copyInto copies src's root and every blob it reaches to dst, sending
// only what dst lacks (mounting blobs from the repositories mountFrom
// names, when it is not nil), and names the root ref in dst.
func copyInto(ctx context.Context, src storeSource, dst oras.Target, ref string, mountFrom func(context.Context, ocispec.Descriptor) ([]string, error), progress ProgressFunc) (ocispec.Descriptor, error) {
	opts := oras.CopyOptions{CopyGraphOptions: oras.CopyGraphOptions{
		Concurrency: pushConcurrency,
		MountFrom:   mountFrom,
		OnMounted: func(_ context.Context, d ocispec.Descriptor) error {
			progress.report(StatusMounted, d)
			return nil
		},
		PostCopy: func(_ context.Context, d ocispec.Descriptor) error {
			progress.report(StatusPushed, d)
			return nil
		},
		OnCopySkipped: func(_ context.Context, d ocispec.Descriptor) error {
			progress.report(StatusExists, d)
			return nil
		},
	}}
	return oras.Copy(ctx, src, src.root.Digest.String(), dst, ref, opts)
}
