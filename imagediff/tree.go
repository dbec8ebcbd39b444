package imagediff

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// tree is a flattened file system: one node per path, with its metadata
// and the digest of its content, never the content itself.
type tree struct {
	root *node
}

// node is one object of a tree.
type node struct {
	File
	// children are a directory's entries by name; nil for other types.
	children map[string]*node
}

func newTree() *tree {
	return &tree{root: &node{File: File{Type: TypeDir, Mode: 0o755}, children: map[string]*node{}}}
}

// clone returns a deep copy of t.
func (t *tree) clone() *tree { return &tree{root: t.root.clone()} }

func (n *node) clone() *node {
	c := &node{File: n.File}
	if n.children != nil {
		c.children = make(map[string]*node, len(n.children))
		for name, child := range n.children {
			c.children[name] = child.clone()
		}
	}
	return c
}

// errLinkParent is the error of an entry whose parent directory is
// reached through a symbolic link of the image.
var errLinkParent = errors.New("a parent is a symbolic link: entries below links are not supported")

// errNotDir is the error of an entry whose parent is neither a directory
// nor a symbolic link.
var errNotDir = errors.New("a parent is not a directory")

// layerState is the bookkeeping of one layer applied to a tree, as
// extraction keeps it: the names seen (to refuse duplicates) and the names
// the layer created, with their parents, which its opaque markers and
// whiteouts leave alone.
type layerState struct {
	t       *tree
	seen    map[string]bool
	touched map[string]bool
}

// apply applies the uncompressed layer tar r to t by the layer rules
// extraction follows: tarutil.ClassifyName tells whiteouts and opaque
// markers from ordinary entries and AUFS metadata (skipped); an opaque
// marker removes what lower layers left in its directory, as though it
// came first; a whiteout deletes only what lower layers left; a directory
// over a directory keeps the children and takes the new attributes; any
// other entry replaces what was there, subtree included; missing parents
// are implied directories. Regular files are hashed as they stream by.
func (t *tree) apply(ctx context.Context, r io.Reader) error {
	l := &layerState{t: t, seen: map[string]bool{}, touched: map[string]bool{}}
	tr := tar.NewReader(r)
	return tarutil.EachEntry(ctx, tr, func(hdr *tar.Header) error { return l.entry(hdr, tr) })
}

// entry applies one tar entry; body is its content.
func (l *layerState) entry(hdr *tar.Header, body io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if l.seen[name] {
		return fmt.Errorf("duplicate entry %q in the layer", name)
	}
	l.seen[name] = true
	if name == "." {
		return nil // the root's own attributes are not compared
	}
	kind, concerns, err := tarutil.ClassifyName(name)
	if err != nil {
		return err
	}
	switch kind {
	case tarutil.NameAufsMeta:
		return nil
	case tarutil.NameOpaque:
		d, err := l.t.dir(concerns, true)
		if err != nil {
			return err
		}
		l.markTouched(concerns)
		l.clearLower(d, concerns)
		return nil
	case tarutil.NameWhiteout:
		if l.touched[concerns] {
			return nil
		}
		d, err := l.t.dir(path.Dir(concerns), false)
		if errors.Is(err, errNotDir) {
			return nil // nothing below to delete
		}
		if err != nil || d == nil {
			return err
		}
		delete(d.children, path.Base(concerns))
		return nil
	}
	return l.create(hdr, body, name)
}

// create puts the object hdr describes at name.
func (l *layerState) create(hdr *tar.Header, body io.Reader, name string) error {
	f, err := fileOf(hdr)
	if err != nil {
		return err
	}
	switch {
	case f.Type == TypeFile && hdr.Typeflag == tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hardlink target: %w", err)
		}
		n := l.t.lookup(target)
		switch {
		case n == nil:
			return fmt.Errorf("hardlink target %q does not exist", target)
		case n.Type == TypeDir:
			return fmt.Errorf("hardlink target %q is a directory", target)
		}
		f = n.File
		f.Hardlink = "/" + target
	case f.Type == TypeFile:
		h := sha256.New()
		if f.Size, err = io.Copy(h, body); err != nil {
			return fmt.Errorf("reading content: %w", err)
		}
		f.Digest = digest.NewDigest(digest.SHA256, h)
	}
	parent, err := l.t.dir(path.Dir(name), true)
	if err != nil {
		return err
	}
	l.markTouched(name)
	base := path.Base(name)
	if old := parent.children[base]; old != nil && old.Type == TypeDir && f.Type == TypeDir {
		old.File = f
		return nil
	}
	n := &node{File: f}
	if f.Type == TypeDir {
		n.children = map[string]*node{}
	}
	parent.children[base] = n
	return nil
}

