package mountcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/diskusage"
	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// Result is what Remove, Prune and Cleanup did.
type Result struct {
	// Removed are the instances removed, with the sizes they had.
	Removed []Info
	// InUse are the instances kept because a lease held them.
	InUse []Info
	// Leftovers are the folders of dead processes removed: instances
	// half made or half removed.
	Leftovers []string
	// Freed is the disk space of all of it.
	Freed int64
}

// List describes every instance of every cache id, sorted by id and
// instance. It takes no lock and waits for nothing; an instance being
// made is not listed until it is whole, and one whose metadata cannot be
// read is listed with an empty ID.
func (c *Cache) List() ([]Info, error) {
	var out []Info
	var errs []error
	ids, err := c.idDirs()
	if err != nil {
		return nil, err
	}
	for _, idDir := range ids {
		ns, err := instances(idDir)
		errs = append(errs, err)
		for _, n := range ns {
			info, err := describe(idDir, n)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			// Other errors leave info.ID empty: a damaged instance, which
			// Prune removes.
			free, err := flock.Free(filepath.Join(instanceDir(idDir, n), lockName))
			errs = append(errs, err)
			info.InUse = !free
			out = append(out, info)
		}
	}
	sortInfos(out)
	return out, errors.Join(errs...)
}

// Remove removes every instance of the cache ids given that no lease
// holds, and reports those it kept, in the order of ids. It waits for the ids' locks, which
// are held only while a lease is chosen or made (and seeded), or ctx is
// done; never for a lease.
func (c *Cache) Remove(ctx context.Context, ids ...string) (Result, error) {
	var res Result
	for _, id := range ids {
		if err := c.sweep(ctx, c.idDir(id), id, true, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Prune is Remove of every cache id, and of whatever dead processes left;
// it reports the instances sorted by id.
func (c *Cache) Prune(ctx context.Context) (Result, error) {
	var res Result
	ids, err := c.idDirs()
	if err != nil {
		return res, err
	}
	for _, idDir := range ids {
		if err := c.sweep(ctx, idDir, "", true, &res); err != nil {
			return res, err
		}
	}
	sortInfos(res.Removed)
	sortInfos(res.InUse)
	return res, nil
}

// Cleanup removes what dead processes left, without waiting for anything
// and without touching an instance: half-made and half-removed instances,
// the temporary files of metadata writes, and id folders left empty. An
// id whose lock is held is skipped; its holder is alive.
func (c *Cache) Cleanup() (Result, error) {
	var res Result
	ids, err := c.idDirs()
	if err != nil {
		return res, err
	}
	var errs []error
	for _, idDir := range ids {
		errs = append(errs, c.sweep(context.Background(), idDir, "", false, &res))
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("cleaning up cache mounts: %w", err)
	}
	return res, nil
}

// sweep works on the id folder idDir under the id's lock: it removes
// the leftovers of dead processes; then, with removeInstances, every
// instance it can lock exclusively without waiting (reporting the others
// in use), waiting for the id's lock until ctx is done; or else, only
// trying the id's lock, the temporary files of the instances nobody
// holds; and last the id's folder if nothing is left in it. id, when
// known, names the instances whose metadata cannot be read.
func (c *Cache) sweep(ctx context.Context, idDir, id string, removeInstances bool, res *Result) error {
	var idLock *flock.Lock
	var err error
	if removeInstances {
		idLock, err = lockID(ctx, idDir, false)
	} else {
		idLock, err = tryLockID(idDir)
	}
	if err != nil || idLock == nil {
		return err
	}
	defer idLock.Unlock()
	names, err := unixfs.ReadDirNames(idDir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if strings.HasPrefix(name, newPrefix) || strings.HasPrefix(name, oldPrefix) {
			p := filepath.Join(idDir, name)
			size := diskusage.Size(p)
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("removing %s: %w", p, err)
			}
			res.Leftovers = append(res.Leftovers, p)
			res.Freed += size
		}
	}
	ns, err := instances(idDir)
	if err != nil {
		return err
	}
	left := len(ns)
	for _, n := range ns {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := instanceDir(idDir, n)
		lk, err := flock.TryAcquire(filepath.Join(dir, lockName), flock.Exclusive, lockPerm)
		if err != nil {
			return err
		}
		if !removeInstances {
			if lk != nil {
				err = removeTemps(dir, res)
				_ = lk.Unlock()
			}
			if err != nil {
				return err
			}
			continue
		}
		info, _ := describe(idDir, n)
		if info.ID == "" {
			info.ID = id
		}
		if lk == nil {
			info.InUse = true
			res.InUse = append(res.InUse, info)
			continue
		}
		err = removeInstance(idDir, dir)
		_ = lk.Unlock()
		if err != nil {
			return err
		}
		res.Removed = append(res.Removed, info)
		res.Freed += info.Size
		left--
	}
	if left == 0 {
		return removeIDDir(idDir)
	}
	return nil
}

// tryLockID is lockID without waiting: (nil, nil) when the lock is held
// or the folder gone.
func tryLockID(idDir string) (*flock.Lock, error) {
	path := filepath.Join(idDir, lockName)
	lk, err := flock.TryAcquire(path, flock.Exclusive, lockPerm)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil || lk == nil {
		return nil, err
	}
	if same, err := lk.Names(path); err != nil || !same {
		_ = lk.Unlock()
		return nil, err
	}
	return lk, nil
}

// removeInstance removes the instance folder dir of idDir, which its
// caller has locked: renamed to a .old- folder first, so that it never
// looks whole while half removed.
func removeInstance(idDir, dir string) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	old := filepath.Join(idDir, oldPrefix+hex.EncodeToString(b[:]))
	if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, old, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}

// removeTemps removes the temporary files of metadata writes in the
// instance folder dir, whose lock its caller holds.
func removeTemps(dir string, res *Result) error {
	names, err := unixfs.ReadDirNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if !atomicfile.IsTemp(name) {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p, err)
		}
		res.Leftovers = append(res.Leftovers, p)
	}
	return nil
}

