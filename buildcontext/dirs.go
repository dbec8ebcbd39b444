package buildcontext

import (
	"os"
	"path"
	"path/filepath"
	"sync"
)

// maxDirRoots bounds the directories dirRoots keeps open when unused.
const maxDirRoots = 16

// dirRoots keeps os.Roots of context directories open for opening files:
// os.Root resolves a path one component at a time, so opening
// "src/d40/r25" from the context's root costs an openat per component,
// while from a root of "src/d40" it costs one. COPY hashes and copies the
// files of a directory one after another, so a few open directories serve
// nearly every open.
type dirRoots struct {
	mu    sync.Mutex
	roots map[string]*dirRoot
}

// dirRoot is one open directory and how many opens are using it.
type dirRoot struct {
	root *os.Root
	refs int
}

// open opens the regular file at the clean context-relative path p for
// reading, through the root of its directory. Whatever that cannot open
// (a link leading out of the directory, a directory that is gone) is
// opened from the context's root, which decides.
func (c *Context) open(p string) (*os.File, error) {
	dir, name := path.Split(p)
	if dir == "" {
		return c.root.Open(filepath.FromSlash(p))
	}
	dir = dir[:len(dir)-1]
	d := c.dirs.acquire(c.root, dir)
	if d != nil {
		f, err := d.root.Open(name)
		c.dirs.release(dir, d)
		if err == nil {
			return f, nil
		}
	}
	return c.root.Open(filepath.FromSlash(p))
}

// acquire returns the open root of dir, opening it if needed, or nil.
func (r *dirRoots) acquire(top *os.Root, dir string) *dirRoot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.roots[dir]; d != nil {
		d.refs++
		return d
	}
	root, err := top.OpenRoot(filepath.FromSlash(dir))
	if err != nil {
		return nil
	}
	if r.roots == nil {
		r.roots = map[string]*dirRoot{}
	}
	if len(r.roots) >= maxDirRoots {
		for k, d := range r.roots {
			if d.refs == 0 {
				d.root.Close()
				delete(r.roots, k)
			}
		}
	}
	d := &dirRoot{root: root, refs: 1}
	r.roots[dir] = d
	return d
}

// release ends a use of d, the root of dir; a root evicted meanwhile is
// closed by its last user.
func (r *dirRoots) release(dir string, d *dirRoot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d.refs--
	if d.refs == 0 && r.roots[dir] != d {
		d.root.Close()
	}
}

// close closes every root.
func (r *dirRoots) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, d := range r.roots {
		d.root.Close()
		delete(r.roots, k)
	}
}
