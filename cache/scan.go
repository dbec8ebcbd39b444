package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/internal/atomicfile"
	digest "github.com/opencontainers/go-digest"
)

// errNotEntry is the Err of a CorruptError about a file that is not named
// like an entry at all.
var errNotEntry = errors.New("not a cache entry file")

// Scan reads every file of the cache and changes nothing, unlike List.
// It returns the valid entries sorted by key; a *CorruptError for each
// file that cannot be used (an entry Get would drop, or a file not named
// like an entry); and, apart, the temporary files of Puts, which a running
// build may still be writing.
func (c *Cache) Scan() (entries []Entry, corrupt []*CorruptError, temps []string, err error) {
	dirents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("scanning cache entries: %w", err)
	}
	for _, de := range dirents {
		path := filepath.Join(c.dir, de.Name())
		if atomicfile.IsTemp(de.Name()) {
			temps = append(temps, path)
			continue
		}
		hex, ok := strings.CutSuffix(de.Name(), ".json")
		key := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if !ok || key.Validate() != nil {
			corrupt = append(corrupt, &CorruptError{Path: path, Err: errNotEntry})
			continue
		}
		e, err := readEntry(path, key)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Deleted meanwhile.
		case err != nil:
			corrupt = append(corrupt, &CorruptError{Path: path, Err: err})
		default:
			entries = append(entries, e)
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
	return entries, corrupt, temps, nil
}

// RemoveFile removes a file Scan reported (a corrupt entry, a stray file
// or a temporary file); it refuses paths outside the cache's directory.
// A file already gone is not an error.
func (c *Cache) RemoveFile(path string) error {
	if filepath.Dir(path) != c.dir {
		return fmt.Errorf("removing %s: not a file of the cache in %s", path, c.dir)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}
