package snapshot

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// stamp is what the native snapshotter remembers of every object it copied
// into a rootfs: any later change to the object's metadata or content
// gives it a newer ctime.
type stamp struct {
	ino   uint64
	ctime unix.Timespec
}

// nativeTrees compares a native rootfs with the base it was copied from.
type nativeTrees struct {
	// stamps maps the rel of every object of the rootfs, as copied, to its
	// stamp.
	stamps map[string]stamp
}

var _ trees = nativeTrees{}

// nativeRoots returns the roots of both trees.
func nativeRoots(base, rootfs string) (lower, cur *node, err error) {
	lower = &node{path: base}
	if err := unix.Lstat(base, &lower.st); err != nil {
		return nil, nil, fmt.Errorf("inspecting %q: %w", base, err)
	}
	cur = &node{path: rootfs}
	if err := unix.Lstat(rootfs, &cur.st); err != nil {
		return nil, nil, fmt.Errorf("inspecting %q: %w", rootfs, err)
	}
	return lower, cur, nil
}

// lowerChildren lists the base directory dir.
func (nativeTrees) lowerChildren(dir *node) (map[string]*node, error) {
	return plainChildren(dir, nil)
}

// newChildren lists the rootfs directory dir, marking the objects whose
// inode and ctime are still those recorded by the copy.
func (t nativeTrees) newChildren(dir *node, _ map[string]*node) (map[string]*node, error) {
	return plainChildren(dir, t.stamps)
}

// plainChildren lists the directory dir of a plain tree; with stamps it
// sets sameInode where the stamp still matches.
func plainChildren(dir *node, stamps map[string]stamp) (map[string]*node, error) {
	names, sts, err := listDir(dir.path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*node, len(names))
	for i, name := range names {
		st := &sts[i]
		if isSocket(st) {
			continue
		}
		n := &node{rel: dir.child(name), path: dir.path + "/" + name, st: *st}
		if s, ok := stamps[n.rel]; ok {
			n.sameInode = s.ino == st.Ino && s.ctime == st.Ctim
		}
		out[name] = n
	}
	return out, nil
}
