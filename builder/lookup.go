package builder

import (
	"context"

	"github.com/minibuild/minibuild/cache"
	digest "github.com/opencontainers/go-digest"
)

// sureMiss reports whether a step whose key chains on parent cannot hit,
// whatever else its key holds: the cache has no entry of that parent and
// no remote cache may have one. A dry run never executes, so it is never
// sure.
func (b *build) sureMiss(parent digest.Digest) bool {
	if b.set.DryRun || b.tools.RemoteCache != nil {
		return false
	}
	return b.set.NoCache || !b.tools.Cache.MayHaveChild(parent)
}

// lookup returns the cache entry for key when it can be reused: the entry
// exists (in the local cache, else in the remote one, which is then copied
// into the local cache), --no-cache is off, and its layer blob is in the
// store or fetchable (Store.CanGet).
func (b *build) lookup(ctx context.Context, key digest.Digest) (cache.Entry, bool, error) {
	if b.set.NoCache {
		return cache.Entry{}, false, nil
	}
	e, ok, err := b.tools.Cache.Get(key)
	if err != nil {
		b.warn(0, "cache entry %s unreadable, rebuilding: %v", key, err)
		ok = false
	}
	// A stored layer is reused without being read: check it first (a stat
	// for a blob checked before and unchanged since), and a layer that
	// passes is a hit at once. A stored one that fails is damaged: it is
	// dropped with its entry and rebuilt; the rebuild's commit replaces
	// the damaged file when it gives the same layer. One not stored may
	// still be fetchable.
	if ok && e.Layer != nil {
		err := b.tools.Store.VerifyLayer(*e.Layer, e.DiffID)
		if err == nil {
			return e, true, nil
		}
		if b.tools.Store.HasBlob(e.Layer.Digest) {
			b.warn(0, "cache entry %s: %v: rebuilding", key, err)
			if !b.set.DryRun {
				_ = b.tools.Cache.Delete(key)
			}
			ok = false
		}
	}
	if ok && (e.Layer == nil || b.tools.Store.CanGet(e.Layer.Digest)) {
		return e, true, nil
	}
	if b.tools.RemoteCache == nil {
		return cache.Entry{}, false, nil
	}
	if e, ok = b.tools.RemoteCache.Lookup(ctx, key); !ok || (e.Layer != nil && !b.tools.Store.CanGet(e.Layer.Digest)) {
		return cache.Entry{}, false, nil
	}
	if !b.set.DryRun {
		if err := b.tools.Cache.Put(e); err != nil {
			b.warn(0, "recording remote cache entry %s: %v", key, err)
		}
	}
	return e, true, nil
}
