package snapshot

import (
	"errors"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// This file keeps mass deletions off a build's critical path. On ext4
// without a journal, every inode created in the tens of seconds after many
// were freed makes the kernel scan past the freed ones (recently_deleted),
// so deleting a step's 8,000 files just before the next step creates
// 8,000 more costs seconds. A released snapshot is therefore moved into
// STATEDIR/trash, one rename, and deleted later by EmptyTrash.

// trashDir is where released snapshots wait to be deleted.
func trashDir(stateDir string) string { return stateDir + "/trash" }

// moveToTrash unmounts everything at or below dir and moves dir into the
// trash of stateDir; where it cannot be moved it is removed at once.
func moveToTrash(stateDir, dir string) error {
	if err := unmountUnder(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return renameToTrash(stateDir, dir)
}

// renameToTrash moves dir, which nothing is mounted at or below, into the
// trash of stateDir; where it cannot be moved it is removed at once.
func renameToTrash(stateDir, dir string) error {
	trash := trashDir(stateDir)
	if err := os.Mkdir(trash, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return removeTree(dir)
	}
	for range 4 {
		id, err := randomID()
		if err != nil {
			break
		}
		err = unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, trash+"/"+id, unix.RENAME_NOREPLACE)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	return removeTree(dir)
}

// EmptyTrash deletes the released snapshots waiting under stateDir/trash.
// Nothing in the trash belongs to a live snapshot, so it is safe at any
// time, also while other builds run and empty it too; it is best called
// once a build is over (or at startup for what a dead build left), not
// between two steps.
func EmptyTrash(stateDir string) error {
	trash := trashDir(stateDir)
	names, err := unixfs.ReadDirNames(trash)
	if err != nil {
		return fmt.Errorf("emptying snapshot trash: %w", err)
	}
	var errs []error
	for _, name := range names {
		if err := removeTree(trash + "/" + name); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("emptying snapshot trash: %w", err)
	}
	return nil
}
