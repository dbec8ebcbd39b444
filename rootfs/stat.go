package rootfs

import (
	"io/fs"
	"time"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// Info describes one file of the image root filesystem.
type Info struct {
	// Mode is the Go file mode, including type and setuid/setgid/sticky bits.
	Mode fs.FileMode
	// UID and GID are the numeric owner and group.
	UID, GID int
	// Size is the size in bytes (for a symlink, the length of its target).
	Size int64
	// Linkname is the target of a symlink, empty otherwise.
	Linkname string
	// ModTime is the modification time.
	ModTime time.Time
}

// Lstat describes the file at path without following a final symlink; the
// parent directories are resolved within the root. A missing file gives an
// error wrapping fs.ErrNotExist.
func (r *Root) Lstat(p string) (Info, error) {
	clean := cleanPath(p)
	pfd, base, err := r.parent(clean)
	if err != nil {
		return Info{}, pathErr("lstat", clean, err)
	}
	defer closeFd(pfd)
	var st unix.Stat_t
	if err := unixfs.RetryErr(func() error { return unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return Info{}, pathErr("lstat", clean, err)
	}
	info := infoFromStat(&st)
	if info.Mode&fs.ModeSymlink != 0 {
		target, err := unixfs.Readlinkat(pfd, base)
		if err != nil {
			return Info{}, pathErr("readlink", clean, err)
		}
		info.Linkname = target
	}
	return info, nil
}

// Stat describes the file at path, following symlinks within the root.
func (r *Root) Stat(p string) (Info, error) {
	clean := cleanPath(p)
	fd, err := r.openat2(clean, unix.O_PATH)
	if err != nil {
		return Info{}, pathErr("stat", clean, err)
	}
	defer closeFd(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Info{}, pathErr("stat", clean, err)
	}
	return infoFromStat(&st), nil
}

// infoFromStat converts a stat(2) result.
func infoFromStat(st *unix.Stat_t) Info {
	return Info{
		Mode:    unixfs.FileMode(st.Mode),
		UID:     int(st.Uid),
		GID:     int(st.Gid),
		Size:    st.Size,
		ModTime: time.Unix(st.Mtim.Unix()),
	}
}

// unixMode converts the permission and setuid/setgid/sticky bits of a Go file
// mode to chmod(2) bits; type bits are ignored.
func unixMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= unix.S_ISVTX
	}
	return mode
}
