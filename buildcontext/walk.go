package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/moby/patternmatcher"
	"golang.org/x/sys/unix"
)

// lister collects the visible entries below a source directory. An
// unchanged context costs a no-change rebuild exactly this walk (one
// fstatat per entry), so directories are listed by one worker per CPU,
// taking them from a shared stack; the entries are then put together in
// one pass, in name order.
type lister struct {
	c    *Context
	base string

	mu      sync.Mutex
	wake    *sync.Cond
	stack   []*dirNode
	pending int // nodes pushed and not yet listed
}

// dirNode is one directory of the walk.
type dirNode struct {
	path     string // context-relative
	mi       patternmatcher.MatchInfo
	excluded bool
	self     File // its own entry (unset for the source directory)

	files []File     // its entries other than directories
	subs  []*dirNode // its subdirectories, in name order
	err   error
}

// list walks the source directory src (context-relative) with match info
// mi.
func (l *lister) list(src string, mi patternmatcher.MatchInfo) ([]File, error) {
	l.wake = sync.NewCond(&l.mu)
	top := &dirNode{path: src, mi: mi}
	l.stack, l.pending = []*dirNode{top}, 1
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.work()
		}()
	}
	wg.Wait()
	out := make([]File, 0, count(top))
	if err := assemble(top, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// work lists directories from the stack until none is left to list.
func (l *lister) work() {
	l.mu.Lock()
	for {
		for len(l.stack) == 0 && l.pending > 0 {
			l.wake.Wait()
		}
		if l.pending == 0 {
			l.mu.Unlock()
			l.wake.Broadcast()
			return
		}
		n := l.stack[len(l.stack)-1]
		l.stack = l.stack[:len(l.stack)-1]
		l.mu.Unlock()
		n.err = l.listDir(n)
		l.mu.Lock()
		l.stack = append(l.stack, n.subs...)
		l.pending += len(n.subs) - 1
		l.wake.Broadcast()
	}
}

// count is the number of entries below n, an upper bound of what
// assemble appends.
func count(n *dirNode) int {
	c := len(n.files) + len(n.subs)
	for _, sub := range n.subs {
		c += count(sub)
	}
	return c
}

// assemble appends the entries below n to out, depth first in name order,
// and returns the first error met in that order.
func assemble(n *dirNode, out *[]File) error {
	if n.err != nil {
		return n.err
	}
	*out = append(*out, n.files...)
	for _, sub := range n.subs {
		at := len(*out)
		*out = append(*out, sub.self)
		if err := assemble(sub, out); err != nil {
			return err
		}
		// An excluded directory is only sent when something inside is.
		if sub.excluded && len(*out) == at+1 {
			*out = (*out)[:at]
		}
	}
	return nil
}

// listDir reads the directory n: its files, and its subdirectories as new
// nodes. Unreadable means empty for an excluded directory (as fsutil).
func (l *lister) listDir(n *dirNode) error {
	d, err := l.c.root.Open(filepath.FromSlash(n.path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && n.path != l.base {
			return nil // removed since its parent was listed
		}
		if n.excluded && errors.Is(err, fs.ErrPermission) {
			return nil
		}
		return fmt.Errorf("reading directory %s: %w", n.path, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		if n.excluded && errors.Is(err, fs.ErrPermission) {
			return nil
		}
		return fmt.Errorf("reading directory %s: %w", n.path, err)
	}
	slices.Sort(names)
	fd := int(d.Fd())
	n.files = make([]File, 0, len(names))
	for _, name := range names {
		var st unix.Stat_t
		if err := ignoringEINTR(func() error { return unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // removed since the listing
			}
			return fmt.Errorf("reading directory %s: %w", n.path, &fs.PathError{Op: "lstat", Path: name, Err: err})
		}
		typ := st.Mode & unix.S_IFMT
		if typ == unix.S_IFSOCK {
			continue
		}
		p := joinRel(n.path, name)
		ex, cmi, err := l.c.ignore.match(p, n.mi)
		if err != nil {
			return err
		}
		if typ == unix.S_IFDIR && ex && !l.c.ignore.walkExcluded(p) || typ != unix.S_IFDIR && ex {
			continue
		}
		f, err := l.file(fd, name, p, &st)
		if err != nil {
			return err
		}
		if typ != unix.S_IFDIR {
			n.files = append(n.files, f)
			continue
		}
		n.subs = append(n.subs, &dirNode{path: p, mi: cmi, excluded: ex, self: f})
	}
	return nil
}

// file makes the File of the entry name of the directory dirfd, whose
// context-relative path is p.
func (l *lister) file(dirfd int, name, p string, st *unix.Stat_t) (File, error) {
	rel := p
	if l.base != "." {
		rel = p[len(l.base)+1:]
	}
	f := File{
		Rel:     rel,
		Path:    p,
		Mode:    unixfs.FileMode(st.Mode),
		UID:     int(st.Uid),
		GID:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		f.Size = st.Size
		f.key, f.hasKey = statKeyOf(st), true
	case unix.S_IFBLK, unix.S_IFCHR:
		f.Devmajor = int64(unix.Major(st.Rdev))
		f.Devminor = int64(unix.Minor(st.Rdev))
	case unix.S_IFLNK:
		target, err := unixfs.Readlinkat(dirfd, name)
		if err != nil {
			return File{}, fmt.Errorf("%s: %w", p, &fs.PathError{Op: "readlinkat", Path: name, Err: err})
		}
		f.Linkname = target
	}
	return f, nil
}

// ignoringEINTR calls fn again while it fails with EINTR.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
