package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrOutsideContext is wrapped by errors for paths and symbolic links that
// lead out of the build context.
var ErrOutsideContext = errors.New("outside the build context")

// maxLinkHops bounds symbolic link resolution, as the kernel's ELOOP limit.
const maxLinkHops = 40

// cleanRel turns a context path as written ("a/b", "/a/b", "./a", ".") into
// a clean slash path relative to the context root ("." for the root),
// refusing paths that leave the context after lexical cleaning.
func cleanRel(p string) (string, error) {
	c := path.Clean("/" + p)
	// path.Clean("/"+p) clamps ".." at the root; detect escapes on the
	// relative form instead.
	rel := path.Clean(strings.TrimLeft(p, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s: %w", p, ErrOutsideContext)
	}
	if c == "/" {
		return ".", nil
	}
	return c[1:], nil
}

// joinRel joins a context-relative directory and a name.
func joinRel(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// resolved is a context path with every symbolic link followed.
type resolved struct {
	// path is the real context-relative slash path, "." for the root.
	path string
	// info is the Lstat of path (never a symlink).
	info fs.FileInfo
	// links are the real paths of the symbolic links followed on the way.
	links []string
}

// follow resolves the clean context-relative path p component by component
// through os.Root, following symbolic links (also the last component).
// Links with absolute targets or targets climbing above the context root
// are refused with ErrOutsideContext: the context is never left.
func (c *Context) follow(p string) (resolved, error) {
	var (
		real     []string
		links    []string
		info     fs.FileInfo
		hops     int
		lastLink string
	)
	todo := splitRel(p)
	info, err := c.root.Lstat(".")
	if err != nil {
		return resolved{}, err
	}
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(real) == 0 {
				// p is clean, so only a link target can climb this far.
				return resolved{}, fmt.Errorf("symbolic link %s: %w", lastLink, ErrOutsideContext)
			}
			real = real[:len(real)-1]
			if info, err = c.root.Lstat(relOf(real)); err != nil {
				return resolved{}, err
			}
			continue
		}
		cand := relOf(append(real, name))
		fi, err := c.root.Lstat(filepath.FromSlash(cand))
		if err != nil {
			return resolved{}, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			hops++
			if hops > maxLinkHops {
				return resolved{}, &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
			}
			target, err := c.root.Readlink(filepath.FromSlash(cand))
			if err != nil {
				return resolved{}, err
			}
			if path.IsAbs(target) {
				return resolved{}, fmt.Errorf("symbolic link %s -> %s: %w", cand, target, ErrOutsideContext)
			}
			links = append(links, cand)
			lastLink = cand + " -> " + target
			todo = append(splitRel(target), todo...)
			continue
		}
		if len(todo) > 0 && !fi.IsDir() {
			return resolved{}, &fs.PathError{Op: "resolve", Path: cand, Err: syscall.ENOTDIR}
		}
		real = append(real, name)
		info = fi
	}
	return resolved{path: relOf(real), info: info, links: links}, nil
}

// splitRel splits a slash path into components ("." gives none).
func splitRel(p string) []string {
	if p == "." || p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// relOf joins components into a context-relative path ("." when empty).
func relOf(comps []string) string {
	if len(comps) == 0 {
		return "."
	}
	return strings.Join(comps, "/")
}
