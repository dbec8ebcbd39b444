package snapshot

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// This file describes file system objects as the differ sees them. The
// trees it reads are quiescent (the build step's processes are gone), so
// paths are joined from names the walk listed; every file whose content is
// read is opened without following a final symlink and checked to be the
// inode that was listed.

// node is one file system object on one side of a comparison.
type node struct {
	// rel is the slash-separated path below the tree's root, "" for the
	// root itself.
	rel string
	// path is where the object is on disk.
	path string
	st   unix.Stat_t

	// layers, on the overlay lower side, are the directories of each layer
	// that make up this directory, top first; sealed says no deeper layer
	// may add to it.
	layers []string
	sealed bool

	// untouched, on the new side, says the object and everything below it
	// are the lower object of the same name (overlay: not in the upper).
	untouched bool
	// sameInode, on the new side, says the object's own metadata and
	// content are those of the lower object of the same name (native: the
	// inode and its ctime are those recorded when the rootfs was copied).
	sameInode bool
	// opaque, on the overlay new side, says nothing shows through this
	// directory from the lower layers.
	opaque bool
}

// child returns the rel of name inside n.
func (n *node) child(name string) string {
	if n.rel == "" {
		return name
	}
	return n.rel + "/" + name
}

func (n *node) fileType() uint32 { return n.st.Mode & unix.S_IFMT }
func (n *node) isDir() bool      { return n.fileType() == unix.S_IFDIR }

// isWhiteout reports whether st is an overlayfs whiteout: a 0:0 character
// device.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// isSocket reports whether st is a socket, which a layer cannot hold: the
// differ treats sockets as absent.
func isSocket(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFSOCK }

// listDir returns the names in the directory at path and their lstat.
func listDir(path string) ([]string, []unix.Stat_t, error) {
	f, err := openDir(path)
	if err != nil {
		return nil, nil, fmt.Errorf("listing %q: %w", path, err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("listing %q: %w", path, err)
	}
	sts := make([]unix.Stat_t, len(names))
	for i, name := range names {
		if err := unix.Lstat(path+"/"+name, &sts[i]); err != nil {
			return nil, nil, fmt.Errorf("inspecting %q: %w", path+"/"+name, err)
		}
	}
	return names, sts, nil
}

// openDir opens the directory path for listing, refusing a final
// symlink.
func openDir(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// isOpaqueDir reports whether the directory at path carries the overlay
// opaque xattr key (tarutil.OverlayOpaqueXattr or, for an overlay mounted
// with userxattr, tarutil.OverlayUserOpaqueXattr).
func isOpaqueDir(path, key string) (bool, error) {
	var buf [4]byte
	n, err := unix.Lgetxattr(path, key, buf[:])
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ERANGE):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading %s of %q: %w", key, path, err)
	}
	return string(buf[:n]) == "y", nil
}

// readXattrs returns the xattrs of path (not following a final symlink)
// that belong in an image, by tarutil's rule, or nil.
func readXattrs(path string) (map[string]string, error) {
	x, err := tarutil.ImageXattrs(path)
	if err != nil {
		return nil, fmt.Errorf("reading xattrs of %q: %w", path, err)
	}
	return x, nil
}

// readlink returns the target of the symlink at path.
func readlink(path string) (string, error) {
	t, err := os.Readlink(path)
	if err != nil {
		return "", fmt.Errorf("reading link %q: %w", path, err)
	}
	return t, nil
}

// sameStat reports whether the stat fields the differ compares are equal:
// type, mode, owner, mtime, and the size of files and the device number of
// devices.
func sameStat(a, b *unix.Stat_t) bool {
	if a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid || a.Mtim != b.Mtim {
		return false
	}
	switch a.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return a.Size == b.Size
	case unix.S_IFCHR, unix.S_IFBLK:
		return a.Rdev == b.Rdev
	}
	return true
}

// sameMeta reports whether l and n have the same metadata: the stat fields
// of sameStat, the symlink target and the xattrs.
func sameMeta(l, n *node) (bool, error) {
	if !sameStat(&l.st, &n.st) {
		return false, nil
	}
	if l.fileType() == unix.S_IFLNK {
		lt, err := readlink(l.path)
		if err != nil {
			return false, err
		}
		nt, err := readlink(n.path)
		if err != nil || lt != nt {
			return false, err
		}
	}
	lx, err := readXattrs(l.path)
	if err != nil {
		return false, err
	}
	nx, err := readXattrs(n.path)
	if err != nil {
		return false, err
	}
	return maps.Equal(lx, nx), nil
}

