package executor

import "os"

// MountType is what a Mount puts at its target.
type MountType string

// Mount types.
const (
	// MountBind binds a host path (a directory, a file or a socket) at the target.
	MountBind MountType = "bind"
	// MountTmpfs mounts a new, empty tmpfs at the target.
	MountTmpfs MountType = "tmpfs"
	// MountFile puts one file holding Data at the target, read-only, from a
	// private tmpfs: the data is never written to a disk (build secrets).
	MountFile MountType = "file"
)

// Mount is one file system a Process sees beyond its rootfs (RUN --mount,
// minibuild run -v). Mounts are applied in the order given, after the
// standard ones (/proc, /dev, /sys, /etc/hosts, /etc/resolv.conf), so a
// later mount may sit inside an earlier one. A target that is missing in the
// rootfs is created (a directory, or an empty file when the source is not a
// directory) and removed again when the run ends, so nothing of a mount is
// left in the rootfs.
type Mount struct {
	// Type is MountBind, MountTmpfs or MountFile.
	Type MountType
	// Target is the absolute path inside the rootfs, resolved with chroot semantics.
	Target string
	// Source is the host path a MountBind binds; unused by the other types.
	Source string
	// ReadOnly makes the mount read-only (a MountFile always is).
	ReadOnly bool
	// Size limits a MountTmpfs, in bytes; 0 is the kernel's default.
	Size int64
	// Mode is the permission bits of a MountTmpfs's root directory (0 means
	// 01777) or of a MountFile's file (0 means 0400).
	Mode os.FileMode
	// UID and GID own a MountTmpfs's root directory or a MountFile's file.
	UID, GID uint32
	// Data is a MountFile's content.
	Data []byte
}
