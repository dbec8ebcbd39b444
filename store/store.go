package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/rootdir"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrNotFound is wrapped by errors about a missing image or blob.
var ErrNotFound = errors.New("not found")

// Store is a local image store rooted at a directory that is a valid OCI
// image layout. Besides oci-layout, index.json and blobs/, the root holds
// private directories OCI tools ignore: tmp/ (partial writes), cache/,
// layers/ and locks/. A Store is safe for concurrent use by goroutines and,
// through file locks, by several processes.
type Store struct {
	layout rootdir.Layout
	// lazy is the fetcher of blobs not stored yet (SetFetcher), or nil.
	lazy atomic.Pointer[lazySource]
	// unsynced is set when a blob was committed since blobs/sha256 was
	// last synced (BlobWriter.Commit, Sync).
	unsynced atomic.Bool
}

// Sync makes the names of the blobs committed so far durable: it fsyncs
// blobs/sha256 when a blob was committed since the last sync. A writer of
// anything that refers to blobs from outside the store's index (such as
// the build cache) calls it before it makes its own files durable, so
// that they never survive a power loss that the blobs do not; every
// index.json update syncs the directory by itself.
func (s *Store) Sync() error {
	if !s.unsynced.Load() {
		return nil
	}
	return s.syncBlobs()
}

// syncBlobs fsyncs blobs/sha256, whether or not this process committed a
// blob since the last sync.
func (s *Store) syncBlobs() error {
	s.unsynced.Store(false)
	if err := atomicfile.SyncDir(s.layout.Blobs()); err != nil {
		s.unsynced.Store(true)
		return err
	}
	return nil
}

// Open opens the store at root, creating the layout if it is missing
// (directories 0755, files 0644), and checks the oci-layout version when the
// file is present. It removes nothing: the clean-up of what dead builds
// left is the root's maintenance (package maintenance), run once per
// process by its caller.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", root, err)
	}
	s := &Store{layout: rootdir.At(abs)}
	// blobs/sha256 belongs to the layout; the others are minibuild's own.
	dirs := []string{s.layout.Blobs(), s.layout.Tmp(), s.layout.Cache(), s.layout.Layers(), s.layout.Locks()}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("opening store %s: %w", root, err)
		}
	}
	if err := initLayout(abs); err != nil {
		return nil, fmt.Errorf("opening store %s: %w", root, err)
	}
	// index.json is created under the index lock so that a concurrent Open
	// cannot replace an index another process has just tagged into.
	unlock, err := lockFile(context.Background(), s.layout.IndexLock(), true)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", root, err)
	}
	defer unlock()
	if _, err := os.Lstat(s.layout.Index()); errors.Is(err, fs.ErrNotExist) {
		if err := writeIndex(s.layout.Index(), emptyIndex()); err != nil {
			return nil, fmt.Errorf("opening store %s: %w", root, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", root, err)
	}
	unlock()
	return s, nil
}

// Root returns the absolute path of the store's root directory.
func (s *Store) Root() string { return s.layout.Root() }

// TempDir creates a fresh directory under ROOT/tmp, named after pattern as
// os.MkdirTemp does, and returns its path. The caller removes it.
func (s *Store) TempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp(s.layout.Tmp(), pattern)
	if err != nil {
		return "", fmt.Errorf("creating temporary directory: %w", err)
	}
	return dir, nil
}

// initLayout writes the oci-layout file of a layout at dir if it is missing
// and otherwise checks its version.
func initLayout(dir string) error {
	path := rootdir.At(dir).OCILayout()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return atomicfile.WriteFile(path, layoutFileContent(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", ocispec.ImageLayoutFile, err)
	}
	var l ocispec.ImageLayout
	if err := json.Unmarshal(data, &l); err != nil {
		return fmt.Errorf("reading %s: %w", ocispec.ImageLayoutFile, err)
	}
	if l.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("unsupported OCI layout version %q in %s (want %q)", l.Version, path, ocispec.ImageLayoutVersion)
	}
	return nil
}

// layoutFileContent is the oci-layout file this package writes.
func layoutFileContent() []byte {
	return []byte(`{"imageLayoutVersion":"` + ocispec.ImageLayoutVersion + `"}`)
}
