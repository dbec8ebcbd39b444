package maintenance

import (
	"context"
	"os"
	"strings"

	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Problem is one thing Verify found wrong in a root.
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
	// repairFailed is set when the repair was tried and failed.
	repairFailed bool

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

// Unrepaired counts the problems a repair did not fix: it failed, or
// there is no repair for them.
func (r VerifyResult) Unrepaired() int {
	n := 0
	for _, p := range r.Problems {
		if p.Repaired == "" || p.repairFailed {
			n++
		}
	}
	return n
}

// Verify checks the whole root of s: every blob is re-hashed against its name;
// every index.json entry's manifests, indexes and configs are read, and
// every blob they reach must be present and sound; every cache entry's
// layer blob must be present, sound, of the recorded size, and decompress
// to its diffID (as must every image layer); the unpacked layers and
// snapshot state must hold nothing half made by a dead build; and, when
// no other process uses the store, no partial write may be left. With
// opts.Repair it also removes what is bad (see VerifyOptions). The error
// is for failures to check; what is wrong goes in the result.
func Verify(ctx context.Context, s *store.Store, opts VerifyOptions) (VerifyResult, error) {
	v := &verifier{s: s, root: rootdir.At(s.Root()), bad: map[digest.Digest]string{}, sizes: map[digest.Digest]int64{}, claims: map[digest.Digest][]claim{}}
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
	s    *store.Store
	root rootdir.Layout
	res  VerifyResult
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
	paths, err := leftovers(v.root)
	if err != nil {
		v.add(Problem{Kind: "leftover", Path: v.root.Tmp(), Detail: err.Error()})
	}
	for _, p := range paths {
		v.add(Problem{Kind: "leftover", Path: p, Detail: "partial write left by a dead process",
			fix: func() error { return os.RemoveAll(p) }, action: "removed"})
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
			p.Repaired, p.repairFailed = "repair failed: "+err.Error(), true
			continue
		}
		p.Repaired = p.action
	}
	if len(v.badEntries) == 0 || v.unreadable {
		return
	}
	err := v.s.UntagEntries(v.badEntries)
	if err != nil {
		for i := range v.res.Problems {
			if p := &v.res.Problems[i]; p.Kind == "image" && p.Repaired == "untagged" {
				p.Repaired, p.repairFailed = "repair failed: "+err.Error(), true
			}
		}
	}
}
