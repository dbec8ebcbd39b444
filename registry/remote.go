package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// Remote is an image read straight from its registry, without a store:
// the manifest is held in memory and blobs are streamed on demand, each
// verified against its descriptor.
type Remote struct {
	// Ref is the reference the image was opened by.
	Ref Ref
	// Descriptor is the image manifest's, after an index was resolved for
	// the platform.
	Descriptor ocispec.Descriptor
	// Manifest is the image manifest.
	Manifest ocispec.Manifest

	c    *Client
	repo *remote.Repository
}

// Open reads the manifest of the image name refers to, resolving an image
// index (or Docker manifest list) for platform. Nothing is stored.
func (c *Client) Open(ctx context.Context, name string, platform ocispec.Platform) (*Remote, error) {
	r, err := ParseRef(name)
	if err != nil {
		return nil, err
	}
	img, err := c.open(ctx, r, platform)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r, c.explain(ctx, r, err))
	}
	return img, nil
}

func (c *Client) open(ctx context.Context, r Ref, platform ocispec.Platform) (*Remote, error) {
	repo, err := c.repository(r)
	if err != nil {
		return nil, err
	}
	desc, data, err := resolveManifest(ctx, repo, r, platform)
	if err != nil {
		return nil, err
	}
	if data == nil {
		rc, err := repo.Fetch(ctx, desc)
		if err != nil {
			return nil, err
		}
		data, err = readManifest(rc, desc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest %s: %w", desc.Digest, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("manifest %s: schema version %d, want 2", desc.Digest, m.SchemaVersion)
	}
	desc = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	return &Remote{Ref: r, Descriptor: desc, Manifest: m, c: c, repo: repo}, nil
}

// OpenDescriptor streams blob desc of the image's repository. The reader
// fails, at the latest at EOF, if the content does not match desc's
// digest and size.
func (img *Remote) OpenDescriptor(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := img.repo.Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s from %s: %w", desc.Digest, img.Ref, img.c.explain(ctx, img.Ref, err))
	}
	return &verifiedBlob{rc: rc, vr: content.NewVerifyReader(rc, desc), desc: desc}, nil
}

// ReadBlob reads the whole of the small blob desc (a config), verified.
func (img *Remote) ReadBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxManifestBytes*4 {
		return nil, fmt.Errorf("blob %s: %d bytes is too large", desc.Digest, desc.Size)
	}
	rc, err := img.OpenDescriptor(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// verifiedBlob turns the end of a blob's content into an error when its
// size or digest does not match.
type verifiedBlob struct {
	rc   io.ReadCloser
	vr   *content.VerifyReader
	desc ocispec.Descriptor
}

func (b *verifiedBlob) Read(p []byte) (int, error) {
	n, err := b.vr.Read(p)
	if errors.Is(err, io.EOF) {
		if verr := b.vr.Verify(); verr != nil {
			return n, fmt.Errorf("blob %s: %w", b.desc.Digest, verr)
		}
	} else if err != nil {
		err = fmt.Errorf("blob %s: %w", b.desc.Digest, err)
	}
	return n, err
}

func (b *verifiedBlob) Close() error { return b.rc.Close() }
