package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/flock"
)

// Removed is a volume a Remove or Prune removed.
type Removed struct {
	Name string
	// Bytes is the disk space its files took.
	Bytes int64
}

// Remove removes the volume name and its files. It fails with an error
// wrapping ErrInUse while a container uses it (or it is being created),
// and ErrNotFound when there is no such volume.
func (s *Store) Remove(name string) (Removed, error) {
	if err := CheckName(name); err != nil {
		return Removed{}, err
	}
	if _, err := s.Get(name); errors.Is(err, ErrNotFound) {
		return Removed{}, err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, locksDir), dirPerm); err != nil {
		return Removed{}, fmt.Errorf("volume %s: %w", name, err)
	}
	l, err := flock.TryAcquire(s.lockPath(name), flock.Exclusive, lockPerm)
	if err != nil {
		return Removed{}, err
	}
	if l == nil {
		return Removed{}, fmt.Errorf("volume %s: %w", name, ErrInUse)
	}
	defer l.Unlock()
	if err := s.cleanLeftovers(name); err != nil {
		return Removed{}, fmt.Errorf("volume %s: %w", name, err)
	}
	dir := s.volumeDir(name)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return Removed{}, fmt.Errorf("volume %s: %w", name, ErrNotFound)
	}
	r := Removed{Name: name, Bytes: s.Size(Volume{Mountpoint: filepath.Join(dir, dataDir)})}
	// Renamed away first, so that a crash while removing the files
	// leaves no half volume under the name, only a dot-folder.
	trash, err := os.MkdirTemp(s.dir, tempName(tmpRemove, name))
	if err != nil {
		return Removed{}, fmt.Errorf("volume %s: %w", name, err)
	}
	if err := renameDir(dir, trash); err != nil {
		_ = os.Remove(trash)
		return Removed{}, fmt.Errorf("volume %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(s.dir); err != nil {
		return Removed{}, fmt.Errorf("volume %s: %w", name, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return r, fmt.Errorf("volume %s: removing its files: %w", name, err)
	}
	return r, nil
}

// PruneResult is what Prune did.
type PruneResult struct {
	Removed []Removed
	// InUse names the volumes kept because containers use them.
	InUse []string
}

// Bytes is the disk space the removed volumes took.
func (r PruneResult) Bytes() int64 {
	var n int64
	for _, v := range r.Removed {
		n += v.Bytes
	}
	return n
}

// Prune removes every volume no container uses, and what dead processes
// left of volumes being created, filled or removed.
func (s *Store) Prune() (PruneResult, error) {
	var res PruneResult
	var errs []error
	names, err := s.names()
	if err != nil {
		return res, err
	}
	for _, n := range names {
		r, err := s.Remove(n)
		switch {
		case errors.Is(err, ErrInUse):
			res.InUse = append(res.InUse, n)
		case errors.Is(err, ErrNotFound): // removed meanwhile
		case err != nil:
			errs = append(errs, err)
		default:
			res.Removed = append(res.Removed, r)
		}
	}
	errs = append(errs, s.cleanAllLeftovers())
	return res, errors.Join(errs...)
}

// cleanLeftovers removes, under the exclusive lock of the volume name,
// the dot-folders of its creations, fillings and removals and the
// temporary files of its metadata: their writers held that lock, so they
// are dead.
func (s *Store) cleanLeftovers(name string) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if tempOwner(e.Name()) == name {
			errs = append(errs, os.RemoveAll(filepath.Join(s.dir, e.Name())))
		}
	}
	dir := s.volumeDir(name)
	ents, err = os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return errors.Join(errs...)
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if atomicfile.IsTemp(e.Name()) {
			errs = append(errs, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

// cleanAllLeftovers removes the leftovers of every volume whose exclusive
// lock is free.
func (s *Store) cleanAllLeftovers() error {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		name := tempOwner(e.Name())
		if name == "" {
			continue
		}
		l, err := flock.TryAcquire(s.lockPath(name), flock.Exclusive, lockPerm)
		if err != nil || l == nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.cleanLeftovers(name))
		errs = append(errs, l.Unlock())
	}
	return errors.Join(errs...)
}

// InUse reports whether a container uses the volume name (or it is being
// created, filled or removed right now).
func (s *Store) InUse(name string) (bool, error) {
	if err := CheckName(name); err != nil {
		return false, err
	}
	free, err := flock.Free(s.lockPath(name))
	return !free, err
}
