package snapshot

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// overlaySpec is one overlay mount.
type overlaySpec struct {
	lowers              []string // top first
	upper, work, target string
	// userxattr mounts it with the userxattr option: overlayfs keeps its
	// markers in user.overlay.* xattrs, as it must outside the initial
	// user namespace (Linux 5.11 and later).
	userxattr bool
	// volatile mounts it with the volatile option (Linux 5.10 and
	// later): neither its unmount nor an fsync inside it syncs the upper
	// file system. A step's upper directory is made again from its
	// parent's state after a crash, never trusted from disk, so the sync
	// that unmounting an overlay does (of the whole file system the
	// upper directory is on, every other build's writes included) buys
	// nothing; it was 10 ms a step, and its fsyncs are what makes dpkg slow.
	volatile bool
}

// flags returns the overlayfs options of the mount, as {key, value}, the
// value "" for a flag: no inode index, and no redirects or metacopy, so
// the upper directory holds complete files and a renamed lower directory
// is copied, never redirected; and userxattr where asked for, with which
// the kernel allows only redirect_dir=nofollow (no redirects made either,
// and none followed).
func (s *overlaySpec) flags() [][2]string {
	f := [][2]string{{"index", "off"}, {"redirect_dir", "off"}, {"metacopy", "off"}}
	if s.userxattr {
		f = [][2]string{{"index", "off"}, {"redirect_dir", "nofollow"}, {"metacopy", "off"}, {"userxattr", ""}}
	}
	if s.volatile {
		f = append(f, [2]string{"volatile", ""})
	}
	return f
}

// legacyData returns the mount(2) data of s, or ok false if it does not fit
// in one page or a path holds a character the option syntax reserves.
func (s *overlaySpec) legacyData() (data string, ok bool) {
	var b strings.Builder
	for _, f := range s.flags() {
		b.WriteString(f[0])
		if f[1] != "" {
			b.WriteString("=" + f[1])
		}
		b.WriteString(",")
	}
	for _, p := range append([]string{s.upper, s.work}, s.lowers...) {
		if strings.ContainsAny(p, ",:\\") {
			return "", false
		}
	}
	b.WriteString("lowerdir=" + strings.Join(s.lowers, ":"))
	b.WriteString(",upperdir=" + s.upper + ",workdir=" + s.work)
	data = b.String()
	return data, len(data) < os.Getpagesize()
}

// mountMethod picks how mountOverlay passes the lower directories.
type mountMethod int

const (
	// mountAuto uses the first method below whose options fit.
	mountAuto mountMethod = iota
	// mountPaths passes their paths to mount(2).
	mountPaths
	// mountFds opens them and passes /proc/self/fd/N to mount(2), which
	// keeps each lower directory under 20 bytes on any kernel.
	mountFds
	// mountFsconfig passes each on its own with fsconfig "lowerdir+"
	// (Linux 6.8 and later), without a length limit.
	mountFsconfig
)

// mountOverlay mounts s. The mount(2) options must fit in one page, so
// where the paths of the lower directories are too long, they are named by
// open descriptors, and where even those are too long, passed one by one
// through the new mount API.
func mountOverlay(s *overlaySpec, method mountMethod) error {
	if method == mountAuto || method == mountPaths {
		if data, ok := s.legacyData(); ok {
			return mountLegacy(s, data)
		}
		if method == mountPaths {
			return fmt.Errorf("mounting overlay at %q: options longer than a page, or a path holds a comma, a colon or a backslash", s.target)
		}
	}
	if method == mountAuto || method == mountFds {
		byFd := *s
		byFd.lowers = make([]string, len(s.lowers))
		for i, l := range s.lowers {
			fd, err := unix.Open(l, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("mounting overlay at %q: opening lower directory %q: %w", s.target, l, err)
			}
			defer unix.Close(fd)
			byFd.lowers[i] = "/proc/self/fd/" + strconv.Itoa(fd)
		}
		if data, ok := byFd.legacyData(); ok {
			return mountLegacy(s, data)
		}
		if method == mountFds {
			return fmt.Errorf("mounting overlay at %q: options longer than a page, or a path holds a comma, a colon or a backslash", s.target)
		}
	}
	if err := mountOverlayFsconfig(s); err != nil {
		return fmt.Errorf("mounting overlay of %d layers at %q: %w", len(s.lowers), s.target, err)
	}
	return nil
}

// mountLegacy mounts the overlay at s.target with mount(2).
func mountLegacy(s *overlaySpec, data string) error {
	if err := unix.Mount("overlay", s.target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mounting overlay at %q: %w", s.target, err)
	}
	return nil
}

// mountOverlayFsconfig mounts s with the new mount API.
func mountOverlayFsconfig(s *overlaySpec) (err error) {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen: %w", err)
	}
	defer unix.Close(fd)
	defer func() {
		if err != nil {
			err = withKernelLog(fd, err)
		}
	}()
	for _, f := range s.flags() {
		if f[1] == "" {
			if err := unix.FsconfigSetFlag(fd, f[0]); err != nil {
				return fmt.Errorf("setting %s: %w", f[0], err)
			}
			continue
		}
		if err := unix.FsconfigSetString(fd, f[0], f[1]); err != nil {
			return fmt.Errorf("setting %s=%s: %w", f[0], f[1], err)
		}
	}
	for _, l := range s.lowers {
		if err := unix.FsconfigSetString(fd, "lowerdir+", l); err != nil {
			return fmt.Errorf("adding lower directory %q (lowerdir+ needs Linux 6.8): %w", l, err)
		}
	}
	if err := unix.FsconfigSetString(fd, "upperdir", s.upper); err != nil {
		return fmt.Errorf("setting upperdir: %w", err)
	}
	if err := unix.FsconfigSetString(fd, "workdir", s.work); err != nil {
		return fmt.Errorf("setting workdir: %w", err)
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("creating the file system: %w", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, s.target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// withKernelLog appends the messages the kernel logged on the fs context
// fd to err.
func withKernelLog(fd int, err error) error {
	var msgs []string
	buf := make([]byte, 4096)
	for range 16 {
		n, rerr := unix.Read(fd, buf)
		if rerr != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) == 0 {
		return err
	}
	return fmt.Errorf("%w (kernel: %s)", err, strings.Join(msgs, "; "))
}
