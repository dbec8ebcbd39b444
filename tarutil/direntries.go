package tarutil

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// DirEntries walks dir without following symlinks and returns its contents
// as entries named prefix plus the slash-separated relative path, sorted by
// Name. prefix is "" or a clean relative directory name ending in "/", such
// as "app/"; dir itself is not an entry.
//
// Entries carry mode, owner, size, mtime, symlink targets, device numbers
// and the xattrs worth keeping in an image (user.*, trusted.* and
// security.capability, but never overlayfs metadata, security.selinux or
// ACLs). Files sharing a (device, inode) pair become hardlinks to the one
// whose name sorts first. Sockets are skipped. Open re-opens a regular file
// beneath dir with openat2 (no symlinks anywhere on the way) and fails if it
// is no longer the file that was listed.
func DirEntries(dir, prefix string) ([]Entry, error) {
	if prefix != "" {
		p, ok := strings.CutSuffix(prefix, "/")
		if !ok || checkEntryName(p) != nil {
			return nil, fmt.Errorf("invalid entry prefix %q: want \"\" or a clean relative path ending in \"/\"", prefix)
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", dir, err)
	}
	w := &walker{dir: dir, prefix: prefix, inodes: make(map[fileID]int)}
	err = w.walk(fd, "")
	unix.Close(fd)
	if err != nil {
		return nil, err
	}
	w.linkHardlinks()
	return w.entries, nil
}

// fileID identifies an inode.
type fileID struct{ dev, ino uint64 }

// walker accumulates the entries of one DirEntries call.
type walker struct {
	dir, prefix string
	entries     []Entry
	ids         []fileID // parallel to entries; zero for unlinked objects
	inodes      map[fileID]int
}

// walk lists the directory dirfd, named rel ("" for dir), recursively.
func (w *walker) walk(dirfd int, rel string) error {
	names, fd, err := readDirNames(dirfd, ".")
	if err != nil {
		return fmt.Errorf("listing %q: %w", w.displayPath(rel), err)
	}
	defer unix.Close(fd)
	for _, name := range names {
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		if err := w.add(fd, name, childRel); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) displayPath(rel string) string {
	if rel == "" {
		return w.dir
	}
	return w.dir + "/" + rel
}

// add records the object name in dirfd (relative path rel), descending
// into directories.
func (w *walker) add(dirfd int, name, rel string) error {
	st, err := lstatAt(dirfd, name)
	if err != nil {
		return fmt.Errorf("inspecting %q: %w", w.displayPath(rel), err)
	}
	e := Entry{
		Name:    w.prefix + rel,
		Mode:    int64(st.Mode & modePerm),
		UID:     int(st.Uid),
		GID:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
	}
	id := fileID{dev: st.Dev, ino: st.Ino}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		e.Type = tar.TypeDir
		id = fileID{}
	case unix.S_IFREG:
		e.Type = tar.TypeReg
		e.Size = st.Size
		e.Open = w.opener(rel, id)
	case unix.S_IFLNK:
		e.Type = tar.TypeSymlink
		if e.Linkname, err = readlinkAt(dirfd, name); err != nil {
			return fmt.Errorf("reading link %q: %w", w.displayPath(rel), err)
		}
	case unix.S_IFCHR, unix.S_IFBLK:
		e.Type = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			e.Type = tar.TypeBlock
		}
		e.Devmajor, e.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		e.Type = tar.TypeFifo
	default:
		return nil // sockets cannot be stored in a tar
	}
	if e.Xattrs, err = ImageXattrs(procChild(dirfd, name)); err != nil {
		return fmt.Errorf("reading xattrs of %q: %w", w.displayPath(rel), err)
	}
	if st.Nlink <= 1 {
		id = fileID{}
	}
	w.entries = append(w.entries, e)
	w.ids = append(w.ids, id)
	if e.Type != tar.TypeDir {
		return nil
	}
	cfd, err := openChild(dirfd, name, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("opening %q: %w", w.displayPath(rel), err)
	}
	defer unix.Close(cfd)
	return w.walk(cfd, rel)
}

// opener returns an Open function that re-opens rel beneath w.dir and
// checks it is still the inode id.
func (w *walker) opener(rel string, id fileID) func() (io.ReadCloser, error) {
	dir := w.dir
	return func() (io.ReadCloser, error) {
		dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("opening %q: %w", dir, err)
		}
		defer unix.Close(dfd)
		fd, err := unixfs.Openat2(dfd, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_NOFOLLOW, Resolve: resolveBeneathNoLinks})
		if err != nil {
			return nil, fmt.Errorf("opening %q beneath %q: %w", rel, dir, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("inspecting %q: %w", rel, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Dev != id.dev || st.Ino != id.ino {
			unix.Close(fd)
			return nil, fmt.Errorf("%q beneath %q was replaced since it was listed", rel, dir)
		}
		return os.NewFile(uintptr(fd), dir+"/"+rel), nil
	}
}

// linkHardlinks sorts the entries by name and turns every later name of an
// inode into a hardlink to its first name.
func (w *walker) linkHardlinks() {
	order := make([]int, len(w.entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(w.entries[a].Name, w.entries[b].Name) })
	sorted := make([]Entry, 0, len(order))
	for _, i := range order {
		e := w.entries[i]
		id := w.ids[i]
		if id != (fileID{}) {
			if first, ok := w.inodes[id]; ok {
				e = Entry{
					Name:     e.Name,
					Type:     tar.TypeLink,
					Mode:     e.Mode,
					UID:      e.UID,
					GID:      e.GID,
					Linkname: sorted[first].Name,
					ModTime:  e.ModTime,
				}
			} else {
				w.inodes[id] = len(sorted)
			}
		}
		sorted = append(sorted, e)
	}
	w.entries, w.ids = sorted, nil
}

// readlinkAt reads the symlink name in dirfd.
func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// KeepXattr reports whether an xattr belongs in an image: user.*,
// trusted.* and security.capability, never overlayfs metadata.
func KeepXattr(key string) bool {
	switch {
	case isOverlayXattr(key):
		return false
	case strings.HasPrefix(key, "user."), strings.HasPrefix(key, "trusted."):
		return true
	default:
		return key == "security.capability"
	}
}

// ImageXattrs returns the xattrs of p (not following a final symlink)
// that KeepXattr accepts, or nil.
func ImageXattrs(p string) (map[string]string, error) {
	names, err := unixfs.Llistxattr(p)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out map[string]string
	for _, key := range names {
		if key == "" || !KeepXattr(key) {
			continue
		}
		val, err := unixfs.Lgetxattr(p, key)
		if errors.Is(err, unix.ENODATA) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", key, err)
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[key] = string(val)
	}
	return out, nil
}
