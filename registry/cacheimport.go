package registry

import (
	"context"
	"fmt"
	"io"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
)

// CacheSource is an imported cache artifact: its entries and cache mount
// records are in memory, its layers (the mounts' too) stay where they are
// until Fetch is asked for one.
type CacheSource struct {
	loc     CacheLocation
	records map[digest.Digest]CacheRecord
	mounts  map[string]CacheMountRecord
	layers  map[digest.Digest]ocispec.Descriptor
	blobs   content.Fetcher
	dropped int
}

// ImportCache reads the cache artifact at loc: its manifest and its
// config (the entries), verified, and nothing else.
func (c *Client) ImportCache(ctx context.Context, loc CacheLocation) (*CacheSource, error) {
	if err := loc.check(); err != nil {
		return nil, err
	}
	var (
		blobs content.Fetcher
		desc  ocispec.Descriptor
		rc    io.ReadCloser
		err   error
		r     Ref
	)
	if loc.Dir != "" {
		blobs, desc, rc, err = openLayoutCache(ctx, loc)
	} else {
		if r, err = ParseRef(loc.Ref); err != nil {
			return nil, err
		}
		repo, rerr := c.repository(r)
		if rerr != nil {
			return nil, rerr
		}
		blobs = repo
		if desc, rc, err = repo.FetchReference(ctx, r.Reference()); err != nil {
			err = c.explain(ctx, r, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("importing cache from %s: %w", loc, err)
	}
	cs, err := readCacheSource(ctx, loc, blobs, desc, rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("importing cache from %s: %w", loc, err)
	}
	if loc.Ref != "" {
		for d := range cs.layers {
			c.remember(r, d)
		}
	}
	return cs, nil
}

// openLayoutCache opens the OCI layout at loc.Dir, confined to it, and
// opens the manifest tagged loc's tag.
func openLayoutCache(ctx context.Context, loc CacheLocation) (content.Fetcher, ocispec.Descriptor, io.ReadCloser, error) {
	root, err := os.OpenRoot(loc.Dir)
	if err != nil {
		return nil, ocispec.Descriptor{}, nil, err
	}
	st, err := oci.NewFromFS(ctx, root.FS())
	if err != nil {
		return nil, ocispec.Descriptor{}, nil, err
	}
	desc, err := st.Resolve(ctx, loc.tag())
	if err != nil {
		return nil, ocispec.Descriptor{}, nil, err
	}
	rc, err := st.Fetch(ctx, desc)
	if err != nil {
		return nil, ocispec.Descriptor{}, nil, err
	}
	return st, desc, rc, nil
}

// readCacheSource reads the manifest from rc and the config through blobs.
func readCacheSource(ctx context.Context, loc CacheLocation, blobs content.Fetcher, desc ocispec.Descriptor, rc io.Reader) (*CacheSource, error) {
	data, err := readManifest(rc, desc)
	if err != nil {
		return nil, err
	}
	m, err := decodeCacheManifest(data)
	if err != nil {
		return nil, err
	}
	crc, err := blobs.Fetch(ctx, m.Config)
	if err != nil {
		return nil, fmt.Errorf("fetching cache entries: %w", err)
	}
	defer crc.Close()
	cfgData, err := io.ReadAll(io.LimitReader(crc, m.Config.Size+1))
	if err != nil {
		return nil, fmt.Errorf("fetching cache entries: %w", err)
	}
	if int64(len(cfgData)) != m.Config.Size || digest.FromBytes(cfgData) != m.Config.Digest {
		return nil, fmt.Errorf("cache entries %s: content does not match its digest and size", m.Config.Digest)
	}
	records, mounts, dropped, err := decodeCacheConfig(cfgData, m)
	if err != nil {
		return nil, err
	}
	cs := &CacheSource{loc: loc, records: map[digest.Digest]CacheRecord{}, mounts: map[string]CacheMountRecord{},
		layers: map[digest.Digest]ocispec.Descriptor{}, blobs: blobs, dropped: dropped}
	for _, r := range records {
		cs.records[r.Key] = r
		if r.Layer != nil {
			cs.layers[r.Layer.Digest] = *r.Layer
		}
	}
	for _, mr := range mounts {
		cs.mounts[mr.ID] = mr
		cs.layers[mr.Layer.Digest] = mr.Layer
	}
	return cs, nil
}

// Len returns how many entries the source holds.
func (cs *CacheSource) Len() int { return len(cs.records) }

// Dropped returns how many entries and cache mount records were left out
// as invalid.
func (cs *CacheSource) Dropped() int { return cs.dropped }

// Location returns where the source was imported from.
func (cs *CacheSource) Location() CacheLocation { return cs.loc }
