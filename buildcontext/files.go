package buildcontext

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// File is one entry a source contributes to a COPY/ADD.
type File struct {
	// Rel is the slash path relative to the source directory; "" when the
	// source is not a directory.
	Rel string
	// Path is the context-relative slash path to open (symbolic links on
	// the way to the source resolved).
	Path string
	// Mode is the full Go mode from Lstat, type bits, setuid, setgid and
	// sticky included; for a symbolic link named as the source, its
	// target's mode.
	Mode fs.FileMode
	// Size is the length of a regular file.
	Size int64
	// UID and GID are the numeric owners.
	UID, GID int
	// Linkname is a symbolic link's target as written.
	Linkname string
	// ModTime is the modification time (BuildKit keeps it in COPY).
	ModTime time.Time
	// Devmajor and Devminor identify a character or block device.
	Devmajor, Devminor int64

	key    statKey // the listing's stat data, for Digest
	hasKey bool
}

// Files lists what a source contributes, excluding paths .dockerignore
// removes from the context, sorted by Rel. A non-directory source (a
// symbolic link named as the source is followed, within the context) gives
// one File with Rel "". A directory gives its contents recursively, not the
// directory itself (Docker copies a directory's contents), directories
// included as entries. Symbolic links inside a directory are listed as links
// and never followed. Devices and FIFOs are listed (with Devmajor/Devminor);
// sockets are skipped. Hard links are not detected: each name is a file.
func (c *Context) Files(src Source) ([]File, error) {
	p, err := cleanSource(src.Path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.Path, err)
	}
	r, err := c.follow(p)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.Path, err)
	}
	mi, err := c.checkVisible(r)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.Path, err)
	}
	if !r.info.IsDir() {
		f, err := c.fileOf("", r.path, r.info)
		if err != nil {
			return nil, err
		}
		return []File{f}, nil
	}
	l := lister{c: c, base: r.path}
	files, err := l.list(r.path, mi)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Rel, b.Rel) })
	return files, nil
}

// fileOf builds a File from an Lstat result.
func (c *Context) fileOf(rel, p string, fi fs.FileInfo) (File, error) {
	f := File{Rel: rel, Path: p, Mode: fi.Mode(), ModTime: fi.ModTime()}
	if fi.Mode().IsRegular() {
		f.Size = fi.Size()
		f.key, f.hasKey = keyOf(fi)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return File{}, fmt.Errorf("%s: no stat data", p)
	}
	f.UID, f.GID = int(st.Uid), int(st.Gid)
	if fi.Mode()&fs.ModeDevice != 0 {
		f.Devmajor = int64(unix.Major(uint64(st.Rdev)))
		f.Devminor = int64(unix.Minor(uint64(st.Rdev)))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := c.root.Readlink(filepath.FromSlash(p))
		if err != nil {
			return File{}, err
		}
		f.Linkname = target
	}
	return f, nil
}
