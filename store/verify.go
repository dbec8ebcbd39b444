package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/snapshot"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Problem is one thing Verify found wrong in the store.
type Problem struct {
	// Kind is what is wrong: "blob", "index", "image", "cache entry",
	// "unpacked layer", "snapshot" or "leftover".
	Kind string
	// Path is the file or directory concerned.
	Path string
	// Digest is the blob, image or cache key concerned, when there is one.
	Digest digest.Digest
	// Detail says what is wrong.
	Detail string
	// Repaired says what a repair did about it; "" when nothing was done.
	Repaired string

	fix    func() error
	action string
}

// String renders the problem on one line: kind, digest, detail, path and,
// after a repair, what was done.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Kind)
	if p.Digest != "" {
		b.WriteString(" " + string(p.Digest))
	}
	b.WriteString(": " + p.Detail)
	if p.Path != "" {
		b.WriteString(" (" + p.Path + ")")
	}
	if p.Repaired != "" {
		b.WriteString(": " + p.Repaired)
	}
	return b.String()
}

// VerifyOptions controls Verify.
type VerifyOptions struct {
	// Repair removes what is bad so that the next build rebuilds it:
	// damaged or stray blobs, cache entries whose layer is missing or
	// wrong, index.json entries of images that cannot be read whole (an
	// unreadable index.json is kept as index.json.corrupt-*), and what dead
	// builds left. Verify then holds the store lock exclusively, waiting
	// for running builds.
	Repair bool
}

// VerifyResult is what Verify checked and found.
type VerifyResult struct {
	// Problems lists what is wrong, in the order found.
	Problems []Problem
	// Blobs and BlobBytes count the blobs re-hashed.
	Blobs     int
	BlobBytes int64
	// Images counts index.json's entries, Entries the cache entries and
	// Layers the distinct layer blobs decompressed against their diffIDs.
	Images, Entries, Layers int
	// Unreferenced counts blobs and unpacked layers that nothing needs:
	// not a problem, but what Prune would remove.
	UnreferencedBlobs    int
	UnreferencedBytes    int64
	UnreferencedUnpacked int
}

// Verify checks the whole store: every blob is re-hashed against its name;
// every index.json entry's manifests, indexes and configs are read, and
// every blob they reach must be present and sound; every cache entry's
// layer blob must be present, sound, of the recorded size, and decompress
// to its diffID (as must every image layer); the unpacked layers and
// snapshot state must hold nothing half made by a dead build; and, when
// no other process uses the store, no partial write may be left. With
// opts.Repair it also removes what is bad (see VerifyOptions). The error
// is for failures to check; what is wrong goes in the result.
func (s *Store) Verify(ctx context.Context, opts VerifyOptions) (VerifyResult, error) {
	v := &verifier{s: s, bad: map[digest.Digest]string{}, sizes: map[digest.Digest]int64{}, claims: map[digest.Digest][]claim{}}
	var unlock func()
	if opts.Repair {
		var err error
		if unlock, err = s.Lock(ctx, true); err != nil {
			return v.res, err
		}
		v.leftovers()
	} else {
		// Partial writes are only known dead when nobody else is here.
		alone, ok, err := s.TryLock(true)
		if err != nil {
			return v.res, err
		}
		if ok {
			v.leftovers()
			alone()
		}
		if unlock, err = s.Lock(ctx, false); err != nil {
			return v.res, err
		}
	}
	defer unlock()
	steps := []func(context.Context) error{v.blobs, v.images, v.cacheEntries, v.diffIDs, v.unpacked, v.snapshots}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return v.res, err
		}
		if err := step(ctx); err != nil {
			return v.res, err
		}
	}
	v.unreferenced()
	if opts.Repair {
		v.repair()
	}
	return v.res, nil
}

// verifier is the state of one Verify call.
type verifier struct {
	s   *Store
	res VerifyResult
	// bad holds the blobs that are missing or damaged, with why; sizes the
	// sound blobs' sizes.
	bad   map[digest.Digest]string
	sizes map[digest.Digest]int64
	// reach is what index.json's sound entries need; keys and diffIDs the
	// cache entries' layers and their diffIDs.
	reach   *reach
	keys    map[digest.Digest]bool
	cached  map[digest.Digest]bool
	cacheID map[digest.Digest]bool
	// claims maps layer blobs to the diffIDs images and entries say they
	// decompress to.
	claims map[digest.Digest][]claim
	// badEntries are index.json entries to untag; unreadable is set when
	// index.json itself cannot be read.
	badEntries []ocispec.Descriptor
	unreadable bool
}

// claim is one statement that a layer blob decompresses to diffID, by an
// image (entry) or a cache entry (key).
type claim struct {
	diffID digest.Digest
	entry  *ocispec.Descriptor
	key    digest.Digest
	path   string
}

