package buildcontext

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/binenc"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// statCacheMagic names the on-disk format (internal/binenc); a file of
// another format is ignored (every entry simply misses) and rewritten.
const statCacheMagic = "minibuild.statcache.v3"

// Racy windows guard against "racily clean" entries (git's term): a file
// modified again within the timestamp granularity of the file system after
// it was hashed keeps its size and times, so a digest is only trusted when
// the file's mtime is older than the start of hashing by the window.
//
// On a local file system the kernel stamps files from its own clock, coarse
// by at most one tick (10 ms at HZ=100), so any write after the hash started
// gets a later mtime than one a tick older than the start: localRacyWindow
// leaves a margin of five ticks. Elsewhere (NFS, SMB, FUSE) the server's
// clock stamps files, may be skewed from ours and may keep one- or
// two-second times: remoteRacyWindow is git's rule of thumb for those.
const (
	localRacyWindow  = 50 * time.Millisecond
	remoteRacyWindow = 2 * time.Second
)

// localFS lists the statfs(2) magic numbers of file systems stamped by the
// local kernel's clock with sub-tick resolution.
var localFS = map[int64]string{
	0xEF53:     "ext2/3/4",
	0x58465342: "xfs",
	0x9123683E: "btrfs",
	0x01021994: "tmpfs",
	0x794C7630: "overlay",
	0xF2F52010: "f2fs",
	0x2FC12FC1: "zfs",
	0x858458F6: "ramfs",
}

// racyWindowOf returns the racy window for files on the file system with
// the given statfs(2) type.
func racyWindowOf(fsType int64) time.Duration {
	if _, ok := localFS[fsType]; ok {
		return localRacyWindow
	}
	return remoteRacyWindow
}

// statKey is the stat data that must be unchanged for a cached digest to be
// served without reading the file.
type statKey struct {
	Size  int64
	Mtime int64 // nanoseconds since the epoch
	Ctime int64 // nanoseconds since the epoch
	Ino   uint64
	Dev   uint64
}

// keyOf extracts a statKey from a FileInfo.
func keyOf(fi fs.FileInfo) (statKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return statKey{}, false
	}
	return statKey{
		Size:  st.Size,
		Mtime: time.Unix(st.Mtim.Unix()).UnixNano(),
		Ctime: time.Unix(st.Ctim.Unix()).UnixNano(),
		Ino:   st.Ino,
		Dev:   st.Dev,
	}, true
}

// statKeyOf extracts a statKey from stat data, as keyOf does.
func statKeyOf(st *unix.Stat_t) statKey {
	return statKey{
		Size:  st.Size,
		Mtime: time.Unix(st.Mtim.Unix()).UnixNano(),
		Ctime: time.Unix(st.Ctim.Unix()).UnixNano(),
		Ino:   st.Ino,
		Dev:   st.Dev,
	}
}

// cacheEntry is one cached digest.
type cacheEntry struct {
	statKey
	Digest digest.Digest
}

// statCacheFile is what StatCachePath holds: the context directory and its
// entries by context-relative path.
type statCacheFile struct {
	Dir     string
	Entries map[string]cacheEntry
}

// encode returns the file in the binenc format: the directory, then each
// entry as path, stat data and its sha256 digest, in path order.
func (f statCacheFile) encode() []byte {
	e := binenc.NewEncoder(statCacheMagic)
	e.String(f.Dir)
	paths := slices.Sorted(maps.Keys(f.Entries))
	e.Uvarint(uint64(len(paths)))
	for _, p := range paths {
		c := f.Entries[p]
		e.String(p)
		e.Varint(c.Size)
		e.Varint(c.Mtime)
		e.Varint(c.Ctime)
		e.Uvarint(c.Ino)
		e.Uvarint(c.Dev)
		e.String(string(c.Digest))
	}
	return e.Seal()
}

// decodeStatCache reads a file written by encode.
func decodeStatCache(data []byte) (statCacheFile, error) {
	d, err := binenc.NewDecoder(data, statCacheMagic)
	if err != nil {
		return statCacheFile{}, err
	}
	f := statCacheFile{Dir: d.String()}
	n := d.Count(8 + len("sha256:") + 2*sha256.Size)
	f.Entries = make(map[string]cacheEntry, n)
	for range n {
		p := d.String()
		var c cacheEntry
		c.Size, c.Mtime, c.Ctime = d.Varint(), d.Varint(), d.Varint()
		c.Ino, c.Dev = d.Uvarint(), d.Uvarint()
		// The seal rules out damage; a sha256 digest's shape is enough.
		c.Digest = digest.Digest(d.String())
		if len(c.Digest) != len("sha256:")+2*sha256.Size || !strings.HasPrefix(string(c.Digest), "sha256:") {
			return statCacheFile{}, fmt.Errorf("%w: digest %q", binenc.ErrFormat, c.Digest)
		}
		f.Entries[p] = c
	}
	return f, d.Err()
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
	f, err := decodeStatCache(data)
	if err != nil || f.Dir != dir {
		sc.changed = true // rewrite it in our format on Close
		return sc, nil
	}
	sc.entries = f.Entries
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
	if d.Algorithm() != digest.SHA256 {
		return // the file format holds sha256 digests only
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
	data := statCacheFile{Dir: sc.dir, Entries: sc.entries}.encode()
	err := os.MkdirAll(filepath.Dir(sc.path), 0o755)
	if err == nil {
		err = atomicfile.WriteFile(sc.path, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("saving stat cache: %w", err)
	}
	sc.changed = false
	return nil
}
