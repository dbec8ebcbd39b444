package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/patternmatcher"
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
	l := lister{c: c, base: r.path, spare: make(chan struct{}, runtime.GOMAXPROCS(0)-1)}
	files, err := l.walk(r.path, mi, false)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Rel, b.Rel) })
	return files, nil
}

// lister collects the visible entries below a source directory. It walks
// subdirectories on spare goroutines when there are any (an unchanged
// context costs one lstat per file, which two cores do in half the time),
// and in its own goroutine otherwise, so it never waits for a slot.
type lister struct {
	c     *Context
	base  string
	spare chan struct{} // one token per goroutine that may still start
}

// subwalk is a subdirectory being walked.
type subwalk struct {
	dir      File // the directory's own entry
	excluded bool
	files    []File
	err      error
	done     chan struct{} // closed when files and err are set
}

// walk lists the real directory dir with match info mi, in no particular
// order; excluded tells whether dir itself is excluded (then unreadable
// means empty, as fsutil). A visible source directory is walked with
// excluded false: if it is excluded, checkVisible already read it.
func (l *lister) walk(dir string, mi patternmatcher.MatchInfo, excluded bool) ([]File, error) {
	entries, err := l.c.readDir(dir)
	if err != nil {
		if excluded && errors.Is(err, fs.ErrPermission) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]File, 0, len(entries))
	var subs []*subwalk
	defer func() {
		for _, sw := range subs {
			<-sw.done // never leave a walk running
		}
	}()
	for _, fi := range entries {
		if isSocket(fi) {
			continue
		}
		p := joinRel(dir, fi.Name())
		ex, cmi, err := l.c.ignore.match(p, mi)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			if ex {
				continue
			}
			f, err := l.file(p, fi)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			continue
		}
		if ex && !l.c.ignore.walkExcluded(p) {
			continue
		}
		f, err := l.file(p, fi)
		if err != nil {
			return nil, err
		}
		sw := &subwalk{dir: f, excluded: ex, done: make(chan struct{})}
		subs = append(subs, sw)
		run := func() {
			defer close(sw.done)
			sw.files, sw.err = l.walk(p, cmi, ex)
		}
		select {
		case l.spare <- struct{}{}:
			go func() {
				defer func() { <-l.spare }()
				run()
			}()
		default:
			run()
		}
	}
	n := len(out)
	for _, sw := range subs {
		<-sw.done
		if sw.err != nil {
			return nil, sw.err
		}
		n += 1 + len(sw.files)
	}
	if len(subs) == 0 {
		return out, nil
	}
	all := make([]File, 0, n) // one copy of the subtrees' entries
	all = append(all, out...)
	for _, sw := range subs {
		// An excluded directory is only sent when something inside is.
		if !sw.excluded || len(sw.files) > 0 {
			all = append(all, sw.dir)
			all = append(all, sw.files...)
		}
	}
	return all, nil
}

// file makes the File of the entry p.
func (l *lister) file(p string, fi fs.FileInfo) (File, error) {
	rel := p
	if l.base != "." {
		rel = p[len(l.base)+1:]
	}
	return l.c.fileOf(rel, p, fi)
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
