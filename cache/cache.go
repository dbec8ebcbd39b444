package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/digestcheck"
	"github.com/minibuild/minibuild/rootdir"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// ErrNotFound is wrapped by Touch when there is no entry for the key.
var ErrNotFound = errors.New("cache entry not found")

// Cache stores entries as JSON files named ROOT/cache/entries/<hex>.json.
// It is safe for concurrent use: every write replaces a whole file
// atomically.
type Cache struct {
	dir string // ROOT/cache/entries
	// parents holds an empty file named after the parent key of every
	// entry stored since the cache was created, and the file
	// incompleteName once an entry without its parent was stored.
	parents string
	records string // ROOT/cache/records
	// unsyncedEntries and unsyncedParents are set when Put renamed an
	// entry into dir, or created a file in parents, since Sync last
	// synced that directory.
	unsyncedEntries, unsyncedParents atomic.Bool
	// loaded is the record file LoadRecord read last, for SaveRecord.
	loaded atomic.Pointer[loadedRecord]
}

// Open opens the build cache of the minibuild root laid out as root
// (ROOT/cache: its entries, parents index and build records), creating
// the entries folder if needed.
func Open(root rootdir.Layout) (*Cache, error) {
	c := &Cache{dir: root.CacheEntries(), parents: root.CacheParents(), records: root.Records()}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening cache %s: %w", root.Cache(), err)
	}
	// The parents index starts with the cache: a cache that holds
	// entries without one was written before the index existed.
	if empty, err := isEmptyDir(c.dir); err == nil && empty {
		if err := os.MkdirAll(c.parents, 0o755); err != nil {
			return nil, fmt.Errorf("opening cache %s: %w", root.Cache(), err)
		}
	}
	return c, nil
}

const incompleteName = "incomplete"

// MayHaveChild reports whether an entry whose parent key is parent may be
// in the cache. False is certain: no step whose key chains on parent can
// hit, whatever else its key holds, so a builder may run the step before
// computing its key. True means "perhaps": the index has the parent, was
// started after entries existed (a cache from before it), or holds an
// entry stored without its parent (imported from a remote cache).
func (c *Cache) MayHaveChild(parent digest.Digest) bool {
	if digestcheck.Validate(parent) != nil {
		return true
	}
	dir := c.parents
	for _, name := range []string{parent.Encoded(), incompleteName} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	_, err := os.Stat(dir)
	return err != nil // no index: cannot tell
}

// noteParent records in the parents index that an entry of parent is about
// to be stored ("" for an entry stored without its parent).
func (c *Cache) noteParent(parent digest.Digest) error {
	dir := c.parents
	if _, err := os.Stat(dir); err != nil {
		return nil // no index to keep
	}
	name := incompleteName
	if parent != "" {
		if err := digestcheck.Validate(parent); err != nil {
			return fmt.Errorf("parent key: %w", err)
		}
		name = parent.Encoded()
	}
	p := filepath.Join(dir, name)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Made durable by Sync, before the entries (see there).
	c.unsyncedParents.Store(true)
	return nil
}

// Sync makes the entries Put stored durable: it fsyncs the parents index,
// then the entries folder, each when Put changed it since the last Sync.
// A build calls it once at its end (after the store's Sync, so that no
// entry survives a power loss the blob it names does not), rather than
// Put syncing both folders for every step. Until then a power loss may
// lose entries (their steps run again), or keep an entry whose parent the
// index lost (MayHaveChild then says false, and the step runs rather than
// hits); it never leaves a torn entry, as Put fsyncs each file.
func (c *Cache) Sync() error {
	for _, d := range []struct {
		dir  string
		flag *atomic.Bool
	}{{c.parents, &c.unsyncedParents}, {c.dir, &c.unsyncedEntries}} {
		if !d.flag.Swap(false) {
			continue
		}
		if err := atomicfile.SyncDir(d.dir); err != nil {
			d.flag.Store(true)
			return fmt.Errorf("syncing the build cache: %w", err)
		}
	}
	return nil
}

// isEmptyDir reports whether the directory dir has no entries.
func isEmptyDir(dir string) (bool, error) {
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// EntryPath validates key and returns the file of its entry, whether or
// not it exists, for reports about it.
func (c *Cache) EntryPath(key digest.Digest) (string, error) {
	if err := digestcheck.Validate(key); err != nil {
		return "", fmt.Errorf("cache key: %w", err)
	}
	return filepath.Join(c.dir, key.Encoded()+".json"), nil
}

// Get returns the entry for key. A missing entry is (Entry{}, false, nil).
// A corrupt or unreadable entry file is removed (when possible) and
// reported as (Entry{}, false, *CorruptError), which the caller may warn
// about and otherwise treat as a miss. An invalid key is an ordinary error.
func (c *Cache) Get(key digest.Digest) (Entry, bool, error) {
	path, err := c.EntryPath(key)
	if err != nil {
		return Entry{}, false, err
	}
	e, err := readEntry(path, key)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		_ = os.Remove(path)
		return Entry{}, false, &CorruptError{Path: path, Err: err}
	}
	return e, true, nil
}

