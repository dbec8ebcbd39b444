package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/flock"
	"golang.org/x/sys/unix"
)

// Fill puts a volume's first content into dir, an empty directory
// nothing else sees yet, and gives dir the owner and mode the content
// wants.
type Fill func(dir string) error

// Lease is a volume in use: while it is held, the volume cannot be
// removed.
type Lease struct {
	Volume
	// Created says the volume did not exist before; Filled that its
	// Fill ran.
	Created, Filled bool
	lock            *flock.Lock
}

// Release ends the use; calling it again does nothing.
func (l *Lease) Release() error { return l.lock.Unlock() }

// maxAttempts bounds how often Use starts over when the volume is
// removed between its two locks.
const maxAttempts = 10

// Use returns the volume name, holding it in use until the lease is
// released, and records the use. A missing volume is created. fill, when
// not nil, fills a volume whose folder is empty and that no other
// container uses, as Docker copies an image's content into a new volume;
// a volume with content is used as it is.
func (s *Store) Use(ctx context.Context, name string, fill Fill) (*Lease, error) {
	l, err := s.hold(ctx, name, fill)
	if err != nil {
		return nil, err
	}
	m := metadata{Name: l.Name, CreatedAt: l.CreatedAt, LastUsedAt: time.Now().UTC()}
	if err := writeMeta(s.volumeDir(name), m); err != nil {
		_ = l.Release()
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	l.LastUsedAt = m.LastUsedAt
	return l, nil
}

// Create creates the volume name unless it exists, and returns it;
// created says it did not exist.
func (s *Store) Create(ctx context.Context, name string) (v Volume, created bool, err error) {
	l, err := s.hold(ctx, name, nil)
	if err != nil {
		return Volume{}, false, err
	}
	return l.Volume, l.Created, l.Release()
}

// hold returns the volume name with its lock held shared, creating and
// filling it first, under the exclusive lock, when it is missing or
// empty and nobody uses it.
func (s *Store) hold(ctx context.Context, name string, fill Fill) (*Lease, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, locksDir), dirPerm); err != nil {
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	path := s.lockPath(name)
	for range maxAttempts {
		// Alone with the volume, make it whole. Held by someone else, it
		// is in use (so it exists), or being created or removed: wait.
		excl, err := flock.TryAcquire(path, flock.Exclusive, lockPerm)
		if err != nil {
			return nil, err
		}
		var created, filled bool
		if excl != nil {
			created, filled, err = s.prepare(name, fill)
			if uerr := excl.Unlock(); err == nil {
				err = uerr
			}
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", name, err)
			}
		}
		shared, err := flock.Acquire(ctx, path, flock.Shared, lockPerm)
		if err != nil {
			return nil, err
		}
		v, err := s.Get(name)
		if errors.Is(err, ErrNotFound) { // removed between the two locks
			_ = shared.Unlock()
			continue
		}
		if err != nil {
			_ = shared.Unlock()
			return nil, err
		}
		return &Lease{Volume: v, Created: created, Filled: filled, lock: shared}, nil
	}
	return nil, fmt.Errorf("volume %s: removed again and again while being opened", name)
}

// prepare, under the exclusive lock of the volume name, removes what dead
// processes left of it, then creates it when missing and fills it when
// its folder is empty.
func (s *Store) prepare(name string, fill Fill) (created, filled bool, err error) {
	if err := s.cleanLeftovers(name); err != nil {
		return false, false, err
	}
	dir := s.volumeDir(name)
	_, err = os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, fill != nil, s.create(name, fill)
	case err != nil:
		return false, false, err
	case fill == nil:
		return false, false, nil
	}
	empty, err := isEmptyDir(filepath.Join(dir, dataDir))
	if err != nil || !empty {
		return false, false, err
	}
	return false, true, s.fillEmpty(name, fill)
}

// create makes the volume name in a dot-folder, fills it, and renames it
// into place.
func (s *Store) create(name string, fill Fill) error {
	tmp, err := os.MkdirTemp(s.dir, tempName(tmpNew, name))
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	data := filepath.Join(tmp, dataDir)
	if err := os.Mkdir(data, dataPerm); err != nil {
		return err
	}
	if err := os.Chmod(data, dataPerm); err != nil { // past the umask
		return err
	}
	if fill != nil {
		if err := fill(data); err != nil {
			return fmt.Errorf("filling it: %w", err)
		}
	}
	if err := writeMeta(tmp, metadata{Name: name, CreatedAt: time.Now().UTC()}); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.volumeDir(name)); err != nil {
		return err
	}
	return atomicfile.SyncDir(s.dir)
}

// fillEmpty fills the empty volume name in a dot-folder and renames that
// over its data folder.
func (s *Store) fillEmpty(name string, fill Fill) error {
	tmp, err := os.MkdirTemp(s.dir, tempName(tmpFill, name))
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	if err := os.Chmod(tmp, dataPerm); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		return fmt.Errorf("filling it: %w", err)
	}
	dir := s.volumeDir(name)
	// rename(2) replaces an empty directory (os.Rename refuses to), and
	// nobody else can put anything into it while the exclusive lock is held.
	if err := renameDir(tmp, filepath.Join(dir, dataDir)); err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// renameDir renames the directory from to to, replacing to if it is an
// empty directory.
func renameDir(from, to string) error {
	if err := unix.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// isEmptyDir reports whether the directory dir has no entries.
func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
