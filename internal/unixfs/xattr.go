package unixfs

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// Llistxattr lists the names of the extended attributes of path, not
// following a final symlink.
func Llistxattr(path string) ([]string, error) {
	list, err := xattrBuf(func(b []byte) (int, error) { return unix.Llistxattr(path, b) })
	if err != nil {
		return nil, err
	}
	var names []string
	for name := range strings.SplitSeq(string(list), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

// Lgetxattr reads the extended attribute name of path, not following a
// final symlink.
func Lgetxattr(path, name string) ([]byte, error) {
	return xattrBuf(func(b []byte) (int, error) { return unix.Lgetxattr(path, name, b) })
}

// xattrBuf calls f with a buffer large enough for its answer: it asks
// for the size first, and again when the value grew meanwhile.
func xattrBuf(f func([]byte) (int, error)) ([]byte, error) {
	for range 8 {
		size, err := f(nil)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			return nil, nil
		}
		buf := make([]byte, size)
		n, err := f(buf)
		if errors.Is(err, unix.ERANGE) {
			continue // grew meanwhile
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, unix.ERANGE
}
