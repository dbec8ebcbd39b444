package maintenance

import (
	"context"
	"path/filepath"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/diskusage"
	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/mountcache"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
)

// DiskUsage is the disk space the parts of a root take.
type DiskUsage struct {
	// Images counts index.json's entries; ImageBlobs and ImageBytes the
	// blobs they reach.
	Images     int
	ImageBlobs int
	ImageBytes int64
	// Entries counts the cache entries; CacheBlobs and CacheBytes the
	// layer blobs only they hold (Prune may remove those).
	Entries    int
	CacheBlobs int
	CacheBytes int64
	// OtherBlobs and OtherBytes are the blobs nothing references (Prune
	// removes them).
	OtherBlobs int
	OtherBytes int64
	// Unpacked layers and native bases (derived from blobs, rebuilt on
	// demand), and partial writes under tmp.
	Unpacked      int
	UnpackedBytes int64
	Bases         int
	BasesBytes    int64
	TempBytes     int64
	// Mounts are the instances of the cache mounts (RUN
	// --mount=type=cache), sorted by id; Prune keeps them unless asked.
	Mounts []mountcache.Info
}

// Usage measures the root of s under the store's shared lock. Sizes of
// blobs are their lengths; of directories, the space their files take on
// disk.
func Usage(ctx context.Context, s *store.Store) (DiskUsage, error) {
	var u DiskUsage
	root := rootdir.At(s.Root())
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		return u, err
	}
	defer unlock()
	r, err := reachImages(s)
	if err != nil {
		return u, err
	}
	u.Images = len(r.entries)
	c, err := cache.Open(root)
	if err != nil {
		return u, err
	}
	entries, _, _, err := c.Scan()
	if err != nil {
		return u, err
	}
	u.Entries = len(entries)
	cached := map[digest.Digest]bool{}
	for _, e := range entries {
		if e.Layer != nil {
			cached[e.Layer.Digest] = true
		}
	}
	files, err := s.BlobFiles()
	if err != nil {
		return u, err
	}
	for _, f := range files {
		_, imaged := r.blobs[f.Digest]
		switch {
		case f.Digest != "" && imaged:
			u.ImageBlobs++
			u.ImageBytes += f.Size
		case f.Digest != "" && cached[f.Digest]:
			u.CacheBlobs++
			u.CacheBytes += f.Size
		default:
			u.OtherBlobs++
			u.OtherBytes += f.Size
		}
	}
	for _, unpacker := range snapshot.Unpackers(root.Layers()) {
		ids, err := unpacker.Unpacked()
		if err != nil {
			return u, err
		}
		for _, id := range ids {
			u.Unpacked++
			u.UnpackedBytes += diskusage.Size(unpacker.Dir(id))
		}
	}
	state := root.Snapshots()
	bases, err := snapshot.NativeBases(state)
	if err != nil {
		return u, err
	}
	for _, id := range bases {
		u.Bases++
		u.BasesBytes += diskusage.Size(snapshot.NativeBaseDir(state, id))
	}
	tmp, err := unixfs.ReadDirNames(root.Tmp())
	if err != nil {
		return u, err
	}
	for _, name := range tmp {
		u.TempBytes += diskusage.Size(filepath.Join(root.Tmp(), name))
	}
	if u.Mounts, err = mountcache.Open(root).List(); err != nil {
		return u, err
	}
	return u, nil
}