func (v *verifier) add(p Problem) { v.res.Problems = append(v.res.Problems, p) }

// leftovers reports the partial writes of dead processes; the caller holds
// the exclusive lock.
func (v *verifier) leftovers() {
	paths, err := v.s.leftovers()
	if err != nil {
		v.add(Problem{Kind: "leftover", Path: v.s.layout.Tmp(), Detail: err.Error()})
	}
	for _, p := range paths {
		v.add(Problem{Kind: "leftover", Path: p, Detail: "partial write left by a dead process",
			fix: func() error { return os.RemoveAll(p) }, action: "removed"})
	}
}

// blobs re-hashes every blob file.
func (v *verifier) blobs(ctx context.Context) error {
	files, err := v.s.BlobFiles()
	if err != nil {
		return err
	}
	dir := v.s.layout.Blobs()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := f.Name
		remove := func() error { return v.s.removeBlobFile(name) }
		path := filepath.Join(dir, name)
		switch {
		case f.Digest == "":
			v.add(Problem{Kind: "blob", Path: path, Detail: "file name is not a sha256 digest", fix: remove, action: "removed"})
			continue
		case !f.Regular:
			v.bad[f.Digest] = "is not a regular file"
			v.add(Problem{Kind: "blob", Path: path, Digest: f.Digest, Detail: "not a regular file", fix: remove, action: "removed"})
			continue
		}
		v.res.Blobs++
		v.res.BlobBytes += f.Size
		if err := v.s.VerifyBlob(ocispec.Descriptor{Digest: f.Digest, Size: f.Size}); err != nil {
			v.bad[f.Digest] = "is damaged"
			v.add(Problem{Kind: "blob", Path: path, Digest: f.Digest, Detail: err.Error(), fix: remove, action: "removed"})
			continue
		}
		v.sizes[f.Digest] = f.Size
	}
	return nil
}

// state says what is wrong with blob d of the given size, or "".
func (v *verifier) state(d digest.Digest, size int64) string {
	if why, ok := v.bad[d]; ok {
		return "blob " + string(d) + " " + why
	}
	got, ok := v.sizes[d]
	switch {
	case !ok:
		return "blob " + string(d) + " is missing"
	case size >= 0 && got != size:
		return fmt.Sprintf("blob %s has %d bytes, the descriptor says %d", d, got, size)
	}
	return ""
}

// images walks index.json's entries.
func (v *verifier) images(context.Context) error {
	r, err := v.s.reachImages()
	if err != nil {
		v.unreadable = true
		v.reach = &reach{blobs: map[digest.Digest]ocispec.Descriptor{}, layers: map[digest.Digest]digest.Digest{},
			diffIDs: map[digest.Digest]bool{}, chains: map[digest.Digest]bool{}, history: map[string]bool{}}
		path := v.s.layout.Index()
		v.add(Problem{Kind: "index", Path: path, Detail: err.Error(), fix: v.s.resetIndex,
			action: "kept as " + filepath.Base(path) + ".corrupt-* and replaced by an empty index"})
		return nil
	}
	v.reach = r
	v.res.Images = len(r.entries)
	for i := range r.entries {
		e := &r.entries[i]
		detail := ""
		if e.err != nil {
			detail = e.err.Error()
		} else {
			for _, d := range e.blobs {
				if why := v.state(d, r.blobs[d].Size); why != "" {
					detail = why
					break
				}
			}
		}
		if detail == "" {
			for _, d := range e.blobs {
				if diffID, ok := r.layers[d]; ok {
					v.claims[d] = append(v.claims[d], claim{diffID: diffID, entry: &e.desc})
				}
			}
			continue
		}
		desc := e.desc
		v.add(Problem{Kind: "image", Path: v.s.layout.Index(), Digest: desc.Digest, Detail: e.name() + ": " + detail,
			fix: func() error { return v.untag(desc) }, action: "untagged"})
	}
	return nil
}

// untag queues desc's removal from index.json (done once, in repair).
func (v *verifier) untag(desc ocispec.Descriptor) error {
	v.badEntries = append(v.badEntries, desc)
	return nil
}

