package executor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// nodeKind is what a path walk finds at one name.
type nodeKind int

const (
	nodeMissing nodeKind = iota
	nodeDir
	nodeLink
	nodeOther // a regular file, a socket, a device: anything but a directory or a link
)

// vnode is an entry of a file system that exists only once the run sets it up.
type vnode struct {
	kind nodeKind
	link string // the target of a nodeLink
}

// layer is one file system of the tree a run's process sees, mounted at target.
// Exactly one of hostfd >= 0, virtual != nil, leaf and refused != "" describes it.
type layer struct {
	target string
	// hostfd is a host directory that is there before the run: the rootfs or a
	// bind mount's source. Entries created in it are recorded in stubs (if not nil).
	hostfd int
	stubs  *stubSet
	// virtual is a file system that exists only at setup time (a tmpfs), by path
	// relative to target ("/a/b"); entries created in it are created by the setup.
	virtual map[string]vnode
	// leaf is a mount of a non-directory (a file, a socket).
	leaf bool
	// refused says why no mount may go at or below target ("the kernel's /proc").
	refused string
}

// mountTree is the file system a run's process will see, as far as the walks to its
// mount points go: the rootfs with the standard mounts and the user's mounts on it,
// later ones on top. A walk through it resolves a path with chroot semantics across
// all of them and creates missing mount points where they will be needed.
type mountTree struct {
	layers []*layer // layers[0] is the rootfs at "/"
	// pending are the entries created in virtual layers since the last takePending.
	pending []pendingEntry
}

// pendingEntry is a mount point to create at setup time, inside a file system set up
// earlier in the run (a tmpfs); Path is resolved and holds no symbolic links.
type pendingEntry struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir"`
}

// newMountTree returns the tree of a rootfs open as rootfd with nothing mounted on it;
// what is created in the rootfs is recorded in rec when rec is not nil.
func newMountTree(rootfd int, rec *stubSet) *mountTree {
	return &mountTree{layers: []*layer{{target: "/", hostfd: rootfd, stubs: rec}}}
}

// push mounts l on top of the tree.
func (t *mountTree) push(l *layer) {
	t.layers = append(t.layers, l)
}

// takePending returns the entries created in virtual layers since the last call.
func (t *mountTree) takePending() []pendingEntry {
	p := t.pending
	t.pending = nil
	return p
}

// under reports whether the clean absolute path p is dir or inside it.
func under(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// relTo returns p, which is under dir, as an absolute path relative to dir.
func relTo(p, dir string) string {
	if dir == "/" {
		return p
	}
	if r := strings.TrimPrefix(p, dir); r != "" {
		return r
	}
	return "/"
}

// childPath returns the path of name in the resolved directory dir.
func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// covering returns the topmost layer that p, a resolved path, is in.
func (t *mountTree) covering(p string) *layer {
	for i := len(t.layers) - 1; i > 0; i-- {
		if under(p, t.layers[i].target) {
			return t.layers[i]
		}
	}
	return t.layers[0]
}

// lookup finds name in the resolved directory dir.
func (t *mountTree) lookup(dir, name string) (vnode, error) {
	child := childPath(dir, name)
	l := t.covering(child)
	switch {
	case l.target == child && l.leaf:
		return vnode{kind: nodeOther}, nil
	case l.target == child:
		return vnode{kind: nodeDir}, nil
	case l.refused != "":
		return vnode{}, fmt.Errorf("%s is %s, where nothing may be mounted", l.target, l.refused)
	case l.leaf:
		return vnode{}, unix.ENOTDIR
	case l.virtual != nil:
		return l.virtual[relTo(child, l.target)], nil
	}
	dirfd, err := openInRoot(l.hostfd, relTo(dir, l.target), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return vnode{}, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(dirfd)
	var st unix.Stat_t
	err = unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		return vnode{kind: nodeMissing}, nil
	case err != nil:
		return vnode{}, err
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		target, err := unixfs.Readlinkat(dirfd, name)
		return vnode{kind: nodeLink, link: target}, err
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return vnode{kind: nodeDir}, nil
	}
	return vnode{kind: nodeOther}, nil
}

// create makes name in the resolved directory dir: now, in a host directory, or at
// setup time, in a virtual layer. A host entry gets mode when it is not 0.
func (t *mountTree) create(dir, name string, kind entryKind, mode uint32) error {
	child := childPath(dir, name)
	l := t.covering(child)
	switch {
	case l.refused != "" || l.leaf:
		return unix.ENOTDIR
	case l.virtual != nil:
		v := vnode{kind: nodeOther}
		if kind == kindDir {
			v.kind = nodeDir
		}
		l.virtual[relTo(child, l.target)] = v
		t.pending = append(t.pending, pendingEntry{Path: child, Dir: kind == kindDir})
		return nil
	}
	rel := relTo(dir, l.target)
	dirfd, err := openInRoot(l.hostfd, rel, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(dirfd)
	if l.stubs != nil {
		l.stubs.beforeCreate(dirfd, rel)
	}
	if err := createEntry(dirfd, name, kind); err != nil {
		return err
	}
	if mode != 0 {
		if err := unix.Fchmodat(dirfd, name, mode, 0); err != nil {
			return err
		}
	}
	if l.stubs != nil {
		l.stubs.created(relTo(child, l.target), kind)
	}
	return nil
}

// resolve resolves unsafePath in the tree with chroot semantics (absolute links and
// ".." never leave the root), creating every missing component: directories 0755
// and, when leaf is kindFile, an empty 0644 file for the last one, all owned by root.
// It returns the resolved absolute path, which holds no symbolic links.
func (t *mountTree) resolve(unsafePath string, leaf entryKind) (string, error) {
	return t.resolveMode(unsafePath, leaf, 0)
}

// resolveMode is resolve, giving a last component it creates in a host directory
// mode instead of the default when mode is not 0.
func (t *mountTree) resolveMode(unsafePath string, leaf entryKind, mode uint32) (string, error) {
	pending := splitPath(unsafePath)
	var resolved []string
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(resolved) > 0 {
				resolved = resolved[:len(resolved)-1]
			}
			continue
		}
		last := onlyDots(pending)
		dir := joinAbs(resolved)
		n, err := t.lookup(dir, name)
		switch {
		case err != nil:
		case n.kind == nodeMissing:
			kind := kindDir
			if last && leaf == kindFile {
				kind = kindFile
			}
			m := uint32(0)
			if last {
				m = mode
			}
			err = t.create(dir, name, kind, m)
			resolved = append(resolved, name)
		case n.kind == nodeLink:
			links++
			if links > maxSymlinks {
				err = unix.ELOOP
				break
			}
			if strings.HasPrefix(n.link, "/") {
				resolved = resolved[:0]
			}
			pending = append(splitPath(n.link), pending...)
		case n.kind == nodeDir:
			if last && leaf == kindFile {
				err = unix.EISDIR
			}
			resolved = append(resolved, name)
		default:
			if !last || leaf == kindDir {
				err = unix.ENOTDIR
			}
			resolved = append(resolved, name)
		}
		if err != nil {
			return "", fmt.Errorf("resolving %s at %s: %w", unsafePath, childPath(dir, name), err)
		}
	}
	if leaf == kindFile && len(resolved) == 0 {
		return "", fmt.Errorf("resolving %s: %w", unsafePath, unix.EISDIR)
	}
	return joinAbs(resolved), nil
}
