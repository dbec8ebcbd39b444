package snapshot

import (
	"archive/tar"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// This file holds normalizeUpper's edits of one object's attributes, and
// its checks of what no edit can change.

// sameAsEntry reports whether the object at p, named rel, is what the
// entry e creates, its times and xattrs aside.
func (n *normalizer) sameAsEntry(p string, e *tarutil.Entry, st *unix.Stat_t) (bool, error) {
	ft := st.Mode & unix.S_IFMT
	if ft != entryType(e.Type) || int64(st.Mode&0o7777) != e.Mode || int(st.Uid) != e.UID || int(st.Gid) != e.GID {
		return n.refuse("%q is not its entry's type, mode or owner", e.Name)
	}
	switch ft {
	case unix.S_IFREG:
		if st.Size != e.Size {
			return n.refuse("%q has %d bytes, its entry %d", e.Name, st.Size, e.Size)
		}
	case unix.S_IFLNK:
		target, err := readlink(p)
		if err != nil {
			return false, err
		}
		if target != e.Linkname {
			return n.refuse("%q links to %q, its entry to %q", e.Name, target, e.Linkname)
		}
	case unix.S_IFCHR, unix.S_IFBLK:
		if int64(unix.Major(st.Rdev)) != e.Devmajor || int64(unix.Minor(st.Rdev)) != e.Devminor {
			return n.refuse("%q is not its entry's device", e.Name)
		}
	}
	return true, nil
}

// xattrs makes the xattrs of p, named rel, those Apply gives an object
// with the layer xattrs want (strip: none at all) and, where opaque, the
// overlay opaque marker: overlay xattrs other than a wanted marker go, as
// do those a layer cannot carry (an ACL, a security label), and a wanted
// marker the upper directory lacks is set. It refuses if such an xattr
// cannot be removed, or if those kept are not want.
func (n *normalizer) xattrs(p, rel string, want map[string]string, strip, opaque bool) (bool, error) {
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
		if key == n.opaque && opaque || !strip && tarutil.KeepXattr(key) {
			val, err := unixfs.Lgetxattr(p, key)
			if err != nil {
				return false, fmt.Errorf("reading xattr %s of %q: %w", key, p, err)
			}
			if key != n.opaque {
				got[key] = string(val)
				continue
			}
			if string(val) == "y" {
				sawOpaque = true
				continue
			}
		}
		if err := unix.Lremovexattr(p, key); err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOTSUP) {
				return n.refuse("xattr %s of %q, which the layer leaves out, cannot be removed: %v", key, rel, err)
			}
			return false, fmt.Errorf("removing xattr %s of %q: %w", key, p, err)
		}
	}
	if opaque && !sawOpaque {
		err := unix.Lsetxattr(p, n.opaque, []byte("y"), 0)
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP) {
			return n.refuse("%q cannot be marked opaque: %v", rel, err)
		}
		if err != nil {
			return false, fmt.Errorf("marking %q opaque: %w", p, err)
		}
	}
	if !maps.Equal(got, want) {
		return n.refuse("the xattrs of %q are not its entry's", rel)
	}
	return true, nil
}

// ownCreated gives p, a directory (dir) or a whiteout device that
// unpacking creates in the directory parent, named parentRel, the owner
// and mode mkdir or mknod give it there with the permissions perm: this
// process's uid and gid, but the group of a setgid parent, whose setgid
// bit a directory inherits too. The root ends up 0755, never setgid.
func (n *normalizer) ownCreated(p, parent, parentRel string, perm uint32, dir bool) error {
	gid := n.gid
	if parentRel != "" {
		var st unix.Stat_t
		if err := unix.Lstat(parent, &st); err != nil {
			return fmt.Errorf("inspecting %q: %w", parent, err)
		}
		if st.Mode&unix.S_ISGID != 0 {
			gid = int(st.Gid)
			if dir {
				perm |= unix.S_ISGID
			}
		}
	}
	if err := os.Lchown(p, n.uid, gid); err != nil {
		return fmt.Errorf("normalizing %q: %w", p, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, p, perm, 0); err != nil {
		return fmt.Errorf("normalizing %q: %w", p, err)
	}
	return nil
}

// addLink records rel as a name of a multiply linked inode.
func (n *normalizer) addLink(rel string, st *unix.Stat_t) {
	id := inodeID{dev: st.Dev, ino: st.Ino}
	n.links[id] = append(n.links[id], rel)
	n.nlink[id] = st.Nlink
}

// linksMatch returns why not, "" if every multiply linked inode has all
// its links in the upper directory and the layer names them as Diff does:
// the first name in byte order as the object, the others as hardlinks to
// it.
func (n *normalizer) linksMatch() string {
	for id, names := range n.links {
		slices.Sort(names)
		if uint64(len(names)) != n.nlink[id] {
			return fmt.Sprintf("%q has %d links, %d of them in the layer", names[0], n.nlink[id], len(names))
		}
		if n.byName[names[0]].Type == tar.TypeLink {
			return fmt.Sprintf("%q, the first name of its inode, is a hardlink in the layer", names[0])
		}
		for _, name := range names[1:] {
			if e := n.byName[name]; e.Type != tar.TypeLink || e.Linkname != names[0] {
				return fmt.Sprintf("%q is not a hardlink to %q in the layer", name, names[0])
			}
		}
	}
	return ""
}

// touchNow sets the times of the directory p to now.
func touchNow(p string) error {
	now := unix.Timespec{Nsec: unix.UTIME_NOW}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{now, now}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("normalizing %q: %w", p, err)
	}
	return nil
}
