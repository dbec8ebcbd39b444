package executor

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/internal/unixfs"
)

// MountType is what a Mount puts at its target.
type MountType string

// Mount types.
const (
	// MountBind binds a host path (a directory, a regular file or a socket) at the
	// target, with everything mounted below it.
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
// later mount may sit inside an earlier one; two mounts may not share a
// target, and none may go at or below /proc or /sys. A target that is
// missing is created (a directory, or an empty file when the source is not a
// directory or for a MountFile) where the process will see it: in the rootfs
// or an earlier bind's source before the run, removed again when the run
// ends, or inside an earlier tmpfs when the run sets it up. So nothing of a
// mount is left in the rootfs.
type Mount struct {
	// Type is MountBind, MountTmpfs or MountFile.
	Type MountType
	// Target is the absolute path inside the rootfs, resolved with chroot
	// semantics across the rootfs and the mounts before this one.
	Target string
	// Source is the host path a MountBind binds; unused by the other types.
	Source string
	// ReadOnly makes the mount read-only (a MountFile always is); a read-only
	// bind is read-only with everything mounted below its source.
	ReadOnly bool
	// Size limits a MountTmpfs, in bytes; 0 is the kernel's default.
	Size int64
	// Mode is the permission bits of a MountTmpfs's root directory (0 means
	// 01777) or of a MountFile's file (0 means 0400). The setuid, setgid and
	// sticky bits may be given as os.ModeSetuid, os.ModeSetgid and
	// os.ModeSticky or as the Unix bits 04000, 02000 and 01000.
	Mode os.FileMode
	// UID and GID own a MountTmpfs's root directory or a MountFile's file.
	UID, GID uint32
	// Data is a MountFile's content.
	Data []byte
}

// Default modes of the mounts whose Mode is 0.
const (
	defaultTmpfsMode = 0o1777
	defaultFileMode  = 0o400
)

// checkMount refuses a mount no executor can set up, naming its target, and returns
// a MountBind's source as an absolute path with what it is.
func checkMount(m Mount) (source string, info os.FileInfo, err error) {
	switch {
	case m.Target == "":
		return "", nil, fmt.Errorf("%s mount has no target", m.Type)
	case !path.IsAbs(m.Target):
		return "", nil, fmt.Errorf("mount target %q is not absolute", m.Target)
	case path.Clean(m.Target) == "/":
		return "", nil, fmt.Errorf("mount target %q is the root directory", m.Target)
	case m.Size < 0:
		return "", nil, fmt.Errorf("mount at %s: negative size %d", m.Target, m.Size)
	}
	if _, err := unixMode(m.Mode, 0); err != nil {
		return "", nil, fmt.Errorf("mount at %s: %w", m.Target, err)
	}
	switch m.Type {
	case MountTmpfs, MountFile:
		return "", nil, nil
	case MountBind:
	default:
		return "", nil, fmt.Errorf("mount at %s: unknown type %q (want %q, %q or %q)", m.Target, m.Type, MountBind, MountTmpfs, MountFile)
	}
	if m.Source == "" {
		return "", nil, fmt.Errorf("bind mount at %s has no source", m.Target)
	}
	source, err = filepath.Abs(m.Source)
	if err != nil {
		return "", nil, fmt.Errorf("bind mount at %s: source %s: %w", m.Target, m.Source, err)
	}
	info, err = os.Stat(source)
	if err != nil {
		return "", nil, fmt.Errorf("bind mount at %s: source: %w", m.Target, err)
	}
	if t := info.Mode().Type(); t != 0 && t != os.ModeDir && t != os.ModeSocket {
		return "", nil, fmt.Errorf("bind mount at %s: source %s is a %s, want a directory, a regular file or a socket", m.Target, source, typeName(t))
	}
	return source, info, nil
}

// typeName names a file type for an error message.
func typeName(t os.FileMode) string {
	switch {
	case t&os.ModeCharDevice != 0:
		return "character device"
	case t&os.ModeDevice != 0:
		return "block device"
	case t&os.ModeNamedPipe != 0:
		return "named pipe"
	case t&os.ModeSymlink != 0:
		return "symbolic link"
	}
	return strings.TrimSpace("special file " + t.String())
}

// unixMode converts mode to Unix permission bits, def when it is 0.
func unixMode(mode os.FileMode, def uint32) (uint32, error) {
	if mode == 0 {
		return def, nil
	}
	const special = os.ModeSetuid | os.ModeSetgid | os.ModeSticky
	if extra := mode &^ (os.ModePerm | special | 0o7000); extra != 0 {
		return 0, fmt.Errorf("mode %v has bits other than permissions, setuid, setgid and sticky", mode)
	}
	return uint32(mode&0o7000) | unixfs.ModeBits(mode), nil
}