// removeIDDir removes the id folder idDir when it holds nothing but its
// lock, which the caller holds: a waiter for the lock file removed sees
// that it is gone (flock's Names) and starts again.
func removeIDDir(idDir string) error {
	names, err := unixfs.ReadDirNames(idDir)
	if err != nil || len(names) != 1 || names[0] != lockName {
		return err
	}
	if err := os.Remove(filepath.Join(idDir, lockName)); err != nil {
		return fmt.Errorf("removing %s: %w", idDir, err)
	}
	// A new lock file may appear meanwhile; the folder then stays.
	if err := unix.Rmdir(idDir); err != nil && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("removing %s: %w", idDir, err)
	}
	return nil
}

// describe reads what Info says of instance n of idDir (but InUse).
func describe(idDir string, n int) (Info, error) {
	dir := instanceDir(idDir, n)
	info := Info{Instance: n, Dir: filepath.Join(dir, dataName)}
	if _, err := os.Lstat(dir); err != nil {
		return info, err
	}
	info.Size = diskusage.Size(info.Dir)
	m, err := readMeta(dir)
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%s: %w", filepath.Join(dir, metaName), errors.New("missing"))
	}
	if err != nil {
		return info, err
	}
	id, err := m.id()
	if err != nil {
		return info, fmt.Errorf("reading %s: %w", filepath.Join(dir, metaName), err)
	}
	if filepath.Base(idDir) != idHash(id) {
		return info, fmt.Errorf("%s: the id %q is not this folder's", filepath.Join(dir, metaName), id)
	}
	info.ID, info.Created, info.LastUsed = id, m.Created, m.LastUsed
	return info, nil
}

// idDirs lists the id folders, sorted.
func (c *Cache) idDirs() ([]string, error) {
	names, err := unixfs.ReadDirNames(c.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		if isIDDir(name) {
			out = append(out, filepath.Join(c.dir, name))
		}
	}
	sort.Strings(out)
	return out, nil
}

// sortInfos sorts by id, then instance.
func sortInfos(infos []Info) {
	sort.Slice(infos, func(i, j int) bool {
		if infos[i].ID != infos[j].ID {
			return infos[i].ID < infos[j].ID
		}
		return infos[i].Instance < infos[j].Instance
	})
}
