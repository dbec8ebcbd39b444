package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/minibuild/minibuild/internal/idmap"
	"golang.org/x/sys/unix"
)

// filesDirName is the folder of a run directory where the run's MountFile files are,
// on a private tmpfs.
const filesDirName = "files"

// writeMountFiles puts the content of every MountFile on a private tmpfs under the run
// directory, each file with its mode and owner, so that both executors bind them from
// there and the content never touches a disk.
func (pl *plan) writeMountFiles() error {
	page := int64(unix.Getpagesize())
	size, n := page, 0
	for _, m := range pl.userMounts {
		if m.Type == MountFile {
			size += (int64(len(m.data))+page-1)/page*page + page
			n++
		}
	}
	if n == 0 {
		return nil
	}
	dir := filepath.Join(pl.runDir, filesDirName)
	if err := mountFilesTmpfs(dir, size, n); err != nil {
		return err
	}
	dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(dirfd)
	for i := range pl.userMounts {
		m := &pl.userMounts[i]
		if m.Type != MountFile {
			continue
		}
		name := strconv.Itoa(i)
		if err := writeMountFile(dirfd, name, *m); err != nil {
			return fmt.Errorf("mount at %s: writing the file: %w", m.Target, err)
		}
		m.Source = filepath.Join(dir, name)
		m.data = nil
	}
	return nil
}

// mountFilesTmpfs mounts a tmpfs of size bytes for n files, only root's, on a new dir.
// dir is first bound onto itself and made private, so that the tmpfs is not
// propagated to the host's other mount namespaces.
func mountFilesTmpfs(dir string, size int64, n int) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("creating the files' directory: %w", err)
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding the files' directory: %w", err)
	}
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the files' directory private: %w", err)
	}
	data := fmt.Sprintf("mode=0700,uid=0,gid=0,size=%d,nr_inodes=%d", size, n+16)
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, data); err != nil {
		return fmt.Errorf("mounting the files' tmpfs: %w", err)
	}
	return nil
}

// writeMountFile writes m's content as name in dirfd with m's mode and owner.
func writeMountFile(dirfd int, name string, m plannedMount) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if _, err := f.Write(m.data); err != nil {
		return err
	}
	if err := unix.Fchown(fd, int(m.uid), int(m.gid)); err != nil {
		return fmt.Errorf("chown to %d:%d: %w", m.uid, m.gid, idmap.UnmappedError(err, int(m.uid), int(m.gid)))
	}
	return unix.Fchmod(fd, m.mode)
}

// unmountFiles detaches whatever is mounted on the files' directory of the run
// directory runDir (its tmpfs, and the bind below it).
func unmountFiles(runDir string) error {
	dir := filepath.Join(runDir, filesDirName)
	for range 8 {
		err := unix.Unmount(dir, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmounting %s: %w", dir, err)
		}
	}
	return fmt.Errorf("unmounting %s: still mounted", dir)
}

// RemoveRunDir removes a run directory that a run left in its executor's state
// directory when the process running it died (a "run-" folder of
// BuiltinOptions.StateDir or of NewRuntime's stateDir), unmounting the tmpfs of its
// file mounts first, so their content is gone. Call it only for a run known to be over.
func RemoveRunDir(dir string) error {
	if err := unmountFiles(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing run directory: %w", err)
	}
	return nil
}
