package tarutil

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// ChangeKind says how a layer diff changes a path. Its values are the
// letters docker diff prints.
type ChangeKind byte

const (
	// ChangeAdded is a path the diff creates where there was none.
	ChangeAdded ChangeKind = 'A'
	// ChangeChanged is a path there was, which the diff writes again.
	ChangeChanged ChangeKind = 'C'
	// ChangeDeleted is a path the diff deletes.
	ChangeDeleted ChangeKind = 'D'
)

// Change is one path a layer diff changes, as one line of docker diff.
type Change struct {
	// Kind says how the path changes.
	Kind ChangeKind
	// Path is absolute and clean, e.g. "/etc/hosts".
	Path string
}

// Changes classifies the entries of a layer diff made on top of p, as
// docker diff does, and returns them sorted by path: a whiteout deletes its
// target; an opaque marker deletes every path p has directly in that
// directory that the diff does not bring back; any other entry changes a
// path p has and adds one it does not. Names are read as Apply reads them
// (AUFS metadata is skipped; names climbing above the root and malformed
// whiteouts are errors); the root itself is never listed.
func (p *Paths) Changes(entries []Entry) ([]Change, error) {
	names := make([]string, len(entries))
	present := make(map[string]bool, len(entries))
	for i, e := range entries {
		name := "."
		if e.Name != "" {
			var err error
			if name, err = cleanName(e.Name); err != nil {
				return nil, fmt.Errorf("entry %q: %w", e.Name, err)
			}
		}
		names[i] = name
		present[name] = true
	}
	byName := map[string]ChangeKind{}
	for _, name := range names {
		if name == "." {
			continue
		}
		kind, concerns, err := ClassifyName(name)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		switch kind {
		case NameOpaque:
			if d := p.lookup(concerns); d != nil {
				for child := range d.children {
					if c := joinName(concerns, child); !present[c] {
						byName[c] = ChangeDeleted
					}
				}
			}
		case NameWhiteout:
			byName[concerns] = ChangeDeleted
		case NameOrdinary:
			if p.lookup(name) != nil {
				byName[name] = ChangeChanged
			} else {
				byName[name] = ChangeAdded
			}
		}
	}
	changes := make([]Change, 0, len(byName))
	for name, kind := range byName {
		changes = append(changes, Change{Kind: kind, Path: path.Join("/", name)})
	}
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return changes, nil
}
