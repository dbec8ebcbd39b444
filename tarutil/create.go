package tarutil

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/minibuild/minibuild/internal/idmap"
	"golang.org/x/sys/unix"
)

// attrs is the metadata Apply gives a created object.
type attrs struct {
	uid, gid     int
	mode         uint32 // permissions plus setuid, setgid and sticky
	xattrs       map[string]string
	atime, mtime time.Time
}

// xattrPAXPrefix is how tar stores extended attributes.
const xattrPAXPrefix = "SCHILY.xattr."

// attrsOf reads the metadata of hdr. Overlay xattrs are dropped: a layer
// may not forge overlayfs metadata; Apply writes its own markers.
func attrsOf(hdr *tar.Header) attrs {
	at := attrs{
		uid:   hdr.Uid,
		gid:   hdr.Gid,
		mode:  uint32(hdr.Mode & modePerm),
		atime: hdr.AccessTime,
		mtime: hdr.ModTime,
	}
	if at.atime.IsZero() {
		at.atime = at.mtime
	}
	for k, v := range hdr.PAXRecords {
		key, ok := strings.CutPrefix(k, xattrPAXPrefix)
		if !ok || key == "" || isOverlayXattr(key) {
			continue
		}
		if at.xattrs == nil {
			at.xattrs = make(map[string]string)
		}
		at.xattrs[key] = v
	}
	return at
}

// isOverlayXattr reports whether key is overlayfs metadata.
func isOverlayXattr(key string) bool {
	return strings.HasPrefix(key, "trusted.overlay.") || strings.HasPrefix(key, "user.overlay.")
}

// ignorableXattrErr reports whether failing to set key is tolerated: the
// file system lacks xattrs, trusted.* needs a privilege we lack, or the
// kernel forbids user.* on anything but files and directories.
func ignorableXattrErr(key string, err error, fileOrDir bool) bool {
	if errors.Is(err, unix.ENOTSUP) {
		return true
	}
	if errors.Is(err, unix.EPERM) {
		return strings.HasPrefix(key, "trusted.") || !fileOrDir && strings.HasPrefix(key, "user.")
	}
	return false
}

// timespecs converts times for utimensat.
func timespecs(atime, mtime time.Time) []unix.Timespec {
	return []unix.Timespec{
		{Sec: atime.Unix(), Nsec: int64(atime.Nanosecond())},
		{Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())},
	}
}

// setFdAttrs sets owner, mode and xattrs through fd, an open (not O_PATH)
// file or directory; the mode is set after the owner, which clears setuid.
func (a *applier) setFdAttrs(fd int, at attrs, fileOrDir bool) error {
	if !a.opts.NoChown {
		if err := unix.Fchown(fd, at.uid, at.gid); err != nil {
			return fmt.Errorf("changing owner to %d:%d: %w", at.uid, at.gid, idmap.UnmappedError(err, at.uid, at.gid))
		}
	}
	if err := unix.Fchmod(fd, at.mode); err != nil {
		return fmt.Errorf("changing mode to %#o: %w", at.mode, err)
	}
	for _, k := range slices.Sorted(maps.Keys(at.xattrs)) {
		err := unix.Fsetxattr(fd, k, []byte(at.xattrs[k]), 0)
		if err != nil && !ignorableXattrErr(k, err, fileOrDir) {
			return fmt.Errorf("setting xattr %s: %w", k, err)
		}
	}
	return nil
}

// setChildXattrs sets xattrs on name in dirfd without following it.
func setChildXattrs(dirfd int, name string, xattrs map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(xattrs)) {
		err := unix.Lsetxattr(procChild(dirfd, name), k, []byte(xattrs[k]), 0)
		if err != nil && !ignorableXattrErr(k, err, false) {
			return fmt.Errorf("setting xattr %s: %w", k, err)
		}
	}
	return nil
}

// regular creates the file base in pfd with the content of body.
func (a *applier) regular(pfd int, base string, at attrs, body io.Reader) error {
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("creating file: %w", err)
	}
	f := os.NewFile(uintptr(fd), base)
	n, err := io.Copy(f, body)
	a.written.Add(n)
	if err != nil {
		f.Close()
		return fmt.Errorf("writing file content: %w", err)
	}
	if err := a.setFdAttrs(int(f.Fd()), at, true); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing file: %w", err)
	}
	return setTimes(pfd, base, at)
}

// writeFile creates the file base in pfd with the content data.
func (a *applier) writeFile(pfd int, base string, at attrs, data []byte) error {
	return a.regular(pfd, base, at, bytes.NewReader(data))
}

