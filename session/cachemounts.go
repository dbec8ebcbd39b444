package session

import (
	"context"

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