// cacheEntries checks every cache entry file and its layer blob.
func (v *verifier) cacheEntries(context.Context) error {
	c, err := cache.Open(v.s.layout)
	if err != nil {
		return err
	}
	entries, corrupt, _, err := c.Scan()
	if err != nil {
		return err
	}
	v.keys, v.cached, v.cacheID = map[digest.Digest]bool{}, map[digest.Digest]bool{}, map[digest.Digest]bool{}
	v.res.Entries = len(entries)
	for _, ce := range corrupt {
		path := ce.Path
		v.add(Problem{Kind: "cache entry", Path: path, Detail: ce.Err.Error(),
			fix: func() error { return c.RemoveFile(path) }, action: "removed"})
	}
	for _, e := range entries {
		v.keys[e.Key] = true
		if e.Layer == nil {
			continue
		}
		key := e.Key
		path, err := c.EntryPath(key)
		if err != nil {
			return err
		}
		if why := v.state(e.Layer.Digest, e.Layer.Size); why != "" {
			v.add(Problem{Kind: "cache entry", Path: path, Digest: key, Detail: "layer " + why,
				fix: func() error { return c.Delete(key) }, action: "removed"})
			continue
		}
		v.cached[e.Layer.Digest] = true
		v.cacheID[e.DiffID] = true
		v.claims[e.Layer.Digest] = append(v.claims[e.Layer.Digest], claim{diffID: e.DiffID, key: key, path: path})
	}
	return nil
}

// diffIDs decompresses every layer blob some image or entry relies on
// and checks it against the diffIDs they claim.
func (v *verifier) diffIDs(ctx context.Context) error {
	c, err := cache.Open(v.s.layout)
	if err != nil {
		return err
	}
	layers := make([]digest.Digest, 0, len(v.claims))
	for d := range v.claims {
		layers = append(layers, d)
	}
	sort.Slice(layers, func(i, j int) bool { return layers[i] < layers[j] })
	for _, d := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		v.res.Layers++
		got, derr := v.s.layerDiffID(d)
		for _, cl := range v.claims[d] {
			var detail string
			switch {
			case derr != nil:
				detail = fmt.Sprintf("layer %s cannot be decompressed: %v", d, derr)
			case got != cl.diffID:
				detail = fmt.Sprintf("layer %s decompresses to %s, not the diffID %s", d, got, cl.diffID)
			default:
				continue
			}
			if cl.entry != nil {
				desc := *cl.entry
				v.add(Problem{Kind: "image", Path: v.s.layout.Index(), Digest: desc.Digest,
					Detail: reachedEntry{desc: desc}.name() + ": " + detail,
					fix:    func() error { return v.untag(desc) }, action: "untagged"})
				continue
			}
			key := cl.key
			v.add(Problem{Kind: "cache entry", Path: cl.path, Digest: key, Detail: detail,
				fix: func() error { return c.Delete(key) }, action: "removed"})
		}
	}
	return nil
}

// unpacked checks the unpacked layers.
func (v *verifier) unpacked(context.Context) error {
	u := snapshot.NewUnpacker(v.s.layout.Layers())
	issues, err := u.Check()
	if err != nil {
		return err
	}
	for _, i := range issues {
		v.add(Problem{Kind: "unpacked layer", Path: i.Path, Detail: i.Problem, fix: i.Fix, action: "removed"})
	}
	ids, err := u.Unpacked()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !v.reach.diffIDs[id] && !v.cacheID[id] {
			v.res.UnreferencedUnpacked++
		}
	}
	return nil
}

// snapshots checks the snapshotters' state.
func (v *verifier) snapshots(context.Context) error {
	issues, err := snapshot.CheckState(v.s.layout.Snapshots())
	if err != nil {
		return err
	}
	for _, i := range issues {
		v.add(Problem{Kind: "snapshot", Path: i.Path, Detail: i.Problem, fix: i.Fix, action: "removed"})
	}
	return nil
}

// unreferenced counts the sound blobs nothing needs.
func (v *verifier) unreferenced() {
	for d, size := range v.sizes {
		if _, ok := v.reach.blobs[d]; !ok && !v.cached[d] {
			v.res.UnreferencedBlobs++
			v.res.UnreferencedBytes += size
		}
	}
}

// repair runs every problem's fix: blobs and files are removed, entries
// deleted, then the bad images untagged in one index.json update.
func (v *verifier) repair() {
	for i := range v.res.Problems {
		p := &v.res.Problems[i]
		if p.fix == nil {
			continue
		}
		if err := p.fix(); err != nil {
			p.Repaired = "repair failed: " + err.Error()
			continue
		}
		p.Repaired = p.action
	}
	if len(v.badEntries) == 0 || v.unreadable {
		return
	}
	err := v.s.updateIndex(func(idx *ocispec.Index) error {
		kept := idx.Manifests[:0:0]
		for _, m := range idx.Manifests {
			drop := false
			for _, b := range v.badEntries {
				if m.Digest == b.Digest && m.Annotations[ocispec.AnnotationRefName] == b.Annotations[ocispec.AnnotationRefName] {
					drop = true
				}
			}
			if !drop {
				kept = append(kept, m)
			}
		}
		idx.Manifests = kept
		return nil
	})
	if err != nil {
		for i := range v.res.Problems {
			if p := &v.res.Problems[i]; p.Kind == "image" && p.Repaired == "untagged" {
				p.Repaired = "repair failed: " + err.Error()
			}
		}
	}
}