// dir creates the directory base in pfd, or keeps an existing one, and
// gives it at's owner, mode and xattrs; its times are set at the end.
func (a *applier) dir(pfd int, base string, at attrs, overWhiteout bool) error {
	if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("creating directory: %w", err)
	}
	fd, err := openChild(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("opening directory: %w", err)
	}
	defer unix.Close(fd)
	if err := a.setFdAttrs(fd, at, true); err != nil {
		return err
	}
	if overWhiteout && a.opts.Whiteouts.overlay() {
		// The layer whited out a lower name and then made a directory
		// of it: overlayfs must not merge the lower one in.
		return setOpaque(fd, a.opts.Whiteouts.OpaqueXattr())
	}
	return nil
}

// symlink creates the symlink base in pfd pointing to target.
func (a *applier) symlink(pfd int, base, target string, at attrs) error {
	if err := unix.Symlinkat(target, pfd, base); err != nil {
		return fmt.Errorf("creating symlink: %w", err)
	}
	if !a.opts.NoChown {
		if err := unix.Fchownat(pfd, base, at.uid, at.gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("changing owner to %d:%d: %w", at.uid, at.gid, idmap.UnmappedError(err, at.uid, at.gid))
		}
	}
	if err := setChildXattrs(pfd, base, at.xattrs); err != nil {
		return err
	}
	return setTimes(pfd, base, at)
}

// hardlink links base in pfd to the clean root-relative name target, whose
// parent is resolved inside the root; a final symlink is linked, not
// followed. The link shares the target's metadata, so none is set.
func (a *applier) hardlink(pfd int, base, target string) error {
	tfd, err := openDirInRoot(a.rootfd, path.Dir(target))
	if err != nil {
		// Retried once the workers are done, which may change why.
		a.pool.barrier()
		tfd, err = openDirInRoot(a.rootfd, path.Dir(target))
	}
	if err != nil {
		return fmt.Errorf("resolving hardlink target %q: %w", target, err)
	}
	defer unix.Close(tfd)
	key, err := keyOf(tfd, path.Base(target))
	if err != nil {
		return err
	}
	a.pool.wait(key)
	if err := unix.Linkat(tfd, path.Base(target), pfd, base, 0); err != nil {
		return fmt.Errorf("linking to %q: %w", target, err)
	}
	return nil
}

// special creates a device node or fifo base in pfd.
func (a *applier) special(pfd int, base string, kind byte, hdr *tar.Header, at attrs) error {
	var ftype uint32
	switch kind {
	case tar.TypeChar:
		ftype = unix.S_IFCHR
	case tar.TypeBlock:
		ftype = unix.S_IFBLK
	default:
		ftype = unix.S_IFIFO
	}
	var dev uint64
	if kind != tar.TypeFifo {
		if hdr.Devmajor < 0 || hdr.Devmajor > 0xfff || hdr.Devminor < 0 || hdr.Devminor > 0xfffff {
			return fmt.Errorf("device number %d:%d out of range", hdr.Devmajor, hdr.Devminor)
		}
		dev = unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	}
	if err := unix.Mknodat(pfd, base, ftype|at.mode, int(dev)); err != nil {
		if kind != tar.TypeFifo && errors.Is(err, unix.EPERM) && !idmap.InInitialNamespace() {
			// No device node can be made in a user namespace but the
			// initial one: it is left out, as containerd and Podman do
			// rootless (a RUN sees the host's nodes in /dev anyway).
			return nil
		}
		return fmt.Errorf("creating device node: %w", err)
	}
	fd, err := openChild(pfd, base, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("opening device node: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("inspecting device node: %w", err)
	}
	if st.Mode&unix.S_IFMT != ftype {
		return fmt.Errorf("%w: device node replaced while being created", errUnsafe)
	}
	if !a.opts.NoChown {
		if err := unix.Fchownat(fd, "", at.uid, at.gid, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("changing owner to %d:%d: %w", at.uid, at.gid, idmap.UnmappedError(err, at.uid, at.gid))
		}
	}
	if err := fchmodPath(fd, at.mode); err != nil {
		return fmt.Errorf("changing mode to %#o: %w", at.mode, err)
	}
	if err := setChildXattrs(pfd, base, at.xattrs); err != nil {
		return err
	}
	return setTimes(pfd, base, at)
}

// setTimes sets the times of base in pfd without following it.
func setTimes(pfd int, base string, at attrs) error {
	if err := unix.UtimesNanoAt(pfd, base, timespecs(at.atime, at.mtime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}
