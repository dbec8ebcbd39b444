package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/snapshot"
	digest "github.com/opencontainers/go-digest"
)

// Usage is the disk space the store's parts take.
type Usage struct {
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
}

// Usage measures the store under the shared lock. Sizes of blobs are
// their lengths; of directories, the space their files take on disk.
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		return u, err
	}
	defer unlock()
	r, err := s.reachImages()
	if err != nil {
		return u, err
	}
	u.Images = len(r.entries)
	c, err := cache.Open(s.layout)
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
	layers := s.layout.Layers()
	ids, err := snapshot.NewUnpacker(layers).Unpacked()
	if err != nil {
		return u, err
	}
	for _, id := range ids {
		u.Unpacked++
		u.UnpackedBytes += diskUsage(filepath.Join(layers, id.Algorithm().String(), id.Encoded()))
	}
	state := s.layout.Snapshots()
	bases, err := snapshot.NativeBases(state)
	if err != nil {
		return u, err
	}
	for _, id := range bases {
		u.Bases++
		u.BasesBytes += diskUsage(filepath.Join(state, "native", id.Encoded()))
	}
	tmp, err := readDirNames(s.layout.Tmp())
	if err != nil {
		return u, err
	}
	for _, name := range tmp {
		u.TempBytes += diskUsage(filepath.Join(s.layout.Tmp(), name))
	}
	return u, nil
}

// devOf is the device of the file fi describes.
func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Dev
	}
	return 0
}

// allocated is the disk space of the file fi describes.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