// readEntry reads and checks the entry file at path, which must be filed
// under key.
func readEntry(path string, key digest.Digest) (Entry, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Entry{}, err
	}
	if fi.Size() > maxEntrySize {
		return Entry{}, fmt.Errorf("larger than %d bytes", maxEntrySize)
	}
	// One read of the size stat gave (io.ReadAll's growing buffer took
	// three or four for an entry of 600 bytes); a file that grew since
	// is read on to maxEntrySize.
	data := make([]byte, 0, fi.Size()+1)
	data, err = readAllInto(data, io.LimitReader(f, maxEntrySize+1))
	if err != nil {
		return Entry{}, err
	}
	if len(data) > maxEntrySize {
		return Entry{}, fmt.Errorf("larger than %d bytes", maxEntrySize)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, err
	}
	if e.Key != key {
		return Entry{}, fmt.Errorf("holds key %q, not %s", e.Key, key)
	}
	if err := e.validate(); err != nil {
		return Entry{}, err
	}
	// Touch records a hit as the file's mtime, without rewriting it.
	if fi.ModTime().After(e.LastUsed) {
		e.LastUsed = fi.ModTime().UTC()
	}
	return e, nil
}

// readAllInto appends what r holds to buf, growing it only when r holds
// more than buf's capacity.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Put stores e under e.Key, replacing any entry of that key atomically
// (temp file, fsync, rename; the directory is synced by Sync). A zero
// Created becomes now and a zero LastUsed becomes Created. e.Layer
// requires e.DiffID.
func (c *Cache) Put(e Entry) error {
	path, err := c.EntryPath(e.Key)
	if err != nil {
		return err
	}
	if err := e.validate(); err != nil {
		return fmt.Errorf("storing cache entry %s: %w", e.Key, err)
	}
	if e.Created.IsZero() {
		e.Created = time.Now().UTC()
	}
	if e.LastUsed.IsZero() {
		e.LastUsed = e.Created
	}
	if err := c.noteParent(e.Parent); err != nil {
		return fmt.Errorf("storing cache entry %s: indexing its parent: %w", e.Key, err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("storing cache entry %s: %w", e.Key, err)
	}
	if err := atomicfile.WriteFileSynced(path, data, 0o644, atomicfile.SyncFile); err != nil {
		return fmt.Errorf("storing cache entry %s: %w", e.Key, err)
	}
	c.unsyncedEntries.Store(true)
	// The file's mtime carries LastUsed from here on (see Touch).
	if err := os.Chtimes(path, e.LastUsed, e.LastUsed); err != nil {
		return fmt.Errorf("storing cache entry %s: %w", e.Key, err)
	}
	return nil
}

// Touch sets the LastUsed time of key's entry to now. It wraps ErrNotFound
// when there is no entry. It is cheap, since every cache hit calls it: the
// time goes into the entry file's mtime (no rewrite, no fsync); readers
// take the later of that and the recorded LastUsed. Prune order is all it
// serves, so it need not survive a crash.
func (c *Cache) Touch(key digest.Digest) error {
	path, err := c.EntryPath(key)
	if err != nil {
		return err
	}
	now := time.Now()
	if err := os.Chtimes(path, now, now); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("touching %s: %w", key, ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("touching %s: %w", key, err)
	}
	return nil
}

// Delete removes key's entry; deleting a missing entry is not an error.
func (c *Cache) Delete(key digest.Digest) error {
	path, err := c.EntryPath(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting cache entry %s: %w", key, err)
	}
	return nil
}

// List returns every readable entry, sorted by key. Corrupt entry files are
// removed as Get removes them; then the returned error joins their
// *CorruptError values, and the entries returned alongside it are still
// valid. Files that are not entries (such as a crashed Put's temporary
// file) are ignored.
func (c *Cache) List() ([]Entry, error) {
	dirents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("listing cache entries: %w", err)
	}
	var entries []Entry
	var corrupt []error
	for _, de := range dirents {
		hex, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok || strings.HasPrefix(hex, ".") {
			continue
		}
		key := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if digestcheck.Validate(key) != nil {
			continue
		}
		e, found, err := c.Get(key)
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			corrupt = append(corrupt, err)
		case err != nil:
			return nil, err
		case found:
			entries = append(entries, e)
		}
	}
	return entries, errors.Join(corrupt...)
}
