package snapshot

import (
	"archive/tar"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/minibuild/minibuild/tarutil"
)

// trees gives the differ the two sides of a comparison: the lower tree
// (what Prepare started from) and the new tree (the rootfs after the step).
type trees interface {
	// lowerChildren lists the lower directory dir, without sockets.
	lowerChildren(dir *node) (map[string]*node, error)
	// newChildren lists the new directory dir, without sockets and
	// whiteouts; lower holds the children of the lower directory of the
	// same name, or is nil where there is none.
	newChildren(dir *node, lower map[string]*node) (map[string]*node, error)
}

// diff compares the trees from their roots and returns the change as layer
// entries sorted by name, in one canonical form whatever the snapshotter:
//
//   - an object only in the new tree appears with everything below it;
//   - a non-directory in both appears if its type, mode, owner, mtime,
//     size, link target, device number, xattrs or content differ;
//   - a directory in both appears if its own mode, owner, mtime or xattrs
//     differ, or if it becomes opaque;
//   - a lower object missing from the new tree becomes "dir/.wh.NAME" (one
//     whiteout for a whole directory);
//   - a directory in both whose lower children are all gone (rm -rf d &&
//     mkdir d) becomes opaque: it appears, with "d/.wh..wh..opq" and its
//     whole new content instead of per-child whiteouts;
//   - an unchanged name of an inode that changed or is new (ln old new)
//     appears too, and names of one inode among the entries become
//     hardlinks to the name that sorts first, so the layer keeps the link.
//
// The root itself never appears.
func diff(ctx context.Context, t trees, lowerRoot, newRoot *node) ([]tarutil.Entry, error) {
	d := &differ{ctx: ctx, t: t, unchangedLinks: make(map[inodeID][]*node)}
	opaque, err := d.dir(lowerRoot, newRoot)
	if err != nil {
		return nil, err
	}
	if opaque {
		d.out = append(d.out, emitted{e: whiteoutEntry(newRoot, tarutil.WhiteoutOpaque)})
	}
	return d.entries()
}

// differ accumulates the result of one diff.
type differ struct {
	ctx context.Context
	t   trees
	out []emitted
	// unchangedLinks holds the unchanged names of inodes with several
	// links, in case another name of the inode is added.
	unchangedLinks map[inodeID][]*node
}

// emitted is an entry and, for a non-directory with several links, the
// inode it names.
type emitted struct {
	e  tarutil.Entry
	id inodeID
}

// inodeID identifies an inode.
type inodeID struct{ dev, ino uint64 }

// dir compares the directories l and n, both present in their trees, and
// reports whether n became opaque. n itself is added by the caller.
func (d *differ) dir(l, n *node) (opaque bool, err error) {
	if err := d.ctx.Err(); err != nil {
		return false, err
	}
	lower, err := d.t.lowerChildren(l)
	if err != nil {
		return false, err
	}
	cur, err := d.t.newChildren(n, lower)
	if err != nil {
		return false, err
	}
	survivor := false
	for name := range lower {
		if _, ok := cur[name]; ok {
			survivor = true
			break
		}
	}
	if len(lower) > 0 && !survivor {
		d.out = append(d.out, emitted{e: whiteoutEntry(n, tarutil.WhiteoutOpaque)})
		for _, name := range slices.Sorted(maps.Keys(cur)) {
			if err := d.tree(cur[name]); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	for _, name := range slices.Sorted(maps.Keys(lower)) {
		if _, ok := cur[name]; !ok {
			d.out = append(d.out, emitted{e: whiteoutEntry(n, tarutil.WhiteoutPrefix+name)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cur)) {
		c := cur[name]
		lc, ok := lower[name]
		switch {
		case !ok:
			err = d.tree(c)
		case c.untouched:
		case lc.isDir() && c.isDir():
			err = d.subdir(lc, c)
		default:
			var ch bool
			if ch, err = changed(lc, c); err == nil && ch {
				err = d.tree(c)
			} else if err == nil && c.st.Nlink > 1 {
				id := inodeID{dev: c.st.Dev, ino: c.st.Ino}
				d.unchangedLinks[id] = append(d.unchangedLinks[id], c)
			}
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// subdir compares the directories l and n, adding n if it changed.
func (d *differ) subdir(l, n *node) error {
	ch, err := dirChanged(l, n)
	if err != nil {
		return err
	}
	opaque, err := d.dir(l, n)
	if err != nil {
		return err
	}
	if ch || opaque {
		return d.add(n)
	}
	return nil
}

// tree adds n and, for a directory, everything below it.
func (d *differ) tree(n *node) error {
	if err := d.add(n); err != nil {
		return err
	}
	if !n.isDir() {
		return nil
	}
	if err := d.ctx.Err(); err != nil {
		return err
	}
	kids, err := d.t.newChildren(n, nil)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(kids)) {
		if err := d.tree(kids[name]); err != nil {
			return err
		}
	}
	return nil
}

// add adds the entry of n.
func (d *differ) add(n *node) error {
	if kind, _, err := tarutil.ClassifyName(n.rel); err != nil || kind != tarutil.NameOrdinary {
		return fmt.Errorf("%q: a layer cannot hold a name starting with %q (it would read as a whiteout)", n.rel, tarutil.WhiteoutPrefix)
	}
	e, ok, err := entryOf(n)
	if err != nil {
		return fmt.Errorf("describing %q: %w", n.rel, err)
	}
	if !ok {
		return nil
	}
	var id inodeID
	if !n.isDir() && n.st.Nlink > 1 {
		id = inodeID{dev: n.st.Dev, ino: n.st.Ino}
	}
	d.out = append(d.out, emitted{e: e, id: id})
	return nil
}

// entries adds the unchanged names of added inodes, sorts the result by
// name and turns every later name of an inode into a hardlink to its first
// name, as tarutil.DirEntries does.
func (d *differ) entries() ([]tarutil.Entry, error) {
	added := make(map[inodeID]bool)
	for _, em := range d.out {
		added[em.id] = true
	}
	for id, nodes := range d.unchangedLinks {
		if !added[id] {
			continue
		}
		for _, n := range nodes {
			if err := d.add(n); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(d.out, func(a, b emitted) int { return strings.Compare(a.e.Name, b.e.Name) })
	first := make(map[inodeID]string)
	out := make([]tarutil.Entry, 0, len(d.out))
	for _, em := range d.out {
		e := em.e
		if em.id != (inodeID{}) {
			if name, ok := first[em.id]; ok {
				e = tarutil.Entry{
					Name:     e.Name,
					Type:     tar.TypeLink,
					Mode:     e.Mode,
					UID:      e.UID,
					GID:      e.GID,
					Linkname: name,
					ModTime:  e.ModTime,
				}
			} else {
				first[em.id] = e.Name
			}
		}
		out = append(out, e)
	}
	return out, nil
}
