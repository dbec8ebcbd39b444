package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/minibuild/minibuild/internal/textfmt"
	"golang.org/x/sys/unix"
)

// lowFree is the free space under which the store root check warns.
const lowFree = 2 << 30

// Magic numbers of statfs(2) for the file systems the check names.
var fsNames = map[int64]string{
	0xef53:     "ext4",
	0x58465342: "xfs",
	0x9123683e: "btrfs",
	0x01021994: "tmpfs",
	0x794c7630: "overlayfs",
	0x6969:     "nfs",
	0x2fc12fc1: "zfs",
	0xf2f52010: "f2fs",
	0x65735546: "fuse",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0xf15f:     "ecryptfs",
	0x5346544e: "ntfs",
	0x4d44:     "vfat",
}

// fsName names a statfs magic number.
func fsName(magic int64) string {
	if n, ok := fsNames[magic]; ok {
		return n
	}
	return fmt.Sprintf("file system 0x%x", magic)
}

// checkStoreRoot looks at the file system the store root is on (or will
// be created on): its type, whether it is writable, its free space.
func checkStoreRoot(root string) Check {
	dir := existingAncestor(root)
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Check{Name: "store root", Status: Missing, Detail: fmt.Sprintf("%s: %v", root, err),
			Fix: "choose another --root (or MINIBUILD_ROOT)"}
	}
	var werr error
	if err := unix.Access(dir, unix.W_OK); err != nil {
		werr = &fs.PathError{Op: "write", Path: dir, Err: err}
	}
	_, serr := os.Stat(root)
	return storeRootCheck(root, dir, errors.Is(serr, fs.ErrNotExist), int64(st.Type), st.Bavail*uint64(st.Bsize), werr)
}

// storeRootCheck is the check for the store root root, whose nearest
// existing directory dir (root itself unless missing) is on a file
// system of type magic with free bytes, and writable unless werr.
func storeRootCheck(root, dir string, missing bool, magic int64, free uint64, werr error) Check {
	c := Check{Name: "store root"}
	name := fsName(magic)
	c.Detail = fmt.Sprintf("%s: %s, %s free", root, name, textfmt.Size(int64(free)))
	if missing {
		c.Detail = fmt.Sprintf("%s (to be created in %s): %s, %s free", root, dir, name, textfmt.Size(int64(free)))
	}
	switch {
	case werr != nil:
		c.Status = Missing
		c.Detail = fmt.Sprintf("%s: not writable (%v)", root, werr)
		c.Fix = "choose a directory you may write to with --root (or MINIBUILD_ROOT)"
	case name == "nfs" || name == "cifs" || name == "smb2" || name == "fuse":
		c.Status = Warning
		c.Detail += ": a network or FUSE file system cannot hold overlay upper directories, and locks may not work"
		c.Fix = "a store root on a local disk (--root, MINIBUILD_ROOT)"
	case name == "overlayfs":
		c.Status = Warning
		c.Detail += " (inside a container?): overlay cannot use it as an upper directory, so builds copy each step's rootfs"
		c.Fix = "a volume for the store root (--root, MINIBUILD_ROOT)"
	case name == "ecryptfs":
		c.Status = Warning
		c.Detail += ": overlay cannot use it as an upper directory"
		c.Fix = "a store root outside the encrypted home (--root, MINIBUILD_ROOT)"
	case free < lowFree:
		c.Status = Warning
		c.Detail += ": little room for layers"
		c.Fix = "free space, or 'minibuild cache prune'"
	}
	return c
}
