package rootdir

import (
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layout is the layout of a minibuild root: an OCI image layout
// (oci-layout, index.json, blobs/sha256) beside minibuild's own folders,
// which OCI tools ignore. Its methods only name paths; they create and
// check nothing.
type Layout struct {
	root string
}

// At returns the layout of the root directory dir.
func At(dir string) Layout { return Layout{root: dir} }

// Root is the root directory itself.
func (l Layout) Root() string { return l.root }

// OCILayout is the OCI layout's version file, ROOT/oci-layout.
func (l Layout) OCILayout() string { return l.join(ocispec.ImageLayoutFile) }

// Index is the OCI layout's index of tagged images, ROOT/index.json.
func (l Layout) Index() string { return l.join(ocispec.ImageIndexFile) }

// Blobs is the folder of the blobs, one file per sha256 digest named by
// its hex part: ROOT/blobs/sha256.
func (l Layout) Blobs() string { return l.join("blobs", "sha256") }

// Tmp holds the store's partial writes (blobs being written, work
// directories): ROOT/tmp.
func (l Layout) Tmp() string { return l.join("tmp") }

// Locks holds the store's lock files: ROOT/locks.
func (l Layout) Locks() string { return l.join("locks") }

// StoreLock is the store-wide lock builds hold shared and garbage
// collection exclusive: ROOT/locks/store.lock.
func (l Layout) StoreLock() string { return l.join("locks", "store.lock") }

// GateLock is the lock an exclusive waiter holds so that new shared
// holders queue behind it: ROOT/locks/gate.lock.
func (l Layout) GateLock() string { return l.join("locks", "gate.lock") }

// IndexLock serializes the updates of index.json: ROOT/locks/index.lock.
func (l Layout) IndexLock() string { return l.join("locks", "index.lock") }

// Verified holds one stamp per layer blob checked against its diffID:
// ROOT/verified.
func (l Layout) Verified() string { return l.join("verified") }

// Cache is the build cache's folder: ROOT/cache.
func (l Layout) Cache() string { return l.join("cache") }

// CacheEntries holds one JSON file per cache entry: ROOT/cache/entries.
func (l Layout) CacheEntries() string { return l.join("cache", "entries") }

// CacheParents holds one empty file per parent key of a cache entry:
// ROOT/cache/parents.
func (l Layout) CacheParents() string { return l.join("cache", "parents") }

// Records holds the build records, the last build of each Dockerfile,
// target and mode: ROOT/cache/records.
func (l Layout) Records() string { return l.join("cache", "records") }

// Layers holds the layers unpacked for overlay mounts: ROOT/layers.
func (l Layout) Layers() string { return l.join("layers") }

// Snapshots is the snapshotters' state directory (mounts, native bases,
// trash): ROOT/snapshots.
func (l Layout) Snapshots() string { return l.join("snapshots") }

// Run is the executor's state directory, one run-* folder per running
// step: ROOT/run.
func (l Layout) Run() string { return l.join("run") }

// StatCache holds the build contexts' stat caches: ROOT/statcache.
func (l Layout) StatCache() string { return l.join("statcache") }

// Reports holds the saved build reports: ROOT/reports.
func (l Layout) Reports() string { return l.join("reports") }

// CacheMounts holds the directories of RUN --mount=type=cache, one folder
// per cache id: ROOT/mounts.
func (l Layout) CacheMounts() string { return l.join("mounts") }

// Volumes holds the named volumes of minibuild run -v NAME:/path, one
// folder per volume: ROOT/volumes.
func (l Layout) Volumes() string { return l.join("volumes") }

func (l Layout) join(elem ...string) string {
	return filepath.Join(append([]string{l.root}, elem...)...)
}
