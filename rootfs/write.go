package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// WriteFile creates or replaces the file at path with the content of src.
// The parent directory must exist and is resolved within the root; the final
// component is never followed: an existing file or symlink there is unlinked
// first, an existing directory is an error. Owner is set before mode, so
// setuid and setgid bits survive; then the access and modification times are
// set to mtime (a zero mtime leaves them as written). On error the partly
// written file is removed.
func (r *Root) WriteFile(p string, src io.Reader, mode fs.FileMode, uid, gid int, mtime time.Time) error {
	clean := cleanPath(p)
	pfd, base, err := r.parent(clean)
	if err != nil {
		return pathErr("write", clean, err)
	}
	defer closeFd(pfd)
	create := func() (int, error) {
		return unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	}
	fd, err := unixfs.Retry(create)
	if errors.Is(err, unix.EEXIST) {
		// Something is there (O_EXCL never follows a link): replace it
		// unless it is a directory. Trying the create first spares the
		// common case, a new file, one stat.
		if err := removeNonDir(pfd, base, clean); err != nil {
			return pathErr("write", clean, err)
		}
		fd, err = unixfs.Retry(create)
	}
	if err != nil {
		return pathErr("write", clean, err)
	}
	f := os.NewFile(uintptr(fd), clean)
	err = fillFile(f, src, mode, uid, gid)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = setTimes(pfd, base, mtime)
	}
	if err != nil {
		_ = unix.Unlinkat(pfd, base, 0)
		return pathErr("write", clean, err)
	}
	return nil
}

// fillFile copies src into f and sets its owner, then its mode.
func fillFile(f *os.File, src io.Reader, mode fs.FileMode, uid, gid int) error {
	if _, err := io.Copy(f, src); err != nil {
		return fmt.Errorf("copying content: %w", err)
	}
	fd := int(f.Fd())
	if err := unixfs.RetryErr(func() error { return unix.Fchown(fd, uid, gid) }); err != nil {
		return fmt.Errorf("chown: %w", idmap.UnmappedError(err, uid, gid))
	}
	if err := unixfs.RetryErr(func() error { return unix.Fchmod(fd, unixMode(mode)) }); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// Symlink creates a symlink at path pointing to target (stored verbatim),
// owned by uid:gid, with mtime as its times (zero: left as created). The
// parent must exist; an existing non-directory at path is replaced, an
// existing directory is an error.
func (r *Root) Symlink(target, p string, uid, gid int, mtime time.Time) error {
	clean := cleanPath(p)
	pfd, base, err := r.parent(clean)
	if err != nil {
		return pathErr("symlink", clean, err)
	}
	defer closeFd(pfd)
	if err := removeNonDir(pfd, base, clean); err != nil {
		return pathErr("symlink", clean, err)
	}
	if err := unixfs.RetryErr(func() error { return unix.Symlinkat(target, pfd, base) }); err != nil {
		return pathErr("symlink", clean, err)
	}
	if err := unixfs.RetryErr(func() error { return unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return pathErr("lchown", clean, idmap.UnmappedError(err, uid, gid))
	}
	if err := setTimes(pfd, base, mtime); err != nil {
		return pathErr("symlink", clean, err)
	}
	return nil
}

// Mkdir makes one directory at path (the parent must exist) with mode, owner
// and mtime (zero: left as created). If a directory already exists there, it
// keeps its children and takes the mode, owner and mtime; any other file there
// (a symlink included: the final component is never followed) is replaced.
func (r *Root) Mkdir(p string, mode fs.FileMode, uid, gid int, mtime time.Time) error {
	clean := cleanPath(p)
	pfd, base, err := r.parent(clean)
	if err != nil {
		return pathErr("mkdir", clean, err)
	}
	defer closeFd(pfd)
	if err := ensureDir(pfd, base); err != nil {
		return pathErr("mkdir", clean, err)
	}
	dfd, err := unixfs.Retry(func() (int, error) {
		return unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return pathErr("mkdir", clean, err)
	}
	err = chownChmod(dfd, mode, uid, gid)
	closeFd(dfd)
	if err == nil {
		err = setTimes(pfd, base, mtime)
	}
	if err != nil {
		return pathErr("mkdir", clean, err)
	}
	return nil
}

// ensureDir makes sure a directory (not a symlink to one) named base exists
// in dirfd, replacing any other file there.
func ensureDir(dirfd int, base string) error {
	for i := 0; ; i++ {
		err := unixfs.RetryErr(func() error { return unix.Mkdirat(dirfd, base, 0o700) })
		if !errors.Is(err, unix.EEXIST) || i >= unixfs.MaxRetries {
			return err
		}
		var st unix.Stat_t
		if err := unixfs.RetryErr(func() error { return unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // removed meanwhile: try again
			}
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return nil
		}
		if err := unix.Unlinkat(dirfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
}

// chownChmod sets the owner, then the mode, of the open file fd.
func chownChmod(fd int, mode fs.FileMode, uid, gid int) error {
	if err := unixfs.RetryErr(func() error { return unix.Fchown(fd, uid, gid) }); err != nil {
		return fmt.Errorf("chown: %w", idmap.UnmappedError(err, uid, gid))
	}
	if err := unixfs.RetryErr(func() error { return unix.Fchmod(fd, unixMode(mode)) }); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// Chtimes sets the access and modification times of the file at path to
// mtime, never following a final symlink: on a symlink it changes the link
// itself. A zero mtime changes nothing but the path must still exist.
func (r *Root) Chtimes(p string, mtime time.Time) error {
	clean := cleanPath(p)
	pfd, base, err := r.parent(clean)
	if err != nil {
		return pathErr("chtimes", clean, err)
	}
	defer closeFd(pfd)
	if mtime.IsZero() {
		var st unix.Stat_t
		err = unixfs.RetryErr(func() error { return unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) })
	} else {
		err = setTimes(pfd, base, mtime)
	}
	if err != nil {
		return pathErr("chtimes", clean, err)
	}
	return nil
}

// setTimes sets the access and modification times of base in dirfd to mtime,
// without following a symlink; a zero mtime is a no-op.
func setTimes(dirfd int, base string, mtime time.Time) error {
	if mtime.IsZero() {
		return nil
	}
	ts := unix.Timespec{Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())}
	return unixfs.RetryErr(func() error {
		return unix.UtimesNanoAt(dirfd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// removeNonDir unlinks base in dirfd unless it is missing; an existing
// directory is an error naming the image path clean.
func removeNonDir(dirfd int, base, clean string) error {
	var st unix.Stat_t
	err := unixfs.RetryErr(func() error { return unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) })
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("%s is a directory: %w", clean, unix.EISDIR)
	}
	if err := unix.Unlinkat(dirfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
