package imagediff

import (
	"maps"
	"slices"
)

// diffTrees lists the paths where the trees a and b differ, sorted: a path
// only b has is Added, one only a has Deleted (each path below such a
// directory is listed too), one whose attributes differ Changed.
func diffTrees(a, b *tree, opts Options) []FileChange {
	out := []FileChange{}
	diffDirs("", a.root, b.root, opts, &out)
	return out
}

// diffDirs compares the children of directories a and b, named dir.
func diffDirs(dir string, a, b *node, opts Options, out *[]FileChange) {
	names := slices.Sorted(maps.Keys(a.children))
	for name := range b.children {
		if _, ok := a.children[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		p := dir + "/" + name
		ca, cb := a.children[name], b.children[name]
		switch {
		case ca == nil:
			listAll(p, cb, Added, out)
		case cb == nil:
			listAll(p, ca, Deleted, out)
		default:
			if changes := attrChanges(&ca.File, &cb.File, opts); len(changes) > 0 {
				*out = append(*out, FileChange{Path: p, Kind: Changed, Changes: changes, A: fileRef(ca), B: fileRef(cb)})
			}
			switch {
			case ca.children != nil && cb.children != nil:
				diffDirs(p, ca, cb, opts, out)
			case ca.children != nil:
				listChildren(p, ca, Deleted, out)
			case cb.children != nil:
				listChildren(p, cb, Added, out)
			}
		}
	}
}

// listAll lists n, at p, and everything below it as kind.
func listAll(p string, n *node, kind Kind, out *[]FileChange) {
	fc := FileChange{Path: p, Kind: kind}
	if kind == Added {
		fc.B = fileRef(n)
	} else {
		fc.A = fileRef(n)
	}
	*out = append(*out, fc)
	listChildren(p, n, kind, out)
}

// listChildren lists everything below the directory n, at p, as kind.
func listChildren(p string, n *node, kind Kind, out *[]FileChange) {
	for _, name := range slices.Sorted(maps.Keys(n.children)) {
		listAll(p+"/"+name, n.children[name], kind, out)
	}
}

func fileRef(n *node) *File {
	f := n.File
	return &f
}

// attrChanges lists the attributes in which a and b differ, in the order
// of the Attr constants. Attributes only one of the types has (content,
// link target, device numbers) are compared when both have them.
func attrChanges(a, b *File, opts Options) []string {
	var out []string
	add := func(differs bool, attr string) {
		if differs {
			out = append(out, attr)
		}
	}
	add(a.Type != b.Type, AttrType)
	both := func(t string) bool { return a.Type == t && b.Type == t }
	add(both(TypeFile) && (a.Size != b.Size || a.Digest != b.Digest), AttrContent)
	add(a.Mode != b.Mode, AttrMode)
	add(a.UID != b.UID || a.GID != b.GID, AttrOwner)
	add(both(TypeSymlink) && a.Link != b.Link, AttrLink)
	add(a.Hardlink != b.Hardlink, AttrHardlink)
	add(!opts.IgnoreTimes && !a.ModTime.Equal(b.ModTime), AttrMtime)
	add(!maps.Equal(a.Xattrs, b.Xattrs), AttrXattrs)
	add((both(TypeChar) || both(TypeBlock)) && (a.Devmajor != b.Devmajor || a.Devminor != b.Devminor), AttrDevice)
	return out
}
