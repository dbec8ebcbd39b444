package buildcontext

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// statCacheVersion names the on-disk format; a file with another version
// is ignored (every entry simply misses).
const statCacheVersion = "minibuild.statcache.v1"

// racyWindow guards against "racily clean" entries (git's term): a file
// modified again within the timestamp granularity of the file system after
// it was hashed keeps its size and times, so a digest is only trusted when
// the file's mtime is older than the start of hashing by this much. Two
// seconds covers file systems with one- and two-second timestamps.
const racyWindow = 2 * time.Second

// statKey is the stat data that must be unchanged for a cached digest to be
// served without reading the file.
type statKey struct {
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime"` // nanoseconds since the epoch
	Ctime int64  `json:"ctime"` // nanoseconds since the epoch
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

// keyOf extracts a statKey from a FileInfo.
func keyOf(fi fs.FileInfo) (statKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return statKey{}, false
	}
	return statKey{
		Size:  fi.Size(),
		Mtime: fi.ModTime().UnixNano(),
		Ctime: time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)).UnixNano(),
		Ino:   uint64(st.Ino),
		Dev:   uint64(st.Dev),
	}, true
}

// cacheEntry is one cached digest.
type cacheEntry struct {
	statKey
	Digest digest.Digest `json:"digest"`
}

// statCacheFile is the JSON document stored at StatCachePath.
type statCacheFile struct {
	Version string                `json:"version"`
	Dir     string                `json:"dir"`
	Entries map[string]cacheEntry `json:"entries"`
}

// statCache maps context-relative paths to digests, valid while the stat
// data is unchanged, like git's index.
type statCache struct {
	path string // "" when not persisted
	dir  string

	mu      sync.Mutex
	entries map[string]cacheEntry
	used    map[string]bool // looked up or stored during this session
	changed bool
	read    int
	cached  int
}

// loadStatCache reads the cache file at path for the context dir. A missing,
// foreign (other version or context) or corrupt file gives an empty cache: it
// is only ever a shortcut.
func loadStatCache(path, dir string) (*statCache, error) {
	sc := &statCache{path: path, dir: dir, entries: map[string]cacheEntry{}, used: map[string]bool{}}
	if path == "" {
		return sc, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return sc, nil
		}
		return nil, fmt.Errorf("reading stat cache: %w", err)
	}
	var f statCacheFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != statCacheVersion || f.Dir != dir {
		sc.changed = true // rewrite it in our format on Close
		return sc, nil
	}
	for p, e := range f.Entries {
		if e.Digest.Validate() == nil {
			sc.entries[p] = e
		}
	}
	return sc, nil
}

// lookup returns the cached digest of p when its stat data is unchanged.
func (sc *statCache) lookup(p string, k statKey) (digest.Digest, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.used[p] = true
	e, ok := sc.entries[p]
	if !ok || e.statKey != k {
		return "", false
	}
	sc.cached++
	return e.Digest, true
}

// store records that p was read and hashed; when trust is set, the digest is
// cached under k, otherwise any old entry is dropped.
func (sc *statCache) store(p string, k statKey, d digest.Digest, trust bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.read++
	sc.used[p] = true
	if !trust {
		if _, ok := sc.entries[p]; ok {
			delete(sc.entries, p)
			sc.changed = true
		}
		return
	}
	if e, ok := sc.entries[p]; ok && e.statKey == k && e.Digest == d {
		return
	}
	sc.entries[p] = cacheEntry{statKey: k, Digest: d}
	sc.changed = true
}

// stats returns the read and cached counters.
func (sc *statCache) stats() (read, cached int) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.read, sc.cached
}

// save writes the cache atomically (temporary file, then rename) when it
// changed. Entries not used in this session are kept only while their file
// still has the same stat data.
func (sc *statCache) save(root *os.Root) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.path == "" || !sc.changed {
		return nil
	}
	for p, e := range sc.entries {
		if sc.used[p] {
			continue
		}
		fi, err := root.Stat(filepath.FromSlash(p))
		if err != nil {
			delete(sc.entries, p)
			continue
		}
		if k, ok := keyOf(fi); !ok || k != e.statKey {
			delete(sc.entries, p)
		}
	}
	data, err := json.Marshal(statCacheFile{Version: statCacheVersion, Dir: sc.dir, Entries: sc.entries})
	if err != nil {
		return fmt.Errorf("saving stat cache: %w", err)
	}
	if err := writeFileAtomic(sc.path, data); err != nil {
		return fmt.Errorf("saving stat cache: %w", err)
	}
	sc.changed = false
	return nil
}

// writeFileAtomic replaces path with data via a synced temporary file in the
// same directory and a rename.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
