package snapshot

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// overlaySpec is one overlay mount.
type overlaySpec struct {
	lowers              []string // top first
	upper, work, target string
}

// overlayFlags returns the overlayfs options of every mount: no inode
// index, and no redirects or metacopy, so the upper directory holds
// complete files and a renamed lower directory is copied, never
// redirected.
func overlayFlags() [][2]string {
	return [][2]string{{"index", "off"}, {"redirect_dir", "off"}, {"metacopy", "off"}}
}

// legacyData returns the mount(2) data of s, or ok false if it does not fit
// in one page or a path holds a character the option syntax reserves.
func (s *overlaySpec) legacyData() (data string, ok bool) {
	var b strings.Builder
	for _, f := range overlayFlags() {
		b.WriteString(f[0] + "=" + f[1] + ",")
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

// mountOverlay mounts s with mount(2), or where its options do not fit in
// a page (or newAPI is set) with fsopen/fsconfig, which passes each lower
// directory on its own ("lowerdir+", Linux 6.8 and later).
func mountOverlay(s *overlaySpec, newAPI bool) error {
	if data, ok := s.legacyData(); ok && !newAPI {
		if err := unix.Mount("overlay", s.target, "overlay", 0, data); err != nil {
			return fmt.Errorf("mounting overlay at %q: %w", s.target, err)
		}
		return nil
	}
	if err := mountOverlayFsconfig(s); err != nil {
		return fmt.Errorf("mounting overlay of %d layers at %q: %w", len(s.lowers), s.target, err)
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
	for _, f := range overlayFlags() {
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
