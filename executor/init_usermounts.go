package executor

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// mountUserMounts mounts the process's mounts in order onto the rootfs open as rootfd,
// in the init's mount namespace, after the standard mounts. A read-only tmpfs is made
// read-only only once all mounts are in place, so later mount points can still be
// created in it.
func mountUserMounts(rootfd int, ms []plannedMount) error {
	var readOnly []int
	defer func() {
		for _, fd := range readOnly {
			unix.Close(fd)
		}
	}()
	for _, m := range ms {
		for _, c := range m.Create {
			if err := createPending(rootfd, c); err != nil {
				return fmt.Errorf("mount at %s: %w", m.Target, err)
			}
		}
		var err error
		switch m.Type {
		case MountBind:
			err = mountAt(rootfd, m.Target, m.Source, "", unix.MS_BIND|unix.MS_REC, "")
			if err == nil && m.ReadOnly {
				err = withMount(rootfd, m.Target, func(fd int) error { return remountReadOnly(fd, true, 0) })
			}
		case MountFile:
			err = mountAt(rootfd, m.Target, m.Source, "", unix.MS_BIND, "")
			if err == nil {
				err = withMount(rootfd, m.Target, func(fd int) error {
					return remountReadOnly(fd, false, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
				})
			}
		case MountTmpfs:
			err = mountAt(rootfd, m.Target, "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, strings.Join(m.Options, ","))
			if err == nil && m.ReadOnly {
				var fd int
				fd, err = openInRoot(rootfd, m.Target, unix.O_PATH|unix.O_CLOEXEC)
				if err == nil {
					readOnly = append(readOnly, fd)
				}
			}
		default:
			err = fmt.Errorf("unknown mount type %q", m.Type)
		}
		if err != nil {
			return fmt.Errorf("mount at %s: %w", m.Target, err)
		}
	}
	for _, fd := range readOnly {
		if err := remountReadOnly(fd, false, 0); err != nil {
			return err
		}
	}
	return nil
}

// createPending creates a mount point in a file system the run set up; its parent exists.
func createPending(rootfd int, e pendingEntry) error {
	dirfd, err := openInRoot(rootfd, path.Dir(e.Path), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("creating mount point %s: %w", e.Path, err)
	}
	defer unix.Close(dirfd)
	kind := kindFile
	if e.Dir {
		kind = kindDir
	}
	if err := createEntry(dirfd, path.Base(e.Path), kind); err != nil {
		return fmt.Errorf("creating mount point %s: %w", e.Path, err)
	}
	return nil
}

// withMount calls fn with the mount at the resolved path p inside the root, opened
// without following any link.
func withMount(rootfd int, p string, fn func(fd int) error) error {
	fd, err := openInRoot(rootfd, p, unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("opening %s: %w", p, err)
	}
	defer unix.Close(fd)
	return fn(fd)
}

// remountReadOnly makes the mount whose root is open as fd read-only, with everything
// mounted below it when recursive (where the kernel has mount_setattr), keeping the
// flags it has (a remount may not drop nosuid, nodev, noexec or change the atime
// flags where they are locked, as they are in a user namespace that is not the
// mount's owner) and adding extra (MS_NOSUID, MS_NODEV, MS_NOEXEC).
func remountReadOnly(fd int, recursive bool, extra uintptr) error {
	if recursive {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | mountAttrs(extra)}
		err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("making the mount read-only: %w", err)
		}
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("making the mount read-only: %w", err)
	}
	flags := unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | keptFlags(st.Flags) | extra
	if err := unix.Mount("", fdPath(fd), "", flags, ""); err != nil {
		return fmt.Errorf("making the mount read-only: %w", err)
	}
	return nil
}

// mountAttrs turns the mount(2) flags MS_NOSUID, MS_NODEV and MS_NOEXEC into
// mount_setattr attributes.
func mountAttrs(flags uintptr) uint64 {
	var attr uint64
	for _, m := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	} {
		if flags&m.ms != 0 {
			attr |= m.attr
		}
	}
	return attr
}

// keptFlags turns the statfs flags of a mount into the mount(2) flags a remount of it keeps.
func keptFlags(f int64) uintptr {
	var flags uintptr
	for _, m := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if f&m.st != 0 {
			flags |= m.ms
		}
	}
	if f&(unix.ST_NOATIME|unix.ST_RELATIME) == 0 {
		// Neither: the mount updates every access time, which a remount
		// must ask for, or it gets the default, relatime.
		flags |= unix.MS_STRICTATIME
	}
	return flags
}
