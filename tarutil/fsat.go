package tarutil

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// This file holds the fd-relative file system primitives Apply and
// DirEntries are built on. Every untrusted path is resolved by openat2
// (unixfs.Openat2, which retries EINTR and EAGAIN) relative to a directory
// fd; final components are never followed.

// resolveInRoot is how paths inside an image root are resolved: with chroot
// semantics, so absolute symlinks and ".." stay inside the root.
const resolveInRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// resolveBeneathNoLinks is how a path below a directory is resolved when no
// component may be a symlink.
const resolveBeneathNoLinks = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openDirInRoot opens the directory rel (slash-separated, "." for the root)
// inside root as an O_PATH fd, resolving every component with chroot
// semantics.
func openDirInRoot(rootfd int, rel string) (int, error) {
	return unixfs.Openat2(rootfd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY, Resolve: resolveInRoot})
}

// openChild opens the single component name inside dirfd without following
// any symlink.
func openChild(dirfd int, name string, flags uint64) (int, error) {
	return unixfs.Openat2(dirfd, name, &unix.OpenHow{Flags: flags | unix.O_NOFOLLOW, Resolve: resolveBeneathNoLinks})
}

// mkdirAllInRoot opens the directory rel inside root, creating missing
// components with mode 0755. It returns an O_PATH fd of the directory.
func mkdirAllInRoot(rootfd int, rel string) (int, error) {
	fd, err := openDirInRoot(rootfd, rel)
	if !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	cur, err := openDirInRoot(rootfd, ".")
	if err != nil {
		return -1, err
	}
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		next, err := openDirInRoot(rootfd, prefix)
		if errors.Is(err, unix.ENOENT) {
			if err := unix.Mkdirat(cur, part, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				unix.Close(cur)
				return -1, fmt.Errorf("creating directory %q: %w", prefix, err)
			}
			next, err = openDirInRoot(rootfd, prefix)
		}
		unix.Close(cur)
		if err != nil {
			return -1, fmt.Errorf("opening directory %q: %w", prefix, err)
		}
		cur = next
	}
	return cur, nil
}

// lstatAt stats name in dirfd without following a final symlink.
func lstatAt(dirfd int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// isDir reports whether st describes a directory.
func isDir(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFDIR }

// readDirNames lists the names in the directory name inside dirfd, which is
// opened without following symlinks.
func readDirNames(dirfd int, name string) ([]string, int, error) {
	fd, err := openChild(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, -1, err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, -1, err
	}
	f := os.NewFile(uintptr(dup), name)
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		unix.Close(fd)
		return nil, -1, err
	}
	return names, fd, nil
}

// removeAllAt removes name from dirfd, recursively if it is a directory,
// never following symlinks. A missing name is not an error.
func removeAllAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) {
		return fmt.Errorf("removing %q: %w", name, err)
	}
	err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("removing directory %q: %w", name, err)
	}
	names, fd, err := readDirNames(dirfd, name)
	if err != nil {
		return fmt.Errorf("listing directory %q: %w", name, err)
	}
	for _, child := range names {
		if err := removeAllAt(fd, child); err != nil {
			unix.Close(fd)
			return fmt.Errorf("in %q: %w", name, err)
		}
	}
	unix.Close(fd)
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing directory %q: %w", name, err)
	}
	return nil
}

// procChild names the single component name inside the open directory
// dirfd through /proc, for the path-only xattr calls: the magic link pins
// the directory, and the l* calls do not follow name if it is a symlink.
func procChild(dirfd int, name string) string {
	return "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + name
}

// procFd names the object an O_PATH fd refers to through /proc.
func procFd(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}

// fchmodPath changes the mode of the object behind the O_PATH fd, which
// must not be a symlink: fchmodat2 with AT_EMPTY_PATH where the kernel has
// it, else through the /proc magic link.
func fchmodPath(fd int, mode uint32) error {
	err := unix.Fchmodat(fd, "", mode, unix.AT_EMPTY_PATH)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		err = unix.Chmod(procFd(fd), mode)
	}
	return err
}
