package maintenance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/diskusage"
	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/mountcache"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
)

// PruneOptions controls Prune.
type PruneOptions struct {
	// All removes every cache entry, also those the tagged images' steps
	// would hit, and every cache mount (as Mounts); the images themselves
	// and their blobs stay.
	All bool
	// Mounts removes the directories of RUN --mount=type=cache, but for
	// those a running build holds; without it (or All) they stay.
	Mounts bool
	// KeepStorage, when positive, removes entries least recently used
	// first only until the layer blobs that just the cache holds (no
	// tagged image uses them) fit in KeepStorage bytes.
	KeepStorage int64
	// Report, if set, is told of each removal as it happens.
	Report func(Removal)
}

// Removal is one thing Prune removed.
type Removal struct {
	// Kind is "cache entry", "blob", "unpacked layer", "native base",
	// "cache mount" or "leftover".
	Kind string
	// Digest is the cache key, blob digest, diffID or chain ID removed.
	Digest digest.Digest
	// What describes it: a cache entry's step, a cache mount's id, or a
	// path.
	What string
	// Bytes is the disk space it held, as far as known.
	Bytes int64
}

// String is the removal as one line: "removed KIND DIGEST: WHAT (SIZE)".
func (r Removal) String() string {
	line := "removed " + r.Kind
	if r.Digest != "" {
		line += " " + string(r.Digest)
	}
	if r.What != "" {
		line += ": " + textfmt.Clip(r.What, 100)
	}
	if r.Bytes > 0 {
		line += " (" + textfmt.Size(r.Bytes) + ")"
	}
	return line
}

// PruneResult sums up a Prune.
type PruneResult struct {
	Entries, Blobs, Unpacked, Bases, Leftovers int
	// Mounts counts the cache mount directories removed: instances, of
	// one id or several.
	Mounts int
	// MountsInUse are the cache mounts Mounts or All kept because a
	// running build held them.
	MountsInUse []mountcache.Info
	// Bytes is the disk space freed, as far as known.
	Bytes int64
}

// Prune removes build cache that no tagged image needs, then everything
// nothing needs any more, in the root of s, holding the store's Lock
// exclusively (it waits for running builds, which hold it shared, and
// builds wait for it):
//
//   - cache entries no tagged image needs: an entry is needed when its
//     layer is one of a tagged image's layers, or, for a step without a
//     layer, when its created-by text is an empty-layer step of a tagged
//     image's history (with All, no entry is needed); entries whose layer
//     blob is gone are always removed; with KeepStorage, least recently
//     used first and only until the rest fits;
//   - blobs neither a tagged image nor a remaining entry reaches;
//   - unpacked layers and native bases of no tagged image or remaining
//     entry;
//   - with Mounts or All, the cache mounts no running build holds (a
//     build that only holds a cache mount, without the store lock, keeps
//     it); and what dead builds left.
//
// A tagged image that cannot be read whole stops Prune before it removes
// anything, since what it needs cannot be known: Verify with Repair
// deals with it.
func Prune(ctx context.Context, s *store.Store, opts PruneOptions) (PruneResult, error) {
	unlock, err := s.Lock(ctx, true)
	if err != nil {
		return PruneResult{}, err
	}
	defer unlock()
	r, err := reachImages(s)
	if err != nil {
		return PruneResult{}, fmt.Errorf("pruning: %w (run minibuild cache verify --repair)", err)
	}
	for _, e := range r.entries {
		if e.err != nil {
			return PruneResult{}, fmt.Errorf("pruning: image %s: %w (run minibuild cache verify --repair)", e.name(), e.err)
		}
	}
	p := &pruner{s: s, root: rootdir.At(s.Root()), opts: opts, reach: r}
	if p.cache, err = cache.Open(p.root); err != nil {
		return PruneResult{}, err
	}
	steps := []func(context.Context) error{p.entries, p.blobs, p.unpacked, p.bases, p.mounts, p.leftovers}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return p.res, err
		}
		if err := step(ctx); err != nil {
			return p.res, err
		}
	}
	return p.res, nil
}

// pruner is the state of one Prune call.
type pruner struct {
	s     *store.Store
	root  rootdir.Layout
	opts  PruneOptions
	reach *reach
	cache *cache.Cache
	res   PruneResult
	// kept are the cache entries that stay.
	kept []cache.Entry
}

func (p *pruner) removed(r Removal) {
	p.res.Bytes += r.Bytes
	switch r.Kind {
	case "cache entry":
		p.res.Entries++
	case "blob":
		p.res.Blobs++
	case "unpacked layer":
		p.res.Unpacked++
	case "native base":
		p.res.Bases++
	case "cache mount":
		p.res.Mounts++
	default:
		p.res.Leftovers++
	}
	if p.opts.Report != nil {
		p.opts.Report(r)
	}
}

// needed reports whether a tagged image needs entry e.
func (p *pruner) needed(e cache.Entry) bool {
	if p.opts.All {
		return false
	}
	if e.Layer != nil {
		_, ok := p.reach.layers[e.Layer.Digest]
		return ok
	}
	return p.reach.history[e.CreatedBy]
}