// markTouched records name and its parents as belonging to this layer.
func (l *layerState) markTouched(name string) {
	for name != "." && !l.touched[name] {
		l.touched[name] = true
		name = path.Dir(name)
	}
}

// clearLower removes from d (named dirName) every child this layer did
// not touch, descending into the touched directories.
func (l *layerState) clearLower(d *node, dirName string) {
	for name, child := range d.children {
		childName := joinName(dirName, name)
		switch {
		case !l.touched[childName]:
			delete(d.children, name)
		case child.Type == TypeDir:
			l.clearLower(child, childName)
		}
	}
}

// dir returns the directory at name, a clean root-relative name. With
// create, missing directories are implied; without, a missing one is nil.
// A parent that is not a directory is an error.
func (t *tree) dir(name string, create bool) (*node, error) {
	d := t.root
	if name == "." {
		return d, nil
	}
	walked := ""
	for comp := range strings.SplitSeq(name, "/") {
		walked = joinName(walked, comp)
		child := d.children[comp]
		switch {
		case child == nil && !create:
			return nil, nil
		case child == nil:
			child = &node{File: File{Type: TypeDir, Mode: 0o755, Implied: true}, children: map[string]*node{}}
			d.children[comp] = child
		case child.Type == TypeSymlink:
			return nil, fmt.Errorf("/%s: %w", walked, errLinkParent)
		case child.Type != TypeDir:
			return nil, fmt.Errorf("/%s: %w", walked, errNotDir)
		}
		d = child
	}
	return d, nil
}

// lookup returns the object at name, a clean root-relative name, without
// following symbolic links, or nil.
func (t *tree) lookup(name string) *node {
	n := t.root
	for comp := range strings.SplitSeq(name, "/") {
		if n = n.children[comp]; n == nil {
			return nil
		}
	}
	return n
}

// fileOf reads the attributes of hdr.
func fileOf(hdr *tar.Header) (File, error) {
	f := File{
		Mode:    Mode(hdr.Mode & 0o7777),
		UID:     hdr.Uid,
		GID:     hdr.Gid,
		ModTime: hdr.ModTime.UTC(),
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeLink:
		f.Type = TypeFile
	case tar.TypeDir:
		f.Type = TypeDir
	case tar.TypeSymlink:
		f.Type, f.Link = TypeSymlink, hdr.Linkname
	case tar.TypeChar:
		f.Type, f.Devmajor, f.Devminor = TypeChar, hdr.Devmajor, hdr.Devminor
	case tar.TypeBlock:
		f.Type, f.Devmajor, f.Devminor = TypeBlock, hdr.Devmajor, hdr.Devminor
	case tar.TypeFifo:
		f.Type = TypeFifo
	default:
		return File{}, fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	for k, v := range hdr.PAXRecords {
		if key, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok && key != "" {
			if f.Xattrs == nil {
				f.Xattrs = map[string]string{}
			}
			f.Xattrs[key] = v
		}
	}
	return f, nil
}

// cleanName maps a tar name to a clean root-relative name ("." is the
// root), refusing names that climb above the root.
func cleanName(raw string) (string, error) {
	if raw == "" || strings.ContainsRune(raw, 0) {
		return "", fmt.Errorf("invalid name %q", raw)
	}
	name := path.Clean(strings.TrimLeft(raw, "/"))
	if name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("name %q leaves the root", raw)
	}
	return name, nil
}

// joinName joins a clean root-relative directory name and a child name.
func joinName(dir, child string) string {
	if dir == "" || dir == "." {
		return child
	}
	return dir + "/" + child
}