// openNode opens the regular file n for reading and checks that it is
// still the inode that was listed.
func openNode(n *node) (*os.File, error) {
	return openChecked(n.path, func(st *unix.Stat_t) bool { return st.Dev == n.st.Dev && st.Ino == n.st.Ino })
}

// openRegular opens the regular file at path without following a
// symlink there.
func openRegular(path string) (*os.File, error) {
	return openChecked(path, func(*unix.Stat_t) bool { return true })
}

// openChecked opens path for reading, which must be a regular file (not
// a symlink) that same accepts.
func openChecked(path string, same func(*unix.Stat_t) bool) (*os.File, error) {
	// O_NOATIME: reading a layer must not change what it holds (the
	// upper directory may become the unpacked layer, times included).
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	fd, err := unix.Open(path, flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(path, flags, 0) // not the owner, no CAP_FOWNER
	}
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("inspecting %q: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || !same(&st) {
		unix.Close(fd)
		return nil, fmt.Errorf("%q was replaced since it was listed", path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// sameContent reports whether the regular files l and n hold the same
// bytes.
func sameContent(l, n *node) (bool, error) {
	if l.st.Size != n.st.Size {
		return false, nil
	}
	lf, err := openNode(l)
	if err != nil {
		return false, err
	}
	defer lf.Close()
	nf, err := openNode(n)
	if err != nil {
		return false, err
	}
	defer nf.Close()
	lb, nb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		ln, lerr := io.ReadFull(lf, lb)
		nn, nerr := io.ReadFull(nf, nb)
		if !bytes.Equal(lb[:ln], nb[:nn]) {
			return false, nil
		}
		lend := errors.Is(lerr, io.EOF) || errors.Is(lerr, io.ErrUnexpectedEOF)
		nend := errors.Is(nerr, io.EOF) || errors.Is(nerr, io.ErrUnexpectedEOF)
		switch {
		case lerr != nil && !lend:
			return false, fmt.Errorf("reading %q: %w", l.path, lerr)
		case nerr != nil && !nend:
			return false, fmt.Errorf("reading %q: %w", n.path, nerr)
		case lend || nend:
			return lend == nend, nil
		}
	}
}

// changed reports whether the non-directory n differs from l: in type,
// metadata or content.
func changed(l, n *node) (bool, error) {
	if l.fileType() != n.fileType() {
		return true, nil
	}
	if n.sameInode && sameStat(&l.st, &n.st) {
		return false, nil
	}
	same, err := sameMeta(l, n)
	if err != nil || !same {
		return !same, err
	}
	if n.fileType() != unix.S_IFREG {
		return false, nil
	}
	same, err = sameContent(l, n)
	return !same, err
}

// dirChanged reports whether the directory n's own metadata differs from
// the directory l's.
func dirChanged(l, n *node) (bool, error) {
	if n.sameInode && sameStat(&l.st, &n.st) {
		return false, nil
	}
	same, err := sameMeta(l, n)
	return !same, err
}

// entryOf describes n as a layer entry named n.rel; ok is false for
// objects a layer cannot hold.
func entryOf(n *node) (e tarutil.Entry, ok bool, err error) {
	st := &n.st
	e = tarutil.Entry{
		Name:    n.rel,
		Mode:    int64(st.Mode & 0o7777),
		UID:     int(st.Uid),
		GID:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		e.Type = tar.TypeDir
	case unix.S_IFREG:
		e.Type = tar.TypeReg
		e.Size = st.Size
		e.Open = func() (io.ReadCloser, error) { return openNode(n) }
	case unix.S_IFLNK:
		e.Type = tar.TypeSymlink
		if e.Linkname, err = readlink(n.path); err != nil {
			return e, false, err
		}
	case unix.S_IFCHR:
		e.Type = tar.TypeChar
		e.Devmajor, e.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFBLK:
		e.Type = tar.TypeBlock
		e.Devmajor, e.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		e.Type = tar.TypeFifo
	default:
		return e, false, nil
	}
	if e.Xattrs, err = readXattrs(n.path); err != nil {
		return e, false, err
	}
	return e, true, nil
}

// whiteoutEntry returns the OCI whiteout entry name (".wh.X" or the opaque
// marker) inside the directory dir.
func whiteoutEntry(dir *node, name string) tarutil.Entry {
	return tarutil.Entry{
		Name:    dir.child(name),
		Type:    tar.TypeReg,
		ModTime: time.Unix(0, 0),
	}
}
