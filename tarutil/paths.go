package tarutil

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSymlinks bounds the symbolic links one lookup of Paths follows, as
// the kernel bounds those of one path walk.
const maxSymlinks = 40

// Paths is the set of paths a chain of layers leaves in a root file
// system, worked out from the layers' tar headers alone by Apply's rules
// (WhiteoutApply): an opaque marker acts as though it preceded the
// directory's other entries, wherever it sits in the tar; a whiteout
// deletes only what lower layers left; a directory over a directory keeps
// the children, any other entry replaces what was there, subtree included;
// missing parents are implied as directories; parents are resolved through
// the layers' symbolic links with chroot semantics, as openat2
// RESOLVE_IN_ROOT resolves them. The zero value is not usable: use
// NewPaths.
type Paths struct {
	root *pathNode
}

// pathNode is one object of a Paths.
type pathNode struct {
	// kind is tar.TypeDir, tar.TypeSymlink or, for any other object,
	// tar.TypeReg.
	kind byte
	// link is a symbolic link's target.
	link string
	// children are a directory's entries by name.
	children map[string]*pathNode
}

func newDirNode() *pathNode {
	return &pathNode{kind: tar.TypeDir, children: make(map[string]*pathNode)}
}

// NewPaths returns the paths of an empty root: the root directory alone.
func NewPaths() *Paths {
	return &Paths{root: newDirNode()}
}

// ApplyHeaders applies the uncompressed layer tar stream r, reading only
// its headers, as Apply would apply it to a root holding p. It refuses
// what Apply refuses for names, types and paths (names climbing above
// the root, duplicates, malformed whiteouts, a parent that is not a
// directory, hardlinks to missing objects, ...), with an error naming the
// entry; p is then partly changed. Cancellation is checked between
// entries.
func (p *Paths) ApplyHeaders(ctx context.Context, r io.Reader) error {
	l := &pathsLayer{p: p, names: newLayerNames()}
	return EachEntry(ctx, tar.NewReader(r), l.entry)
}

// pathsLayer is the state of one ApplyHeaders call.
type pathsLayer struct {
	p     *Paths
	names layerNames
}

// entry applies one header, as applier.entry applies one entry.
func (l *pathsLayer) entry(hdr *tar.Header) error {
	e, ok, err := l.names.classify(hdr)
	switch {
	case err != nil || !ok:
		return err
	case e.name == ".":
		return nil
	case e.kind == NameOpaque:
		return l.opaque(e.concerns)
	case e.kind == NameWhiteout:
		return l.whiteout(path.Dir(e.concerns), path.Base(e.concerns))
	}
	return l.create(hdr, e.name)
}

// opaque removes from dir what this layer has not touched, as
// applier.opaque does.
func (l *pathsLayer) opaque(dir string) error {
	d, err := l.p.resolveDir(dir, true)
	if err != nil {
		return fmt.Errorf("opening opaque directory: %w", err)
	}
	l.names.markTouched(dir)
	l.clearLower(d, dir)
	return nil
}

// clearLower removes from d (named dirName) every child this layer did
// not touch, descending into the touched directories.
func (l *pathsLayer) clearLower(d *pathNode, dirName string) {
	for name, child := range d.children {
		childName := joinName(dirName, name)
		switch {
		case !l.names.touched[childName]:
			delete(d.children, name)
		case child.kind == tar.TypeDir:
			l.clearLower(child, childName)
		}
	}
}

// whiteout deletes target from dir unless this layer made it, as
// applier.whiteoutName does without overlay markers.
func (l *pathsLayer) whiteout(dir, target string) error {
	if l.names.touched[joinName(dir, target)] {
		return nil
	}
	d, err := l.p.resolveDir(dir, false)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // nothing below to delete
	}
	if err != nil {
		return fmt.Errorf("opening whiteout directory: %w", err)
	}
	delete(d.children, target)
	return nil
}

// create adds the object hdr describes at name, as applier.create does.
func (l *pathsLayer) create(hdr *tar.Header, name string) error {
	kind, link, err := checkCreate(hdr)
	if err != nil {
		return err
	}
	parent, err := l.p.resolveDir(path.Dir(name), true)
	if err != nil {
		return fmt.Errorf("opening parent directory: %w", err)
	}
	l.names.markTouched(name)
	base := path.Base(name)
	if old := parent.children[base]; old != nil && (kind != tar.TypeDir || old.kind != tar.TypeDir) {
		delete(parent.children, base)
	}
	switch kind {
	case tar.TypeDir:
		if parent.children[base] == nil {
			parent.children[base] = newDirNode()
		}
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			return fmt.Errorf("creating symlink: %w", unix.ENOENT)
		}
		parent.children[base] = &pathNode{kind: tar.TypeSymlink, link: hdr.Linkname}
	case tar.TypeLink:
		tdir, err := l.p.resolveDir(path.Dir(link), false)
		if err != nil {
			return fmt.Errorf("resolving hardlink target %q: %w", link, err)
		}
		target := tdir.children[path.Base(link)]
		switch {
		case target == nil:
			return fmt.Errorf("linking to %q: %w", link, unix.ENOENT)
		case target.kind == tar.TypeDir:
			return fmt.Errorf("linking to %q: %w", link, unix.EPERM)
		}
		parent.children[base] = &pathNode{kind: target.kind, link: target.link}
	default:
		parent.children[base] = &pathNode{kind: tar.TypeReg}
	}
	return nil
}

// resolveDir finds the directory dir, a clean root-relative name, the way
// openat2 RESOLVE_IN_ROOT does: symbolic links are followed, absolute
// ones and ".." from the root. With create, missing components of dir
// itself (never of a link's target) are made directories, as
// mkdirAllInRoot does. Errors are ENOENT, ENOTDIR and ELOOP.
func (p *Paths) resolveDir(dir string, create bool) (*pathNode, error) {
	stack := []*pathNode{p.root}
	var pending []string
	if dir != "." {
		pending = strings.Split(dir, "/")
	}
	literal := len(pending) // the last literal components of pending are dir's own
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		own := len(pending) < literal
		if own {
			literal--
		}
		cur := stack[len(stack)-1]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		child := cur.children[name]
		switch {
		case child == nil && own && create:
			child = newDirNode()
			cur.children[name] = child
			stack = append(stack, child)
		case child == nil:
			return nil, unix.ENOENT
		case child.kind == tar.TypeDir:
			stack = append(stack, child)
		case child.kind == tar.TypeSymlink:
			if links++; links > maxSymlinks {
				return nil, unix.ELOOP
			}
			if strings.HasPrefix(child.link, "/") {
				stack = stack[:1]
			}
			pending = append(strings.Split(child.link, "/"), pending...)
		default:
			return nil, unix.ENOTDIR
		}
	}
	return stack[len(stack)-1], nil
}

// lookup returns the object at name, a clean root-relative name, without
// following any symbolic link, or nil.
func (p *Paths) lookup(name string) *pathNode {
	n := p.root
	if name == "." {
		return n
	}
	for comp := range strings.SplitSeq(name, "/") {
		if n = n.children[comp]; n == nil {
			return nil
		}
	}
	return n
}
