package rootfs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// Root is an open image root filesystem directory. Every path given to its
// methods is an image path, resolved with chroot semantics: absolute symlinks
// and ".." never leave the root. Its methods may be called concurrently, but
// not concurrently with Close.
type Root struct {
	dir string
	fd  int // O_PATH|O_DIRECTORY descriptor of dir, -1 once closed
}

// Open opens dir, a host directory, as an image root filesystem.
func Open(dir string) (*Root, error) {
	fd, err := unixfs.Retry(func() (int, error) {
		return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open root", Path: dir, Err: err}
	}
	return &Root{dir: filepath.Clean(dir), fd: fd}, nil
}

// Close releases the root's directory descriptor.
func (r *Root) Close() error {
	if r.fd < 0 {
		return &fs.PathError{Op: "close root", Path: r.dir, Err: os.ErrClosed}
	}
	err := unix.Close(r.fd)
	r.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close root", Path: r.dir, Err: err}
	}
	return nil
}

// Dir returns the host directory the root was opened from.
func (r *Root) Dir() string { return r.dir }

// cleanPath turns an image path, absolute or relative to "/", into a clean
// absolute image path. ".." is removed lexically and cannot climb above "/".
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// relPath returns the clean image path p relative to the root, as openat2
// wants it: "." for the root itself.
func relPath(clean string) string {
	if clean == "/" {
		return "."
	}
	return strings.TrimPrefix(clean, "/")
}

// openat2 opens the clean image path p relative to the root with chroot
// semantics; flags are open(2) flags (O_CLOEXEC is always added).
func (r *Root) openat2(clean string, flags int) (int, error) {
	if r.fd < 0 {
		return -1, os.ErrClosed
	}
	return unixfs.Openat2(r.fd, relPath(clean), &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// parent opens, as an O_PATH directory descriptor, the directory holding the
// last component of the clean image path p and returns that component. For
// "/" it returns the root itself and ".".
func (r *Root) parent(clean string) (int, string, error) {
	if clean == "/" {
		fd, err := r.openat2("/", unix.O_PATH|unix.O_DIRECTORY)
		return fd, ".", err
	}
	dir, base := path.Split(clean)
	fd, err := r.openat2(cleanPath(dir), unix.O_PATH|unix.O_DIRECTORY)
	return fd, base, err
}

// pathErr wraps err with the operation and the image path it concerns.
func pathErr(op, clean string, err error) error {
	return &fs.PathError{Op: op, Path: clean, Err: err}
}

// closeFd closes a descriptor whose close error cannot matter (read-only or
// O_PATH descriptors).
func closeFd(fd int) {
	_ = unix.Close(fd)
}

// errNotDir reports an existing non-directory found where a directory is needed.
func errNotDir(at string) error {
	return fmt.Errorf("%s exists and is not a directory: %w", at, unix.ENOTDIR)
}
