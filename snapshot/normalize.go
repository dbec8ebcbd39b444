package snapshot

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// normalizeUpper makes the overlay upper directory upper, whose change
// Diff described as entries, exactly what applying the layer written from
// entries (with the mtimes of t) to an empty directory with overlay
// whiteouts makes, as Unpacker.Unpack does. It edits the directory in
// place, touching only what differs from the layer's unpacking:
//
//   - every mtime and atime becomes the header's;
//   - overlay xattrs, and xattrs a layer cannot carry (ACLs, SELinux
//     labels), go; an opaque marker (the xattr opaqueXattr, the
//     Unpacker's) is set where the layer has one and removed elsewhere;
//   - whiteout devices the layer has no whiteout for (those inside a
//     directory the layer marks opaque instead, or over nothing) go, and
//     the layer's whiteouts the upper directory lacks (lower names that
//     overlayfs hid with an opaque directory) are made; overlayfs's
//     whiteouts, links to one shared inode, get an inode each;
//   - objects the layer leaves out go: sockets, and copy-ups the step did
//     not change (a directory a mount point was made and removed in, a
//     file opened for writing and left alone, an atime set); discard
//     takes away such a directory (see discardFunc);
//   - directories the layer only implies get Apply's 0755, owner and no
//     xattrs, and the root gets Unpack's.
//
// It returns why not, "" when done; why is set where the upper directory
// holds what no edit makes the layer's (an object whose type, mode, owner,
// size, link or device differs from its entry, an entry without its
// object, hardlinks the layer does not pair as Diff does, an xattr that
// cannot be removed, a whiteout or opaque marker that cannot be made):
// then it is no layer's unpacking and must be discarded. The upper
// directory must not be mounted; like Diff it joins listed names, the
// tree being quiescent.
func normalizeUpper(ctx context.Context, upper string, entries []tarutil.Entry, t MTimes, opaqueXattr string, discard discardFunc) (why string, err error) {
	n := &normalizer{
		ctx:       ctx,
		opaque:    opaqueXattr,
		t:         t,
		discard:   discard,
		byName:    make(map[string]*tarutil.Entry, len(entries)),
		used:      make(map[string]bool, len(entries)),
		ancestors: make(map[string]bool),
		whiteouts: make(map[string][]string),
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
		if kind, target, _ := tarutil.ClassifyName(e.Name); kind == tarutil.NameWhiteout {
			dir := parentOf(target)
			n.whiteouts[dir] = append(n.whiteouts[dir], path.Base(target))
		}
	}
	if ok, err := n.dir(upper, ""); err != nil || !ok {
		return n.why, err
	}
	for name := range n.byName {
		if !n.used[name] {
			return fmt.Sprintf("%q has an entry but nothing in the upper directory", name), nil
		}
	}
	if why := n.linksMatch(); why != "" {
		return why, nil
	}
	// The root is Unpack's temporary directory: its owner, 0755.
	if ok, err := n.xattrs(upper, "", nil, true, n.useOpaque("")); err != nil || !ok {
		return n.why, err
	}
	if err := os.Lchown(upper, n.uid, n.gid); err != nil {
		return "", fmt.Errorf("normalizing %q: %w", upper, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, upper, 0o755, 0); err != nil {
		return "", fmt.Errorf("normalizing %q: %w", upper, err)
	}
	return "", touchNow(upper)
}

// discardFunc takes away the directory p, with everything below it, from
// the upper directory being normalized; one rename into the trash keeps
// the deletion off the build's path.
type discardFunc func(p string) error

// normalizer holds the state of one normalizeUpper walk.
type normalizer struct {
	ctx       context.Context
	opaque    string // the xattr of an opaque directory
	t         MTimes
	discard   discardFunc
	byName    map[string]*tarutil.Entry
	used      map[string]bool
	ancestors map[string]bool     // names of directories some entry lies below
	whiteouts map[string][]string // directory name ("" the root) → names the layer whites out in it
	links     map[inodeID][]string
	nlink     map[inodeID]uint64
	uid, gid  int
	// why says why the walk stopped, when it refused.
	why string
}

// refuse records why the upper directory cannot become the layer.
func (n *normalizer) refuse(format string, args ...any) (bool, error) {
	n.why = fmt.Sprintf(format, args...)
	return false, nil
}

// child joins a relative directory name and a child name.
func child(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

// parentOf returns the relative name of the directory holding rel, "" for
// the root.
func parentOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
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

// dir normalizes the children of the directory p, named rel, and makes
// the layer's whiteouts in it that the upper directory lacks.
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
	for _, name := range n.whiteouts[rel] {
		whName := child(rel, tarutil.WhiteoutPrefix+name)
		if n.used[whName] {
			continue
		}
		ok, err := n.makeWhiteout(p, rel, name)
		if err != nil || !ok {
			return false, err
		}
		n.used[whName] = true
	}
	return true, nil
}

// object normalizes one object of the upper directory.
func (n *normalizer) object(p, rel string, st *unix.Stat_t) (bool, error) {
	if isWhiteout(st) {
		return n.whiteout(p, rel, st)
	}
	e := n.byName[rel]
	if e == nil {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR && n.ancestors[rel] {
			return n.impliedDir(p, rel)
		}
		// A socket, or a copy-up of what the step left as it was.
		return n.remove(p, st)
	}
	n.used[rel] = true
	if e.Type == tar.TypeLink {
		// The first name of the inode carries its metadata.
		if st.Mode&unix.S_IFMT == unix.S_IFDIR || st.Nlink < 2 {
			return n.refuse("%q is a hardlink in the layer but has %d links", rel, st.Nlink)
		}
		n.addLink(rel, st)
		return true, nil
	}
	if ok, err := n.sameAsEntry(p, e, st); err != nil || !ok {
		return false, err
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if ok, err := n.xattrs(p, rel, e.Xattrs, false, isDir && n.useOpaque(rel)); err != nil || !ok {
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

// remove takes away an object of the upper directory the layer holds no
// entry of: a directory through discard, anything else by unlinking it.
func (n *normalizer) remove(p string, st *unix.Stat_t) (bool, error) {
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		discard := n.discard
		if discard == nil {
			discard = removeTree
		}
		if err := discard(p); err != nil {
			return false, fmt.Errorf("normalizing: removing %q: %w", p, err)
		}
		return true, nil
	}
	if err := unix.Unlink(p); err != nil {
		return false, fmt.Errorf("normalizing: removing %q: %w", p, err)
	}
	return true, nil
}

// whiteout normalizes an overlay whiteout device, whose stat is st: one
// the layer holds as a ".wh." entry becomes what Apply makes with mknod
// (an inode of its own, mode 0, no xattrs); any other goes, hiding nothing
// the layer hides.
func (n *normalizer) whiteout(p, rel string, st *unix.Stat_t) (bool, error) {
	name := child(parentOf(rel), tarutil.WhiteoutPrefix+path.Base(rel))
	if n.byName[rel] != nil {
		return n.refuse("%q is a whiteout in the upper directory but an object in the layer", rel)
	}
	if n.byName[name] == nil {
		if err := unix.Unlink(p); err != nil {
			return false, fmt.Errorf("normalizing: removing whiteout %q: %w", p, err)
		}
		return true, nil
	}
	n.used[name] = true
	if st.Nlink > 1 {
		// overlayfs links its whiteouts to one shared inode; Apply makes
		// one device each.
		if err := unix.Unlink(p); err != nil {
			return false, fmt.Errorf("normalizing: removing whiteout %q: %w", p, err)
		}
		return n.makeWhiteout(path.Dir(p), parentOf(rel), path.Base(rel))
	}
	if ok, err := n.xattrs(p, rel, nil, true, false); err != nil || !ok {
		return false, err
	}
	return true, n.ownCreated(p, path.Dir(p), parentOf(rel), 0, false)
}

// makeWhiteout creates in the directory p the whiteout device of name, as
// Apply does for a ".wh." entry; it refuses if something else is there.
func (n *normalizer) makeWhiteout(p, rel, name string) (bool, error) {
	err := unix.Mknod(p+"/"+name, unix.S_IFCHR, 0)
	if errors.Is(err, unix.EEXIST) {
		return n.refuse("the layer whites out %q, which the upper directory holds", child(rel, name))
	}
	if errors.Is(err, unix.EPERM) {
		return n.refuse("whiteout %q cannot be made: %v", child(rel, name), err)
	}
	if err != nil {
		return false, fmt.Errorf("normalizing: creating whiteout %q: %w", p+"/"+name, err)
	}
	return true, n.ownCreated(p+"/"+name, p, rel, 0, false)
}

// impliedDir normalizes a directory the layer holds no entry of but
// entries below: Apply creates it with mode 0755, the owner and setgid
// bit that mkdir gives in its parent, no xattrs and the time of the
// unpacking.
func (n *normalizer) impliedDir(p, rel string) (bool, error) {
	if ok, err := n.xattrs(p, rel, nil, true, n.useOpaque(rel)); err != nil || !ok {
		return false, err
	}
	if err := n.ownCreated(p, path.Dir(p), parentOf(rel), 0o755, true); err != nil {
		return false, err
	}
	if ok, err := n.dir(p, rel); err != nil || !ok {
		return false, err
	}
	return true, touchNow(p)
}
