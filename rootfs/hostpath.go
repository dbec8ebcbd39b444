package rootfs

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// HostPath resolves the image path p with chroot semantics, following
// symlinks within the root, and returns the host path of what it names:
// what a bind mount of that file uses as its source. The answer holds
// only while nobody else changes the root (a rootfs a build prepared for
// itself).
func (r *Root) HostPath(p string) (string, error) {
	clean := cleanPath(p)
	fd, err := r.openat2(clean, unix.O_PATH)
	if err != nil {
		return "", pathErr("resolve", clean, err)
	}
	defer closeFd(fd)
	host, err := readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", pathErr("resolve", clean, err)
	}
	rootHost, err := filepath.EvalSymlinks(r.dir)
	if err != nil {
		return "", pathErr("resolve", clean, err)
	}
	if host != rootHost && !strings.HasPrefix(host, rootHost+"/") {
		return "", pathErr("resolve", clean, fmt.Errorf("resolves to %s, outside the root %s", host, rootHost))
	}
	return host, nil
}

// readlink reads a symbolic link of any length.
func readlink(name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlink(name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
