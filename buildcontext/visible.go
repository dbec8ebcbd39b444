package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"
)

// The context as BuildKit sees it: fsutil transfers it through a filtered
// walk, and COPY only ever sees what the walk sent. An entry is sent when it
// is not excluded and no ancestor directory was skipped; an excluded
// directory is walked (rather than skipped) only when an exception could
// re-include something inside it, and is then sent as soon as one of its
// descendants is. Sockets are never part of the context here (Docker's
// classic builder skips them; BuildKit cannot send them either).

// isSocket reports whether fi describes a Unix socket.
func isSocket(fi fs.FileInfo) bool { return fi.Mode()&fs.ModeSocket != 0 }

// visible reports whether the real context path p, whose Lstat is fi, exists
// in the context after .dockerignore, and returns p's match info for walking
// its children.
func (c *Context) visible(p string, fi fs.FileInfo) (bool, patternmatcher.MatchInfo, error) {
	var mi patternmatcher.MatchInfo
	if p == "." {
		return true, mi, nil
	}
	if isSocket(fi) {
		return false, mi, nil
	}
	comps := strings.Split(p, "/")
	for i := range comps {
		cur := strings.Join(comps[:i+1], "/")
		excluded, info, err := c.ignore.match(cur, mi)
		if err != nil {
			return false, mi, err
		}
		mi = info
		if i < len(comps)-1 {
			if excluded && !c.ignore.walkExcluded(cur) {
				return false, mi, nil
			}
			continue
		}
		if !excluded {
			return true, mi, nil
		}
		if !fi.IsDir() || !c.ignore.walkExcluded(cur) {
			return false, mi, nil
		}
		any, err := c.anyVisible(cur, mi)
		return any, mi, err
	}
	return true, mi, nil
}

// anyVisible reports whether anything below the excluded directory p (with
// match info mi) is visible. Unreadable excluded directories count as empty,
// as in fsutil.
func (c *Context) anyVisible(p string, mi patternmatcher.MatchInfo) (bool, error) {
	entries, err := c.readDir(p)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return false, nil
		}
		return false, err
	}
	for _, fi := range entries {
		if isSocket(fi) {
			continue
		}
		cp := joinRel(p, fi.Name())
		excluded, cmi, err := c.ignore.match(cp, mi)
		if err != nil {
			return false, err
		}
		if !excluded {
			return true, nil
		}
		if fi.IsDir() && c.ignore.walkExcluded(cp) {
			if ok, err := c.anyVisible(cp, cmi); ok || err != nil {
				return ok, err
			}
		}
	}
	return false, nil
}

// checkVisible returns an error wrapping ENOENT when a resolved path, or one
// of the symbolic links followed to reach it, is not part of the context.
// On success it returns the match info of r.path.
func (c *Context) checkVisible(r resolved) (patternmatcher.MatchInfo, error) {
	for _, l := range r.links {
		fi, err := c.root.Lstat(filepath.FromSlash(l))
		if err != nil {
			return patternmatcher.MatchInfo{}, err
		}
		ok, _, err := c.visible(l, fi)
		if err != nil {
			return patternmatcher.MatchInfo{}, err
		}
		if !ok {
			return patternmatcher.MatchInfo{}, c.hidden(l, fi)
		}
	}
	ok, mi, err := c.visible(r.path, r.info)
	if err != nil {
		return mi, err
	}
	if !ok {
		return mi, c.hidden(r.path, r.info)
	}
	return mi, nil
}

// hidden is the error for an existing path that is not part of the context.
func (c *Context) hidden(p string, fi fs.FileInfo) error {
	if isSocket(fi) {
		return fmt.Errorf("%s: %w (sockets are not part of the build context)", p, syscall.ENOENT)
	}
	return fmt.Errorf("%s: %w (excluded by %s)", p, syscall.ENOENT, c.ignoreName)
}

// readDir lists the real directory p through os.Root, sorted by name. Go
// loads the entries' Lstat relative to the open directory.
func (c *Context) readDir(p string) ([]fs.FileInfo, error) {
	d, err := c.root.Open(filepath.FromSlash(p))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("reading directory %s: %w", p, err)
	}
	infos := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			return nil, fmt.Errorf("reading directory %s: %w", p, err)
		}
		infos = append(infos, fi)
	}
	slices.SortFunc(infos, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}
