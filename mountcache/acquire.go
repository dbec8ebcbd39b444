package mountcache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// Lease is the use of one instance of a cache id, from Acquire until
// Release: while it lasts, Remove and Prune leave the instance alone.
type Lease struct {
	id   string
	n    int
	dir  string // the instance folder
	lock *flock.Lock
	once sync.Once
	err  error
}

// Dir is the directory to bind at the mount's target.
func (l *Lease) Dir() string { return filepath.Join(l.dir, dataName) }

// Instance is the number of the instance leased: 0 unless a private or
// locked lease held it, or a shared one could not join it.
func (l *Lease) Instance() int { return l.n }

// Release records the instance's last use and lets others have it. It is
// safe to call more than once; later calls return what the first did.
func (l *Lease) Release() error {
	l.once.Do(func() {
		err := touch(l.dir, l.id, l.n, time.Now())
		l.err = errors.Join(err, l.lock.Unlock())
		if l.err != nil {
			l.err = fmt.Errorf("releasing cache mount %q: %w", l.id, l.err)
		}
	})
	return l.err
}

// Acquire leases a directory of the cache id o.ID as o.Sharing says,
// making it (with o.Mode, o.UID, o.GID and o.Seed) if the id has none
// that fits. A Locked lease waits until an instance is free, or ctx is
// done. The lease holds its instance's lock, shared or exclusive, until
// Release; Acquire and Release both set the instance's last use.
func (c *Cache) Acquire(ctx context.Context, o Options) (*Lease, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	delay := time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("acquiring cache mount %q: %w", o.ID, err)
		}
		l, err := c.tryAcquire(ctx, o)
		if err != nil || l != nil {
			return l, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for cache mount %q: %w", o.ID, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, maxPoll)
	}
}

// normalize checks o and fills in its defaults.
func (o Options) normalize() (Options, error) {
	switch {
	case o.ID == "":
		return o, errors.New("a cache mount needs an id")
	case o.UID < 0 || o.GID < 0:
		return o, fmt.Errorf("cache mount %q: negative uid or gid %d:%d", o.ID, o.UID, o.GID)
	}
	switch o.Sharing {
	case "":
		o.Sharing = Shared
	case Shared, Private, Locked:
	default:
		return o, fmt.Errorf("cache mount %q: unknown sharing %q: want shared, private or locked", o.ID, o.Sharing)
	}
	o.Mode &= os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky
	if o.Mode == 0 {
		o.Mode = defaultDir
	}
	return o, nil
}

// tryAcquire leases an instance under the id's lock: the first existing
// one whose lock it takes without waiting, else a new one. It returns
// (nil, nil) to a Locked lease that must wait.
func (c *Cache) tryAcquire(ctx context.Context, o Options) (*Lease, error) {
	idDir := c.idDir(o.ID)
	idLock, err := lockID(ctx, idDir, true)
	if err != nil {
		return nil, fmt.Errorf("acquiring cache mount %q: %w", o.ID, err)
	}
	defer idLock.Unlock()
	mode := flock.Exclusive
	if o.Sharing == Shared {
		mode = flock.Shared
	}
	ns, err := instances(idDir)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		dir := instanceDir(idDir, n)
		lk, err := flock.TryAcquire(filepath.Join(dir, lockName), mode, lockPerm)
		if err != nil {
			return nil, fmt.Errorf("acquiring cache mount %q: %w", o.ID, err)
		}
		if lk == nil {
			continue
		}
		if err := touch(dir, o.ID, n, time.Now()); err != nil {
			_ = lk.Unlock()
			return nil, fmt.Errorf("acquiring cache mount %q: %w", o.ID, err)
		}
		return &Lease{id: o.ID, n: n, dir: dir, lock: lk}, nil
	}
	if o.Sharing == Locked && len(ns) > 0 {
		return nil, nil
	}
	return create(idDir, lowestFree(ns), o, mode)
}