// entries removes the cache entries to go.
func (p *pruner) entries(context.Context) error {
	entries, corrupt, temps, err := p.cache.Scan()
	if err != nil {
		return err
	}
	for _, ce := range corrupt {
		if err := p.cache.RemoveFile(ce.Path); err != nil {
			return err
		}
		p.removed(Removal{Kind: "cache entry", What: ce.Path + " (" + ce.Err.Error() + ")"})
	}
	for _, t := range temps {
		if err := p.cache.RemoveFile(t); err != nil {
			return err
		}
		p.removed(Removal{Kind: "leftover", What: t})
	}
	var candidates []cache.Entry
	for _, e := range entries {
		switch {
		case e.Layer != nil && !p.s.HasBlob(e.Layer.Digest):
			if err := p.deleteEntry(e); err != nil {
				return err
			}
		case p.needed(e):
			p.kept = append(p.kept, e)
		default:
			candidates = append(candidates, e)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		if !candidates[i].LastUsed.Equal(candidates[j].LastUsed) {
			return candidates[i].LastUsed.Before(candidates[j].LastUsed)
		}
		return candidates[i].Key < candidates[j].Key
	})
	// refs counts the entries holding each cache-only layer blob; storage
	// is the size of those blobs.
	refs := map[digest.Digest]int{}
	var storage int64
	for _, e := range append(append([]cache.Entry(nil), p.kept...), candidates...) {
		if e.Layer == nil {
			continue
		}
		if _, imaged := p.reach.blobs[e.Layer.Digest]; imaged {
			continue
		}
		if refs[e.Layer.Digest] == 0 {
			storage += e.Layer.Size
		}
		refs[e.Layer.Digest]++
	}
	for i, e := range candidates {
		if p.opts.KeepStorage > 0 && storage <= p.opts.KeepStorage {
			p.kept = append(p.kept, candidates[i:]...)
			break
		}
		if err := p.deleteEntry(e); err != nil {
			return err
		}
		if e.Layer != nil && refs[e.Layer.Digest] > 0 {
			if refs[e.Layer.Digest]--; refs[e.Layer.Digest] == 0 {
				storage -= e.Layer.Size
			}
		}
	}
	return nil
}

func (p *pruner) deleteEntry(e cache.Entry) error {
	if err := p.cache.Delete(e.Key); err != nil {
		return err
	}
	p.removed(Removal{Kind: "cache entry", Digest: e.Key, What: e.CreatedBy})
	return nil
}

// blobs removes every blob file no tagged image or kept entry reaches.
func (p *pruner) blobs(ctx context.Context) error {
	live := map[digest.Digest]bool{}
	for d := range p.reach.blobs {
		live[d] = true
	}
	for _, e := range p.kept {
		if e.Layer != nil {
			live[e.Layer.Digest] = true
		}
	}
	files, err := p.s.BlobFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.Digest != "" && f.Regular && live[f.Digest] {
			continue
		}
		if err := p.s.RemoveBlobFile(f.Name); err != nil {
			return err
		}
		p.removed(Removal{Kind: "blob", Digest: f.Digest, What: filepath.Join(p.root.Blobs(), f.Name), Bytes: f.Size})
	}
	// VerifyLayer's stamps of blobs that are gone go with them.
	return p.s.RemoveStaleStamps()
}

// unpacked removes the unpacked layers nothing needs, and half-unpacked
// ones, of both kinds of overlay mounts.
func (p *pruner) unpacked(ctx context.Context) error {
	for _, u := range snapshot.Unpackers(p.root.Layers()) {
		if err := p.unpackedBy(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// unpackedBy removes what unpacked removes of the layers u unpacked.
func (p *pruner) unpackedBy(ctx context.Context, u *snapshot.Unpacker) error {
	live := map[digest.Digest]bool{}
	for d := range p.reach.diffIDs {
		live[d] = true
	}
	for _, e := range p.kept {
		if e.Layer != nil {
			live[e.DiffID] = true
		}
	}
	ids, err := u.Unpacked()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if live[id] {
			continue
		}
		dir := u.Dir(id)
		size := diskusage.Size(dir)
		if err := u.Remove(ctx, id); err != nil {
			return err
		}
		p.removed(Removal{Kind: "unpacked layer", Digest: id, What: dir, Bytes: size})
	}
	issues, err := u.Check()
	if err != nil {
		return err
	}
	return p.fixIssues(issues)
}

// bases removes the native bases of no tagged image's chain.
func (p *pruner) bases(ctx context.Context) error {
	state := p.root.Snapshots()
	ids, err := snapshot.NativeBases(state)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if p.reach.chains[id] {
			continue
		}
		dir := snapshot.NativeBaseDir(state, id)
		size := diskusage.Size(dir)
		if err := snapshot.RemoveNativeBase(ctx, state, id); err != nil {
			return err
		}
		p.removed(Removal{Kind: "native base", Digest: id, What: dir, Bytes: size})
	}
	issues, err := snapshot.CheckState(state)
	if err != nil {
		return err
	}
	return p.fixIssues(issues)
}

// leftovers removes the partial writes of dead processes.
func (p *pruner) leftovers(context.Context) error {
	paths, err := leftovers(p.root)
	if err != nil {
		return err
	}
	if err := p.mountLeftovers(); err != nil {
		return err
	}
	for _, path := range paths {
		size := diskusage.Size(path)
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		p.removed(Removal{Kind: "leftover", What: path, Bytes: size})
	}
	return nil
}

func (p *pruner) fixIssues(issues []snapshot.Issue) error {
	for _, i := range issues {
		size := diskusage.Size(i.Path)
		if err := i.Fix(); err != nil {
			return err
		}
		p.removed(Removal{Kind: "leftover", What: i.String(), Bytes: size})
	}
	return nil
}
