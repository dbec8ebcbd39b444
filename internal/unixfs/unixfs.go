// Package unixfs holds the small system-call helpers the descriptor-based
// file code (rootfs, buildcontext, tarutil, executor) shares: stat-mode
// conversion, readlinkat, and the bounded EINTR/EAGAIN retries of openat2
// and other calls.
package unixfs

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// FileMode converts a stat(2) mode to a Go file mode, as os.Lstat does.
func FileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// Readlinkat reads the target of the symbolic link name in the directory
// dirfd, retrying on EINTR at most MaxRetries times. Targets longer than
// 4*PATH_MAX (the kernel writes none longer than PATH_MAX) fail with
// ENAMETOOLONG. Errors, a last EINTR included, are the bare errno.
func Readlinkat(dirfd int, name string) (string, error) {
	for size, tries := 256, 0; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if errors.Is(err, unix.EINTR) && tries < MaxRetries {
			tries++
			size /= 2 // the same size again
			continue
		}
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= 4*unix.PathMax {
			return "", unix.ENAMETOOLONG
		}
	}
}