// lockID takes the exclusive lock of the id folder idDir, making the
// folder first when create is set. Without create, a missing folder gives
// (nil, nil). A lock file its remover deleted while this waited for it is
// let go, and the wait starts again.
func lockID(ctx context.Context, idDir string, create bool) (*flock.Lock, error) {
	path := filepath.Join(idDir, lockName)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if create {
			err := os.MkdirAll(idDir, dirPerm)
			if errors.Is(err, fs.ErrExist) {
				continue // made by another and removed again, meanwhile
			}
			if err != nil {
				return nil, err
			}
		}
		lk, err := flock.Acquire(ctx, path, flock.Exclusive, lockPerm)
		switch {
		case errors.Is(err, fs.ErrNotExist) && create:
			continue // removed between MkdirAll and the open
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil
		case err != nil:
			return nil, err
		}
		same, err := lk.Names(path)
		if err == nil && same {
			return lk, nil
		}
		_ = lk.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// instances lists the instance numbers in idDir, in increasing order.
func instances(idDir string) ([]int, error) {
	names, err := unixfs.ReadDirNames(idDir)
	if err != nil {
		return nil, err
	}
	var ns []int
	for _, name := range names {
		if n, ok := instanceNumber(name); ok {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns, nil
}

// lowestFree is the smallest instance number not in the sorted ns.
func lowestFree(ns []int) int {
	free := 0
	for _, n := range ns {
		if n != free {
			break
		}
		free++
	}
	return free
}

// create makes instance n in idDir, holding the id's lock: it builds the
// instance in a .new- folder (its lock taken, the data directory made and
// seeded, the metadata written) and renames it to n, so that an instance
// is either whole or absent. It returns a lease of mode on it.
func create(idDir string, n int, o Options, mode flock.Mode) (l *Lease, err error) {
	tmp, err := os.MkdirTemp(idDir, newPrefix)
	if err != nil {
		return nil, fmt.Errorf("making cache mount %q: %w", o.ID, err)
	}
	lk, err := flock.TryCreate(filepath.Join(tmp, lockName), lockPerm)
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("making cache mount %q: %w", o.ID, err)
	}
	defer func() {
		if err != nil {
			_ = lk.Unlock()
			_ = os.RemoveAll(tmp)
			err = fmt.Errorf("making cache mount %q: %w", o.ID, err)
		}
	}()
	data := filepath.Join(tmp, dataName)
	if err := makeData(data, o); err != nil {
		return nil, err
	}
	if o.Seed != nil {
		if err := o.Seed(data); err != nil {
			return nil, fmt.Errorf("seeding: %w", err)
		}
	}
	if err := newMeta(o.ID, n, time.Now()).write(tmp); err != nil {
		return nil, err
	}
	dir := instanceDir(idDir, n)
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_NOREPLACE); err != nil {
		return nil, fmt.Errorf("renaming %s to %s: %w", tmp, dir, err)
	}
	tmp = dir // from here on, a failure removes the instance itself
	if err := atomicfile.SyncDir(idDir); err != nil {
		return nil, err
	}
	if mode == flock.Shared {
		// Nobody else takes an instance lock without the id's lock, which
		// this holds: the exclusive lock becomes a shared one unseen.
		_ = lk.Unlock()
		shared, err := flock.TryExisting(filepath.Join(dir, lockName), flock.Shared)
		if err == nil && shared == nil {
			err = errors.New("the new instance's lock was taken")
		}
		if err != nil {
			return nil, err
		}
		lk = shared
	}
	return &Lease{id: o.ID, n: n, dir: dir, lock: lk}, nil
}

// makeData makes the data directory of a new instance, owned by o.UID and
// o.GID, with o.Mode.
func makeData(data string, o Options) error {
	if err := os.Mkdir(data, dirPerm); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(data, &st); err != nil {
		return fmt.Errorf("stat %s: %w", data, err)
	}
	if int(st.Uid) != o.UID || int(st.Gid) != o.GID {
		if err := os.Lchown(data, o.UID, o.GID); err != nil {
			return fmt.Errorf("owning the directory by %d:%d: %w", o.UID, o.GID, idmap.UnmappedError(err, o.UID, o.GID))
		}
	}
	// After the chown, which may clear setuid and setgid bits.
	return os.Chmod(data, o.Mode)
}
