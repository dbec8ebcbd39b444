package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"
)

// Source is one source a COPY/ADD pattern resolved to.
type Source struct {
	// Pattern is the source as written in the instruction.
	Pattern string
	// Path is the context-relative slash path of the match, "." for the
	// root. For a plain path it is the cleaned pattern (symbolic links not
	// resolved, so its base name is the one Docker copies under); for a glob
	// match it is the match below the glob's resolved parent directory.
	Path string
	// IsDir reports whether the source is a directory, after following a
	// symbolic link named as (or matched as) the source.
	IsDir bool
}

// Resolve expands COPY/ADD source patterns (already variable-expanded,
// relative to the context root; a leading "/" means the root; "", "." and
// "./" are the root itself) into sources, in Docker's order: patterns in
// order, and within a glob the order of a lexical depth-first walk.
//
// As in BuildKit, a pattern is cleaned lexically, split at its first
// component holding a wildcard ('*', '?', '['; '\' escapes), the part before
// it is resolved following symbolic links, and the rest is matched with
// filepath.Match against paths below it; a matching directory is not
// descended into. Only paths that are part of the context (see
// .dockerignore) are matched. Errors name the pattern: one that leaves the
// context wraps ErrOutsideContext, one that matches nothing wraps ENOENT,
// and a source reached through a symbolic link leaving the context wraps
// ErrOutsideContext (the host is never read).
func (c *Context) Resolve(patterns []string) ([]Source, error) {
	var out []Source
	for _, pat := range patterns {
		srcs, err := c.resolveOne(pat)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", pat, err)
		}
		out = append(out, srcs...)
	}
	return out, nil
}

// resolveOne resolves a single pattern.
func (c *Context) resolveOne(pat string) ([]Source, error) {
	clean, err := cleanSource(pat)
	if err != nil {
		return nil, err
	}
	comps := splitRel(clean)
	i := slices.IndexFunc(comps, containsWildcards)
	if i < 0 {
		isDir, err := c.sourceIsDir(clean)
		if err != nil {
			return nil, err
		}
		return []Source{{Pattern: pat, Path: clean, IsDir: isDir}}, nil
	}
	base, err := c.follow(relOf(comps[:i]))
	if err != nil {
		return nil, err
	}
	mi, err := c.checkVisible(base)
	if err != nil {
		return nil, err
	}
	g := glob{c: c, base: base.path, pattern: strings.Join(comps[i:], "/"), maxDepth: len(comps) - i}
	if strings.Contains(g.pattern, "[") {
		g.maxDepth = 0 // a negated class can match '/', so depth is no bound
	}
	if _, err := path.Match(g.pattern, ""); err != nil {
		// BuildKit ignores the error and so matches nothing.
		return nil, fmt.Errorf("%w (bad pattern: %v)", syscall.ENOENT, err)
	}
	if base.info.IsDir() {
		if err := g.walk(base.path, mi, 1); err != nil {
			return nil, err
		}
	}
	if len(g.matches) == 0 {
		return nil, syscall.ENOENT
	}
	out := make([]Source, 0, len(g.matches))
	for _, m := range g.matches {
		isDir, err := c.sourceIsDir(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		out = append(out, Source{Pattern: pat, Path: m, IsDir: isDir})
	}
	return out, nil
}

// cleanSource cleans a source as written. Unlike BuildKit, which clamps ".."
// at the root, a source leaving the context is an error.
func cleanSource(pat string) (string, error) {
	p, err := cleanRel(pat)
	if err != nil {
		return "", ErrOutsideContext
	}
	return p, nil
}

// sourceIsDir follows the context path p and reports whether it is a
// directory, failing when it or a link on its way is not part of the context.
func (c *Context) sourceIsDir(p string) (bool, error) {
	r, err := c.follow(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, syscall.ENOENT
		}
		return false, err
	}
	if _, err := c.checkVisible(r); err != nil {
		return false, err
	}
	return r.info.IsDir(), nil
}

// glob collects the visible paths below base matching pattern, in the order
// of BuildKit's filepath.Walk.
type glob struct {
	c        *Context
	base     string
	pattern  string
	maxDepth int // deepest level that can match; 0 for no bound
	matches  []string
}

// walk visits the children of the real directory dir (depth levels below
// base), whose match info is mi.
func (g *glob) walk(dir string, mi patternmatcher.MatchInfo, depth int) error {
	entries, err := g.c.readDir(dir)
	if err != nil {
		return err
	}
	for _, fi := range entries {
		if isSocket(fi) {
			continue
		}
		p := joinRel(dir, fi.Name())
		excluded, cmi, err := g.c.ignore.match(p, mi)
		if err != nil {
			return err
		}
		if excluded {
			if !fi.IsDir() || !g.c.ignore.walkExcluded(p) {
				continue
			}
			ok, err := g.c.anyVisible(p, cmi)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		rel := p
		if g.base != "." {
			rel = p[len(g.base)+1:]
		}
		if ok, _ := path.Match(g.pattern, rel); ok {
			g.matches = append(g.matches, p)
			continue
		}
		if fi.IsDir() && (g.maxDepth == 0 || depth < g.maxDepth) {
			if err := g.walk(p, cmi, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// containsWildcards reports whether a path component holds a glob
// metacharacter not escaped by a backslash (fsutil's rule on Linux).
func containsWildcards(name string) bool {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}
