package tarutil

import (
	"errors"
	"fmt"
	"path"

	"golang.org/x/sys/unix"
)

// joinName joins a clean root-relative directory name and a child name.
func joinName(dir, child string) string {
	if dir == "." {
		return child
	}
	return dir + "/" + child
}

// opaque applies an opaque marker found in dir: everything lower layers
// left in dir is removed, while what this layer has already written stays,
// as though the marker had come first. In overlay mode the directory also
// gets the overlay opaque xattr.
func (a *applier) opaque(dir string) error {
	dfd, err := mkdirAllInRoot(a.rootfd, dir)
	if err != nil {
		return fmt.Errorf("opening opaque directory: %w", err)
	}
	defer unix.Close(dfd)
	a.names.markTouched(dir)
	if err := a.clearLower(dfd, dir); err != nil {
		return fmt.Errorf("clearing opaque directory: %w", err)
	}
	if a.opts.Whiteouts.overlay() {
		return setOpaque(dfd, a.opts.Whiteouts.OpaqueXattr())
	}
	return nil
}

// clearLower removes from the directory dirfd (named dirName) every child
// this layer did not touch, descending into the touched directories.
func (a *applier) clearLower(dirfd int, dirName string) error {
	names, fd, err := readDirNames(dirfd, ".")
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, child := range names {
		childName := joinName(dirName, child)
		if !a.names.touched[childName] {
			if err := removeAllAt(fd, child); err != nil {
				return err
			}
			continue
		}
		st, err := lstatAt(fd, child)
		if err != nil {
			return fmt.Errorf("inspecting %q: %w", childName, err)
		}
		if !isDir(&st) {
			continue
		}
		cfd, err := openChild(fd, child, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return fmt.Errorf("opening %q: %w", childName, err)
		}
		err = a.clearLower(cfd, childName)
		unix.Close(cfd)
		if err != nil {
			return err
		}
	}
	return nil
}

// setOpaque sets the overlay opaque xattr key on the directory behind dirfd.
func setOpaque(dirfd int, key string) error {
	fd, err := openChild(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("opening directory to mark it opaque: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, key, []byte("y"), 0); err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	return nil
}

// whiteoutName applies ".wh.target" found in dir: target is removed if a
// lower layer left it, and in overlay mode replaced by a whiteout device.
// A name this layer created is left alone.
func (a *applier) whiteoutName(dir, target string) error {
	name := joinName(dir, target)
	if a.names.touched[name] {
		return nil
	}
	if !a.opts.Whiteouts.overlay() {
		pfd, err := openDirInRoot(a.rootfd, dir)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil // nothing below to delete
		}
		if err != nil {
			return fmt.Errorf("opening whiteout directory: %w", err)
		}
		defer unix.Close(pfd)
		return removeAllAt(pfd, target)
	}
	pfd, err := mkdirAllInRoot(a.rootfd, dir)
	if err != nil {
		return fmt.Errorf("opening whiteout directory: %w", err)
	}
	defer unix.Close(pfd)
	if err := removeAllAt(pfd, target); err != nil {
		return err
	}
	if err := unix.Mknodat(pfd, target, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("creating overlay whiteout %q: %w", path.Clean(name), err)
	}
	a.names.markTouched(name)
	a.whiteout[name] = true
	return nil
}
