package executor

import (
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// maxSymlinks bounds how many symbolic links one path walk may follow, like the kernel's limit.
const maxSymlinks = 40

// entryKind says what ensurePath creates for the last component of a path.
type entryKind int

const (
	kindDir entryKind = iota
	kindFile
)

// openRoot opens the directory rootfs as the anchor of confined path walks.
func openRoot(rootfs string) (int, error) {
	fd, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening rootfs %s: %w", rootfs, err)
	}
	return fd, nil
}

// openInRoot opens cleanPath, an absolute path that was already resolved and holds no
// symbolic links, inside the root. It refuses to follow any link, so a component that
// was swapped for a link after resolution cannot lead outside the root.
func openInRoot(rootfd int, cleanPath string, flags uint64) (int, error) {
	rel := strings.TrimLeft(cleanPath, "/")
	if rel == "" {
		rel = "."
	}
	return unixfs.Openat2(rootfd, rel, &unix.OpenHow{
		Flags:   flags,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// splitPath returns the components of p, including empty and dot ones.
func splitPath(p string) []string {
	return strings.Split(p, "/")
}

// joinAbs turns resolved components back into an absolute path.
func joinAbs(parts []string) string {
	return "/" + strings.Join(parts, "/")
}

// onlyDots reports whether the remaining components name nothing further.
func onlyDots(parts []string) bool {
	for _, p := range parts {
		if p != "" && p != "." {
			return false
		}
	}
	return true
}

// ensurePath resolves unsafePath inside the root with chroot semantics (absolute links
// and ".." never leave the root), creating every missing component: directories 0755
// and, when leaf is kindFile, an empty 0644 file for the last one, all owned by root.
// Each creation is reported to rec when rec is not nil. It returns the resolved
// absolute path, which holds no symbolic links.
func ensurePath(rootfd int, unsafePath string, leaf entryKind, rec *stubSet) (string, error) {
	return newMountTree(rootfd, rec).resolve(unsafePath, leaf)
}

// createEntry creates name in dirfd as a root-owned directory (0755) or empty file (0644).
func createEntry(dirfd int, name string, kind entryKind) error {
	var fd int
	var err error
	mode := uint32(0o644)
	if kind == kindDir {
		mode = 0o755
		if err := unix.Mkdirat(dirfd, name, mode); err != nil {
			return err
		}
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	} else {
		fd, err = unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, 0, 0); err != nil {
		return err
	}
	return unix.Fchmod(fd, mode)
}
