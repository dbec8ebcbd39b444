package executor

import (
	"errors"
	"fmt"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// stubSet remembers the mount points a run created in a rootfs, so that they can be
// removed afterwards and the rootfs shows only what the command itself changed.
type stubSet struct {
	rootfd  int
	entries []stubEntry
	parents []stubParent
}

// stubEntry is one created mount point (its resolved path).
type stubEntry struct {
	path string
	kind entryKind
}

// stubParent is a directory we created entries in, with its times before and after.
type stubParent struct {
	path         string
	atime, mtime unix.Timespec
	after        unix.Timespec
	sealed       bool
}

// beforeCreate records the times of dir (open as dirfd) the first time an entry is created in it.
func (s *stubSet) beforeCreate(dirfd int, dir string) {
	for _, p := range s.parents {
		if p.path == dir {
			return
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(dirfd, &st); err != nil {
		return
	}
	s.parents = append(s.parents, stubParent{path: dir, atime: st.Atim, mtime: st.Mtim})
}

// created records a created mount point.
func (s *stubSet) created(p string, kind entryKind) {
	s.entries = append(s.entries, stubEntry{path: p, kind: kind})
}

// seal records the modification time of every parent once all mount points exist, so
// that remove can tell whether the command changed the directory afterwards.
func (s *stubSet) seal() {
	for i := range s.parents {
		st, err := s.stat(s.parents[i].path)
		if err != nil {
			continue
		}
		s.parents[i].after = st.Mtim
		s.parents[i].sealed = true
	}
}

// stat returns the attributes of the resolved path p inside the root.
func (s *stubSet) stat(p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := openInRoot(s.rootfd, p, unix.O_PATH)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	err = unix.Fstat(fd, &st)
	return st, err
}

// remove deletes the mount points that are still what was created (an empty directory
// or an empty regular file), newest first, and gives each parent directory the command
// did not touch its original times back.
func (s *stubSet) remove() error {
	untouched := make([]bool, len(s.parents))
	for i, p := range s.parents {
		st, err := s.stat(p.path)
		untouched[i] = err == nil && p.sealed && st.Mtim == p.after
	}
	var errs []error
	for i := len(s.entries) - 1; i >= 0; i-- {
		if err := s.removeEntry(s.entries[i]); err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range s.parents {
		if !untouched[i] {
			continue
		}
		if err := s.restoreTimes(p); err != nil {
			errs = append(errs, err)
		}
	}
	s.entries, s.parents = nil, nil
	return errors.Join(errs...)
}

// removeEntry deletes one mount point if it is still empty; anything else is the command's.
func (s *stubSet) removeEntry(e stubEntry) error {
	dirfd, err := openInRoot(s.rootfd, path.Dir(e.path), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		// The command removed or replaced the parent: what is there now is its change.
		return nil
	}
	defer unix.Close(dirfd)
	name := path.Base(e.path)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil
	}
	switch {
	case e.kind == kindDir && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
		if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			return nil
		}
	case e.kind == kindFile && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0:
		err = unix.Unlinkat(dirfd, name, 0)
	default:
		return nil
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing mount point %s: %w", e.path, err)
	}
	return nil
}

// restoreTimes sets the access and modification times of p back to before the run.
func (s *stubSet) restoreTimes(p stubParent) error {
	fd, err := openInRoot(s.rootfd, p.path, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	ts := []unix.Timespec{p.atime, p.mtime}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), ts, 0); err != nil {
		return fmt.Errorf("restoring times of %s: %w", p.path, err)
	}
	return nil
}
