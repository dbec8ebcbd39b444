package session

import (
	"context"
	"errors"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/mountcache"
)

// CacheMounts returns the cache mount directories of the root, as the
// builder leases them.
func (r Root) CacheMounts() builder.CacheMounts {
	return cacheMounts{mountcache.Open(r.Layout)}
}

// cacheMounts leases mountcache directories to the builder.
type cacheMounts struct{ c *mountcache.Cache }

var _ builder.CacheMounts = cacheMounts{}

// Acquire leases the directory r asks for.
func (m cacheMounts) Acquire(ctx context.Context, r builder.CacheMountRequest) (string, func() error, error) {
	o := mountcache.Options{ID: r.ID, Sharing: mountcache.Sharing(r.Sharing), Mode: r.Mode, UID: r.UID, GID: r.GID}
	if r.Seed != nil {
		o.Seed = func(dir string) error { return r.Seed(ctx, dir) }
	}
	l, err := m.c.Acquire(ctx, o)
	if err != nil {
		return "", nil, err
	}
	return l.Dir(), l.Release, nil
}

// cacheMountReader is what a Tools.CacheMounts offers, beside leases, for
// --cache-to mounts=true to read a cache id's directory (Root.CacheMounts
// does).
type cacheMountReader interface {
	// ReadCacheMount calls read with the directory of an existing
	// instance of the cache id, leased shared meanwhile; found is false
	// when the id has none that is not held alone. It makes nothing.
	ReadCacheMount(ctx context.Context, id string, read func(dir string) error) (found bool, err error)
}

var _ cacheMountReader = cacheMounts{}

// ReadCacheMount reads the lowest instance of id that a shared lease can
// join (mountcache.Cache.AcquireExisting): a build that writes to it
// meanwhile, sharing it, may be seen mid-write.
func (m cacheMounts) ReadCacheMount(ctx context.Context, id string, read func(dir string) error) (bool, error) {
	l, err := m.c.AcquireExisting(ctx, id)
	if err != nil || l == nil {
		return false, err
	}
	err = read(l.Dir())
	return true, errors.Join(err, l.Release())
}
