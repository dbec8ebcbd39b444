package snapshot

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// Cleanup removes what dead builds left under stateDir: snapshots whose
// owner is gone (their mounts, found in /proc/self/mountinfo, are
// unmounted first), half-built native bases and the trash (EmptyTrash). A snapshot is alive while
// its process holds its lock, so Cleanup leaves running builds alone; call
// it at startup.
func Cleanup(stateDir string) error {
	if _, err := os.Stat(stateDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	sd, err := resolveDir(stateDir)
	if err != nil {
		return fmt.Errorf("cleaning up snapshots: %w", err)
	}
	var errs []error
	names, err := unixfs.ReadDirNames(mountsDir(sd))
	errs = append(errs, err)
	for _, name := range names {
		errs = append(errs, cleanSnapshot(mountsDir(sd)+"/"+name))
	}
	errs = append(errs, EmptyTrash(sd))
	names, err = unixfs.ReadDirNames(sd + "/native/tmp")
	errs = append(errs, err)
	for _, name := range names {
		alg, rest, ok := strings.Cut(name, "-")
		hexPart, _, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 || alg == "" || hexPart == "" {
			continue
		}
		lock, err := tryLock(sd+"/native/"+hexPart+".lock", true)
		if err != nil || lock == nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, removeTree(sd+"/native/tmp/"+name))
		lock.Unlock()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleaning up snapshots: %w", err)
	}
	return nil
}

// staleAge is how old a snapshot directory without a lock file must be to
// count as dead: younger ones may be being created.
const staleAge = time.Minute

// cleanSnapshot removes the snapshot directory dir unless its owner is
// alive.
func cleanSnapshot(dir string) error {
	lock, err := tryLock(dir+"/"+lockName, false)
	if err != nil {
		return err
	}
	if lock == nil {
		if _, err := os.Lstat(dir + "/" + lockName); err == nil {
			return nil // held by a live build
		}
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAge {
			return nil
		}
	} else {
		defer lock.Unlock()
	}
	return removeTree(dir)
}

// CheckOverlay says why overlay snapshots cannot work under stateDir, or
// returns nil where they can: it mounts a tiny overlay once (with
// userxattr outside the initial user namespace, as NewOverlay with
// NewUnpacker's layers mounts it), deletes a lower file through it and
// checks that the upper directory holds the whiteout.
func CheckOverlay(stateDir string) (err error) {
	sd, err := resolveDir(stateDir)
	if err != nil {
		return err
	}
	dir, lock, err := newSnapshotDir(sd)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	defer func() { err = errors.Join(err, removeTree(dir)) }()
	spec := &overlaySpec{lowers: []string{dir + "/lower"}, upper: dir + "/upper", work: dir + "/work", target: dir + "/merged",
		userxattr: !idmap.InInitialNamespace()}
	for _, d := range []string{spec.lowers[0], spec.upper, spec.work, spec.target} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(spec.lowers[0]+"/f", nil, 0o600); err != nil {
		return err
	}
	if err := mountOverlay(spec, mountPaths); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unmount(spec.target)) }()
	if err := os.Remove(spec.target + "/f"); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(spec.upper+"/f", &st); err != nil {
		return err
	}
	if !isWhiteout(&st) {
		return errors.New("overlay deletion left no whiteout in the upper directory")
	}
	return nil
}
