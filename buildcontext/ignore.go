package buildcontext

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// defaultIgnoreName is the ignore file read from the context root when no
// explicit one is given.
const defaultIgnoreName = ".dockerignore"

// matcher applies .dockerignore patterns the way BuildKit's context transfer
// (tonistiigi/fsutil's filtered walk) does: every path is matched with
// MatchesUsingParentResults against the results of its parent directory, and
// an excluded directory is still walked when an exception ("!pattern") could
// re-include something inside it.
type matcher struct {
	// mu serialises use of pm: patterns compile lazily and the
	// PatternMatcher is not safe for concurrent use.
	mu sync.Mutex
	pm *patternmatcher.PatternMatcher
	// onlyPrefixExceptions is true when no exception pattern holds a
	// wildcard before an optional trailing "/*" or "/**"; only then can an
	// excluded directory be skipped without looking inside.
	onlyPrefixExceptions bool
	// exceptionPrefixes are the exception patterns without a trailing glob,
	// each followed by "/".
	exceptionPrefixes []string
}

// newMatcher compiles ignore patterns (already read by ignorefile.ReadAll); it
// returns nil when there are none.
func newMatcher(patterns []string) (*matcher, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	if len(pm.Patterns()) == 0 {
		return nil, nil
	}
	m := &matcher{pm: pm, onlyPrefixExceptions: true}
	// The same characters fsutil treats as pattern syntax on Linux.
	const patternChars = "*[]?^\\"
	for _, p := range pm.Patterns() {
		if !p.Exclusion() {
			continue
		}
		s := withoutTrailingGlob(p.String())
		if strings.ContainsAny(s, patternChars) {
			m.onlyPrefixExceptions = false
		}
		m.exceptionPrefixes = append(m.exceptionPrefixes, s+"/")
	}
	return m, nil
}

// withoutTrailingGlob strips one trailing "/**" or "/*" from a pattern.
func withoutTrailingGlob(s string) string {
	s = strings.TrimSuffix(s, "/**")
	return strings.TrimSuffix(s, "/*")
}

// match reports whether the context-relative slash path p is excluded, given
// the match results of its parent directory (the zero MatchInfo for entries
// of the context root). The returned MatchInfo is what p's children need.
// A nil matcher excludes nothing.
func (m *matcher) match(p string, parent patternmatcher.MatchInfo) (bool, patternmatcher.MatchInfo, error) {
	if m == nil {
		return false, patternmatcher.MatchInfo{}, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, info, err := m.pm.MatchesUsingParentResults(p, parent)
	if err != nil {
		return false, info, fmt.Errorf("matching %s against ignore patterns: %w", p, err)
	}
	return ok, info, nil
}

// walkExcluded reports whether the excluded directory p must still be walked
// because an exception pattern could re-include something inside it.
func (m *matcher) walkExcluded(p string) bool {
	if m == nil {
		return false
	}
	if !m.onlyPrefixExceptions {
		return true
	}
	dirSlash := p + "/"
	for _, e := range m.exceptionPrefixes {
		if strings.HasPrefix(e, dirSlash) {
			return true
		}
	}
	return false
}

// loadIgnore reads the ignore patterns: the explicit file when given and
// present (BuildKit's <Dockerfile>.dockerignore), otherwise .dockerignore at
// the context root when present. It returns the patterns and the name of the
// file they came from ("" when there is none).
func loadIgnore(root *os.Root, explicit string) ([]string, string, error) {
	var data []byte
	name := ""
	if explicit != "" {
		b, err := os.ReadFile(explicit)
		switch {
		case err == nil:
			data, name = b, explicit
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("reading ignore file: %w", err)
		}
	}
	if name == "" {
		b, err := root.ReadFile(defaultIgnoreName)
		switch {
		case err == nil:
			data, name = b, defaultIgnoreName
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", nil
		default:
			return nil, "", fmt.Errorf("reading %s: %w", defaultIgnoreName, err)
		}
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("parsing %s: %w", filepath.Base(name), err)
	}
	return patterns, name, nil
}
