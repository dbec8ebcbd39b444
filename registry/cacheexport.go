package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/oci"
)

// defaultCacheTag names the artifact in a local cache directory.
const defaultCacheTag = "latest"

// CacheLocation is where a cache artifact is kept: a registry reference
// (--cache-to/--cache-from type=registry,ref=…) or an OCI image layout
// directory (type=local,dest=… / src=…).
type CacheLocation struct {
	// Ref is the registry reference; "" for a directory.
	Ref string
	// Dir is the OCI image layout directory; "" for a registry.
	Dir string
	// Tag names the artifact in Dir's index.json; "" is "latest".
	Tag string
}

// String names the location for messages.
func (l CacheLocation) String() string {
	if l.Ref != "" {
		return l.Ref
	}
	return l.Dir + ":" + l.tag()
}

func (l CacheLocation) tag() string {
	if l.Tag == "" {
		return defaultCacheTag
	}
	return l.Tag
}

func (l CacheLocation) check() error {
	if (l.Ref == "") == (l.Dir == "") {
		return errors.New("a cache location is a registry reference or a directory")
	}
	return nil
}

// ExportCache writes records and the cache mount records mounts as a
// cache artifact to loc: the layer blobs the destination lacks (read from
// the store, fetched first when only its fetcher has them), the config,
// then the manifest under loc's tag.
// A directory is created as an OCI image layout if missing, and blobs no
// tag reaches any more are removed from it.
func (c *Client) ExportCache(ctx context.Context, s *store.Store, records []CacheRecord, mounts []CacheMountRecord, loc CacheLocation, progress ProgressFunc) (ocispec.Descriptor, error) {
	if err := loc.check(); err != nil {
		return ocispec.Descriptor{}, err
	}
	art, err := encodeCache(records, mounts)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("exporting cache to %s: %w", loc, err)
	}
	src := storeSource{s: s, root: art.manifest, mem: art.mem}
	if loc.Dir != "" {
		dst, err := oci.NewWithContext(ctx, loc.Dir)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("exporting cache to %s: %w", loc, err)
		}
		desc, err := copyInto(ctx, src, dst, loc.tag(), nil, progress)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("exporting cache to %s: %w", loc, err)
		}
		if err := dst.GC(ctx); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("exporting cache to %s: removing old blobs: %w", loc, err)
		}
		return desc, nil
	}
	r, err := ParseRef(loc.Ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if r.Digest != "" {
		return ocispec.Descriptor{}, fmt.Errorf("exporting cache to %s: name a tag, not a digest", loc)
	}
	repo, err := c.repository(r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := copyInto(ctx, src, repo, r.Tag, c.mounter(r), progress)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("exporting cache to %s: %w", r, c.explain(ctx, r, err))
	}
	return desc, nil
}
