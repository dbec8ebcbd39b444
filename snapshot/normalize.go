package snapshot

import (
	"archive/tar"
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// normalizeUpper makes the overlay upper directory upper, whose change
// Diff described as entries, exactly what applying the layer written from
// entries (with the mtimes of t) to an empty directory with overlay
// whiteouts makes, as Unpacker.Unpack does: every mtime and atime becomes
// the header's, overlay xattrs other than a wanted opaque marker (the
// xattr opaqueXattr, the Unpacker's) go,
// directories the layer only implies get Apply's 0755, owner and no
// xattrs, and the root gets Unpack's. It reports false where the upper
// directory holds anything the layer does not describe one for one (an
// object without an entry, a whiteout device where Diff wrote an opaque
// marker, an xattr a layer cannot carry, ...): then it is no layer's
// unpacking and must be discarded. The upper directory must not be
// mounted; like Diff it joins listed names, the tree being quiescent.
func normalizeUpper(ctx context.Context, upper string, entries []tarutil.Entry, t MTimes, opaqueXattr string) (bool, error) {
	n := &normalizer{
		ctx:       ctx,
		opaque:    opaqueXattr,
		t:         t,
		byName:    make(map[string]*tarutil.Entry, len(entries)),
		used:      make(map[string]bool, len(entries)),
		ancestors: make(map[string]bool),
		links:     make(map[inodeID][]string),
		nlink:     make(map[inodeID]uint64),
		uid:       os.Geteuid(),
		gid:       os.Getegid(),
	}
	for i := range entries {
		e := &entries[i]
		n.byName[e.Name] = e
		for d := path.Dir(e.Name); d != "."; d = path.Dir(d) {
			n.ancestors[d] = true
		}
	}
	ok, err := n.dir(upper, "")
	if err != nil || !ok {
		return false, err
	}
	if len(n.used) != len(n.byName) || !n.linksMatch() {
		return false, nil
	}
	// The root is Unpack's temporary directory: its owner, 0755.
	if ok, err := n.xattrs(upper, nil, true, n.useOpaque("")); err != nil || !ok {
		return false, err
	}
	if err := os.Lchown(upper, n.uid, n.gid); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", upper, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, upper, 0o755, 0); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", upper, err)
	}
	return true, touchNow(upper)
}

// normalizer holds the state of one normalizeUpper walk.
type normalizer struct {
	ctx       context.Context
	opaque    string // the xattr of an opaque directory
	t         MTimes
	byName    map[string]*tarutil.Entry
	used      map[string]bool
	ancestors map[string]bool // names of directories some entry lies below
	links     map[inodeID][]string
	nlink     map[inodeID]uint64
	uid, gid  int
}

