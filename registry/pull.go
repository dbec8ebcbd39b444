package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// pullConcurrency is how many blobs a pull downloads at once.
const pullConcurrency = 3

// Pull copies the image name refers to into the store and returns its
// manifest descriptor. An image index (or Docker manifest list) is
// resolved to the manifest for platform. Every blob is verified against
// its digest and size before it is committed; blobs the store already has
// are not downloaded again (progress says StatusExists), and the manifest
// is committed last, so a failed pull leaves no manifest whose blobs are
// missing. Pull does not tag: the caller names the image.
func (c *Client) Pull(ctx context.Context, s *store.Store, name string, platform ocispec.Platform, progress ProgressFunc) (ocispec.Descriptor, error) {
	r, err := ParseRef(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := c.pull(ctx, s, r, platform, progress)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pulling %s: %w", r, c.explain(ctx, r, err))
	}
	return desc, nil
}

func (c *Client) pull(ctx context.Context, s *store.Store, r Ref, platform ocispec.Platform, progress ProgressFunc) (ocispec.Descriptor, error) {
	repo, err := c.repository(r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, data, err := resolveManifest(ctx, repo, r, platform)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	root := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	src := prefetched{repo: repo, root: root, data: data}
	opts := oras.CopyGraphOptions{
		Concurrency: pullConcurrency,
		PostCopy: func(_ context.Context, d ocispec.Descriptor) error {
			c.remember(r, d.Digest)
			progress.report(StatusDownloaded, d)
			return nil
		},
		OnCopySkipped: func(_ context.Context, d ocispec.Descriptor) error {
			c.remember(r, d.Digest)
			progress.report(StatusExists, d)
			return nil
		},
	}
	if err := oras.CopyGraph(ctx, src, storeSink{s}, root, opts); err != nil {
		return ocispec.Descriptor{}, err
	}
	return root, nil
}

// resolveManifest fetches what r names and, for an image index (or Docker
// manifest list), picks the manifest for platform. It returns that
// manifest's descriptor and, when r named it directly, its content
// (verified); after an index, data is nil.
func resolveManifest(ctx context.Context, repo *remote.Repository, r Ref, want ocispec.Platform) (ocispec.Descriptor, []byte, error) {
	desc, rc, err := repo.FetchReference(ctx, r.Reference())
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	data, err := readManifest(rc, desc)
	rc.Close()
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if isIndex(desc.MediaType) {
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("decoding index %s: %w", desc.Digest, err)
		}
		index := desc.Digest
		if desc, err = platform.Pick(idx.Manifests, want); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("index %s: %w", index, err)
		}
		data = nil
	}
	if !isManifest(desc.MediaType) {
		return ocispec.Descriptor{}, nil, fmt.Errorf("manifest %s has media type %q: not an image manifest minibuild can use", desc.Digest, desc.MediaType)
	}
	return desc, data, nil
}

// readManifest reads a manifest or index (bounded) and checks it against
// desc's digest and size.
func readManifest(rc io.Reader, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxManifestBytes {
		return nil, fmt.Errorf("manifest %s: %d bytes is too large", desc.Digest, desc.Size)
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", desc.Digest, err)
	}
	if int64(len(data)) != desc.Size || digest.FromBytes(data) != desc.Digest {
		return nil, fmt.Errorf("manifest %s: content does not match its digest and size", desc.Digest)
	}
	return data, nil
}

// prefetched is a repository whose root manifest was already read.
type prefetched struct {
	repo *remote.Repository
	root ocispec.Descriptor
	data []byte
}

var _ content.ReadOnlyStorage = prefetched{}

func (p prefetched) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if p.data != nil && desc.Digest == p.root.Digest {
		return io.NopCloser(bytes.NewReader(p.data)), nil
	}
	return p.repo.Fetch(ctx, desc)
}

func (p prefetched) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	return p.repo.Exists(ctx, desc)
}
