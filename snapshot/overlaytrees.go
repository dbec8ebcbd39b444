package snapshot

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// overlayTrees reads an overlay snapshot without the kernel's help: the
// lower tree is the merge of the unpacked layer directories (with their
// overlay whiteouts and opaque directories), the new tree is the upper
// directory laid over it. opaque is the xattr that marks opaque
// directories in both.
type overlayTrees struct {
	opaque string
}

var _ trees = overlayTrees{}

// overlayRoots returns the roots of both trees: layers are the unpacked
// layer directories top first (at least one), upper is the upper
// directory.
func overlayRoots(layers []string, upper string) (lower, cur *node, err error) {
	lower = &node{path: layers[0], layers: layers}
	if err := unix.Lstat(layers[0], &lower.st); err != nil {
		return nil, nil, fmt.Errorf("inspecting %q: %w", layers[0], err)
	}
	cur = &node{path: upper}
	if err := unix.Lstat(upper, &cur.st); err != nil {
		return nil, nil, fmt.Errorf("inspecting %q: %w", upper, err)
	}
	return lower, cur, nil
}

// lowerChildren merges the directory dir of every layer in dir.layers as
// overlayfs does: the topmost object of a name wins, a whiteout hides the
// name in the layers below it, and a directory keeps merging with the
// directories below it until one is opaque or a layer holds a
// non-directory of that name.
func (o overlayTrees) lowerChildren(dir *node) (map[string]*node, error) {
	out := make(map[string]*node)
	hidden := make(map[string]bool)
	for _, layerDir := range dir.layers {
		names, sts, err := listDir(layerDir)
		if err != nil {
			return nil, err
		}
		for i, name := range names {
			st := &sts[i]
			path := layerDir + "/" + name
			if hidden[name] || isSocket(st) {
				continue
			}
			if above, ok := out[name]; ok {
				if above.sealed {
					continue
				}
				if st.Mode&unix.S_IFMT != unix.S_IFDIR {
					above.sealed = true
					continue
				}
				above.layers = append(above.layers, path)
				if above.sealed, err = isOpaqueDir(path, o.opaque); err != nil {
					return nil, err
				}
				continue
			}
			if isWhiteout(st) {
				hidden[name] = true
				continue
			}
			n := &node{rel: dir.child(name), path: path, st: *st, sealed: true}
			if n.isDir() {
				n.layers = []string{path}
				if n.sealed, err = isOpaqueDir(path, o.opaque); err != nil {
					return nil, err
				}
			}
			out[name] = n
		}
	}
	return out, nil
}

// newChildren lists the upper directory dir and, unless it is opaque, the
// lower children it does not replace or white out, which are untouched.
func (o overlayTrees) newChildren(dir *node, lower map[string]*node) (map[string]*node, error) {
	names, sts, err := listDir(dir.path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*node, len(names)+len(lower))
	inUpper := make(map[string]bool, len(names))
	for i, name := range names {
		st := &sts[i]
		inUpper[name] = true
		if isWhiteout(st) || isSocket(st) {
			continue
		}
		n := &node{rel: dir.child(name), path: dir.path + "/" + name, st: *st}
		if n.isDir() {
			// Inside an opaque directory nothing shows through, however
			// deep.
			n.opaque = dir.opaque
			if !n.opaque {
				if n.opaque, err = isOpaqueDir(n.path, o.opaque); err != nil {
					return nil, err
				}
			}
		}
		out[name] = n
	}
	if dir.opaque {
		return out, nil
	}
	for name, l := range lower {
		if !inUpper[name] {
			out[name] = &node{rel: l.rel, path: l.path, st: l.st, untouched: true}
		}
	}
	return out, nil
}