// child joins a relative directory name and a child name.
func child(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

// useOpaque reports whether the layer marks the directory rel opaque,
// counting the marker as used.
func (n *normalizer) useOpaque(rel string) bool {
	name := child(rel, tarutil.WhiteoutOpaque)
	if n.byName[name] == nil {
		return false
	}
	n.used[name] = true
	return true
}

// dir normalizes the children of the directory p, named rel.
func (n *normalizer) dir(p, rel string) (bool, error) {
	if err := n.ctx.Err(); err != nil {
		return false, err
	}
	names, sts, err := listDir(p)
	if err != nil {
		return false, err
	}
	for i, name := range names {
		ok, err := n.object(p+"/"+name, child(rel, name), &sts[i])
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// object normalizes one object of the upper directory.
func (n *normalizer) object(p, rel string, st *unix.Stat_t) (bool, error) {
	if isWhiteout(st) {
		return n.whiteout(p, rel)
	}
	e := n.byName[rel]
	if e == nil {
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || !n.ancestors[rel] {
			return false, nil
		}
		return n.impliedDir(p, rel)
	}
	n.used[rel] = true
	if e.Type == tar.TypeLink {
		// The first name of the inode carries its metadata.
		if st.Mode&unix.S_IFMT == unix.S_IFDIR || st.Nlink < 2 {
			return false, nil
		}
		n.addLink(rel, st)
		return true, nil
	}
	if ok, err := n.sameAsEntry(p, e, st); err != nil || !ok {
		return false, err
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if ok, err := n.xattrs(p, e.Xattrs, false, isDir && n.useOpaque(rel)); err != nil || !ok {
		return false, err
	}
	if isDir {
		if ok, err := n.dir(p, rel); err != nil || !ok {
			return false, err
		}
	} else if st.Nlink > 1 {
		n.addLink(rel, st)
	}
	mt := n.t.stamp(e.ModTime)
	ts := unix.NsecToTimespec(mt.UnixNano())
	if !isDir && st.Mtim == ts && st.Atim == ts {
		return true, nil // already so: COPY stamps what it writes
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", p, err)
	}
	return true, nil
}

// sameAsEntry reports whether the object at p is what the entry e creates,
// its times and xattrs aside.
func (n *normalizer) sameAsEntry(p string, e *tarutil.Entry, st *unix.Stat_t) (bool, error) {
	ft := st.Mode & unix.S_IFMT
	if ft != entryType(e.Type) || int64(st.Mode&0o7777) != e.Mode || int(st.Uid) != e.UID || int(st.Gid) != e.GID {
		return false, nil
	}
	switch ft {
	case unix.S_IFREG:
		return st.Size == e.Size, nil
	case unix.S_IFLNK:
		target, err := readlink(p)
		return err == nil && target == e.Linkname, err
	case unix.S_IFCHR, unix.S_IFBLK:
		return int64(unix.Major(st.Rdev)) == e.Devmajor && int64(unix.Minor(st.Rdev)) == e.Devminor, nil
	}
	return true, nil
}

// whiteout normalizes an overlay whiteout device, which the layer must
// hold as a ".wh." entry: Apply makes it with mknod, mode 0.
func (n *normalizer) whiteout(p, rel string) (bool, error) {
	name := child(path.Dir("/" + rel)[1:], tarutil.WhiteoutPrefix+path.Base(rel))
	if n.byName[name] == nil || n.byName[rel] != nil {
		return false, nil
	}
	n.used[name] = true
	if ok, err := n.xattrs(p, nil, true, false); err != nil || !ok {
		return false, err
	}
	if err := os.Lchown(p, n.uid, n.gid); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", p, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, p, 0, 0); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", p, err)
	}
	return true, nil
}

// impliedDir normalizes a directory the layer holds no entry of but
// entries below: Apply creates it with mode 0755, its own owner, no
// xattrs and the time of the unpacking.
func (n *normalizer) impliedDir(p, rel string) (bool, error) {
	if ok, err := n.xattrs(p, nil, true, n.useOpaque(rel)); err != nil || !ok {
		return false, err
	}
	if err := os.Lchown(p, n.uid, n.gid); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", p, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, p, 0o755, 0); err != nil {
		return false, fmt.Errorf("normalizing %q: %w", p, err)
	}
	if ok, err := n.dir(p, rel); err != nil || !ok {
		return false, err
	}
	return true, touchNow(p)
}

// xattrs makes the xattrs of p those Apply gives an object with the layer
// xattrs want (strip: none kept) and, where opaque, the overlay opaque
// marker: other overlay xattrs are removed, and it reports false if p
// holds one a layer cannot carry, a different set, or an opaque marker
// that does not match.
func (n *normalizer) xattrs(p string, want map[string]string, strip, opaque bool) (bool, error) {
	list, err := unixfs.Llistxattr(p)
	if err != nil {
		return false, fmt.Errorf("listing xattrs of %q: %w", p, err)
	}
	got := map[string]string{}
	sawOpaque := false
	for _, key := range list {
		if key == "" {
			continue
		}
		val, err := unixfs.Lgetxattr(p, key)
		if err != nil {
			return false, fmt.Errorf("reading xattr %s of %q: %w", key, p, err)
		}
		switch {
		case key == n.opaque && opaque:
			if string(val) != "y" {
				return false, nil
			}
			sawOpaque = true
		case key == n.opaque:
			return false, nil
		case !tarutil.KeepXattr(key) && !strings.HasPrefix(key, "trusted.overlay.") && !strings.HasPrefix(key, "user.overlay."):
			return false, nil // e.g. an ACL: a layer drops it
		case !tarutil.KeepXattr(key) || strip:
			if err := unix.Lremovexattr(p, key); err != nil {
				return false, fmt.Errorf("removing xattr %s of %q: %w", key, p, err)
			}
		default:
			got[key] = string(val)
		}
	}
	return sawOpaque == opaque && maps.Equal(got, want), nil
}

// addLink records rel as a name of a multiply linked inode.
func (n *normalizer) addLink(rel string, st *unix.Stat_t) {
	id := inodeID{dev: st.Dev, ino: st.Ino}
	n.links[id] = append(n.links[id], rel)
	n.nlink[id] = st.Nlink
}

// linksMatch reports whether every multiply linked inode has all its
// links in the upper directory and the layer names them as Diff does: the
// first name in byte order as the object, the others as hardlinks to it.
func (n *normalizer) linksMatch() bool {
	for id, names := range n.links {
		if uint64(len(names)) != n.nlink[id] {
			return false
		}
		slices.Sort(names)
		if n.byName[names[0]].Type == tar.TypeLink {
			return false
		}
		for _, name := range names[1:] {
			if e := n.byName[name]; e.Type != tar.TypeLink || e.Linkname != names[0] {
				return false
			}
		}
	}
	return true
}

// touchNow sets the times of the directory p to now.
func touchNow(p string) error {
	now := unix.Timespec{Nsec: unix.UTIME_NOW}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{now, now}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("normalizing %q: %w", p, err)
	}
	return nil
}
