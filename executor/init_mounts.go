package executor

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/internal/idmap"
	"golang.org/x/sys/unix"
)

// fdPath names the file an open descriptor refers to, as a mount source or target.
func fdPath(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}

// mountAt mounts onto the resolved path target inside the root, opened without
// following any link so the mount cannot land outside the root.
func mountAt(rootfd int, target, source, fstype string, flags uintptr, data string) error {
	fd, err := openInRoot(rootfd, target, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("opening mount point %s: %w", target, err)
	}
	defer unix.Close(fd)
	if err := unix.Mount(source, fdPath(fd), fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s (%s) on %s: %w", source, fstype, target, err)
	}
	return nil
}

// bindSelf bind-mounts the resolved path p inside the root onto itself.
func bindSelf(rootfd int, p string) error {
	fd, err := openInRoot(rootfd, p, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Mount(fdPath(fd), fdPath(fd), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %s onto itself: %w", p, err)
	}
	return nil
}

// bindReadOnly bind-mounts the host file source onto target and makes the bind read-only.
func bindReadOnly(rootfd int, target, source string) error {
	if err := mountAt(rootfd, target, source, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	return withMount(rootfd, target, func(fd int) error {
		return remountReadOnly(fd, false, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
	})
}

// mountSys mounts a read-only sysfs at target. Where the kernel refuses a
// new sysfs because this user namespace does not own the network
// namespace (rootless, with the host's network), it binds the host's /sys
// instead, read-only with everything mounted below it, as rootless runc
// and Podman do.
func mountSys(rootfd int, target string) error {
	const noDevSuidExec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	err := mountAt(rootfd, target, "sysfs", "sysfs", noDevSuidExec|unix.MS_RDONLY, "")
	if err == nil || !errors.Is(err, unix.EPERM) || idmap.InInitialNamespace() {
		return err
	}
	if berr := mountAt(rootfd, target, "/sys", "", unix.MS_BIND|unix.MS_REC, ""); berr != nil {
		return fmt.Errorf("%w; binding the host's /sys instead: %w", err, berr)
	}
	return withMount(rootfd, target, func(fd int) error { return remountReadOnly(fd, true, noDevSuidExec) })
}

// setupRootfs builds the container's mount tree under cfg.Rootfs in the init's new mount
// namespace, sets the hostname and loopback, and makes the rootfs the root directory.
func setupRootfs(cfg *initConfig) error {
	// Nothing mounted here may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting rootfs: %w", err)
	}
	rootfd, err := openRoot(cfg.Rootfs)
	if err != nil {
		return err
	}
	defer unix.Close(rootfd)
	m := cfg.Mounts
	const noDevSuidExec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := mountAt(rootfd, m.Proc, "proc", "proc", noDevSuidExec, ""); err != nil {
		return err
	}
	if err := mountSys(rootfd, m.Sys); err != nil {
		return err
	}
	if err := setupDev(rootfd, m.Dev); err != nil {
		return err
	}
	if err := maskPaths(rootfd, m); err != nil {
		return err
	}
	if err := bindReadOnly(rootfd, m.Hosts, cfg.HostsFile); err != nil {
		return err
	}
	if err := bindReadOnly(rootfd, m.ResolvConf, cfg.ResolvFile); err != nil {
		return err
	}
	if err := mountUserMounts(rootfd, cfg.UserMounts); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return fmt.Errorf("setting hostname: %w", err)
	}
	if cfg.NewNetwork {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	return enterRoot(cfg.Rootfs)
}

// setupDev mounts a minimal /dev: a tmpfs with the host's basic device nodes bound in,
// a private devpts, shm, mqueue and the usual symbolic links.
func setupDev(rootfd int, dev string) error {
	if err := mountAt(rootfd, dev, "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	devfd, err := openInRoot(rootfd, dev, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dev, err)
	}
	defer unix.Close(devfd)
	for _, n := range devNodes() {
		if err := deviceNode(rootfd, devfd, dev, n.name, n.major, n.minor); err != nil {
			return err
		}
	}
	for _, s := range devSubMounts() {
		if err := unix.Mkdirat(devfd, s.name, s.mode); err != nil {
			return fmt.Errorf("creating /dev/%s: %w", s.name, err)
		}
		if err := mountAt(rootfd, path.Join(dev, s.name), s.fstype, s.fstype, s.flags, strings.Join(s.data, ",")); err != nil {
			return err
		}
	}
	for _, l := range devLinks() {
		if err := unix.Symlinkat(l[0], devfd, l[1]); err != nil {
			return fmt.Errorf("creating /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// devNode is a device node of the container's /dev.
type devNode struct {
	name         string
	major, minor uint32
}

// devNodes are the device nodes of the container's /dev.
func devNodes() []devNode {
	return []devNode{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}
}

// devSubMount is a file system mounted in the container's /dev.
type devSubMount struct {
	name, fstype string
	mode         uint32
	flags        uintptr
	data         []string
}

// devSubMounts are the file systems mounted in the container's /dev.
func devSubMounts() []devSubMount {
	return []devSubMount{
		{"pts", "devpts", 0o755, unix.MS_NOSUID | unix.MS_NOEXEC, devptsOptions()},
		{"shm", "tmpfs", 0o1777, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, []string{"mode=1777", "size=65536k"}},
		{"mqueue", "mqueue", 0o755, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, nil},
	}
}

// devptsOptions are the mount options of the container's devpts. The
// pseudo-terminals belong to group 5 (tty), unless that group is not mapped
// in this user namespace (rootless with a single ID), where devpts refuses
// the option: they stay the caller's group then, as rootless runc does.
func devptsOptions() []string {
	opts := []string{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}
	if !idmap.InInitialNamespace() {
		if gids, err := idmap.GIDs(); err == nil && !gids.Has(5) {
			opts = opts[:len(opts)-1]
		}
	}
	return opts
}

// devLinks are the symbolic links of the container's /dev, as {target, name}.
func devLinks() [][2]string {
	return [][2]string{
		{"pts/ptmx", "ptmx"},
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
		{"/proc/kcore", "core"},
	}
}

// deviceNode binds the host's /dev/name onto a new file in the container's /dev, or
// makes the character device major:minor there when the host has no such node.
func deviceNode(rootfd, devfd int, dev, name string, major, minor uint32) error {
	var st unix.Stat_t
	if err := unix.Stat("/dev/"+name, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		if err := unix.Mknodat(devfd, name, unix.S_IFCHR|0o666, int(unix.Mkdev(major, minor))); err != nil {
			return fmt.Errorf("creating /dev/%s: %w", name, err)
		}
		return unix.Fchmodat(devfd, name, 0o666, 0)
	}
	fd, err := unix.Openat(devfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return fmt.Errorf("creating /dev/%s: %w", name, err)
	}
	unix.Close(fd)
	return mountAt(rootfd, path.Join(dev, name), "/dev/"+name, "", unix.MS_BIND, "")
}

// maskPaths hides and write-protects the proc and sysfs entries Docker does.
func maskPaths(rootfd int, m mountPoints) error {
	var masked []string
	for _, p := range maskedProcPaths() {
		masked = append(masked, path.Join(m.Proc, p))
	}
	for _, p := range maskedSysPaths() {
		masked = append(masked, path.Join(m.Sys, p))
	}
	for _, p := range masked {
		var st unix.Stat_t
		fd, err := openInRoot(rootfd, p, unix.O_PATH)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err == nil {
			err = unix.Fstat(fd, &st)
			unix.Close(fd)
		}
		if err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = mountAt(rootfd, p, "tmpfs", "tmpfs", unix.MS_RDONLY, "")
		} else {
			err = mountAt(rootfd, p, "/dev/null", "", unix.MS_BIND, "")
		}
		if err != nil {
			return err
		}
	}
	for _, rel := range readonlyProcPaths() {
		p := path.Join(m.Proc, rel)
		err := bindSelf(rootfd, p)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return err
		}
		err = withMount(rootfd, p, func(fd int) error {
			return remountReadOnly(fd, false, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
		})
		if err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	return nil
}

// loopbackUp brings the loopback interface of a new network namespace up.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	return nil
}

// enterRoot makes rootfs the root directory with pivot_root, detaching the old root, or
// moves it over / and chroots where pivot_root is not possible (a ramfs root).
func enterRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("entering rootfs: %w", err)
	}
	if perr := unix.PivotRoot(".", "."); perr == nil {
		if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detaching old root: %w", err)
		}
	} else {
		if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("pivot_root: %v; moving rootfs to /: %w", perr, err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("chroot into rootfs: %w", err)
		}
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("entering rootfs: %w", err)
	}
	return nil
}
