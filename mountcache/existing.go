package mountcache

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/minibuild/minibuild/internal/flock"
)

// AcquireExisting leases, shared, the lowest-numbered instance of the
// cache id that no private or locked lease holds, making nothing: it
// returns (nil, nil) when the id has no instance, or when every one is
// held alone. It is for reading the directory (an export of its
// contents) without waiting for, or disturbing, the builds that use it;
// a shared lease held meanwhile by a running step may still be writing.
func (c *Cache) AcquireExisting(ctx context.Context, id string) (*Lease, error) {
	if id == "" {
		return nil, errors.New("a cache mount needs an id")
	}
	idDir := c.idDir(id)
	idLock, err := lockID(ctx, idDir, false)
	if err != nil {
		return nil, fmt.Errorf("acquiring cache mount %q: %w", id, err)
	}
	if idLock == nil {
		return nil, nil
	}
	defer idLock.Unlock()
	ns, err := instances(idDir)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		dir := instanceDir(idDir, n)
		lk, err := flock.TryAcquire(filepath.Join(dir, lockName), flock.Shared, lockPerm)
		if err != nil {
			return nil, fmt.Errorf("acquiring cache mount %q: %w", id, err)
		}
		if lk == nil {
			continue
		}
		if err := touch(dir, id, n, time.Now()); err != nil {
			_ = lk.Unlock()
			return nil, fmt.Errorf("acquiring cache mount %q: %w", id, err)
		}
		return &Lease{id: id, n: n, dir: dir, lock: lk}, nil
	}
	return nil, nil
}
