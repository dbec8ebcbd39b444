package builder

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/snapshot"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// execute runs a step that missed the cache and records it in the cache.
// A step that fails records nothing, so the next build retries it.
//
// With r.Key unset, the plan's key is completed after the change
// (stepPlan.keyLater) and the entry carries it.
//
// A step whose layer was kept unpacked returns it still to be stored (a
// layerCommit; the entry has its diffID) and leaves the entry to be
// recorded once it is (see finishStored).
func (b *build) execute(ctx context.Context, s *stage, p *stepPlan, r StepResult) (cache.Entry, *layerCommit, error) {
	now := time.Now().UTC()
	e := cache.Entry{Key: r.Key, Parent: p.key.Parent, CreatedBy: p.createdBy, Created: now, LastUsed: now}
	if p.runs && b.tools.CanRun != nil {
		// Fail before preparing anything: another architecture's RUN
		// needs an emulator the kernel knows of.
		if err := b.tools.CanRun(s.platform); err != nil {
			return cache.Entry{}, nil, fmt.Errorf("RUN for %s: %w", platform.Format(s.platform), err)
		}
	}
	var lc *layerCommit
	if p.change != nil {
		ch, err := b.runChange(ctx, s, p)
		if err != nil {
			return cache.Entry{}, nil, err
		}
		lc, e.Layer, e.DiffID = ch.later, ch.layer, ch.diffID
	}
	if e.Key == "" {
		if err := p.keyLater(ctx); err != nil {
			return cache.Entry{}, nil, err
		}
		e.Key = p.key.Key()
	}
	if p.inputs != nil {
		e.Inputs = p.inputs()
	}
	if lc != nil {
		return e, lc, nil
	}
	if err := b.tools.Cache.Put(e); err != nil {
		return cache.Entry{}, nil, fmt.Errorf("recording cache entry: %w", err)
	}
	return e, nil, nil
}

// change is the layer a step's change made: stored (layer), or kept
// unpacked and still to be stored (later); neither when nothing changed.
type change struct {
	diffID digest.Digest
	layer  *ocispec.Descriptor
	later  *layerCommit
}

// runChange prepares a rootfs of the stage's layers and makes the step's
// change in it. When the snapshotter keeps the change as the unpacked
// layer, the layer is only hashed now and stored later, from the kept
// files; otherwise it is written now.
func (b *build) runChange(ctx context.Context, s *stage, p *stepPlan) (_ change, err error) {
	chain, err := b.chain(s)
	if err != nil {
		return change{}, err
	}
	m, err := b.tools.Snapshotter.Prepare(ctx, chain)
	if err != nil {
		return change{}, fmt.Errorf("preparing rootfs: %w", err)
	}
	defer func() {
		if rerr := m.Release(); rerr != nil && err == nil {
			err = fmt.Errorf("releasing rootfs: %w", rerr)
		}
	}()
	root, err := rootfs.Open(m.Root())
	if err != nil {
		return change{}, err
	}
	defer root.Close()
	if err := p.change(ctx, root); err != nil {
		return change{}, err
	}
	entries, err := m.Diff(ctx)
	if err != nil {
		return change{}, fmt.Errorf("computing the step's change: %w", err)
	}
	if len(entries) == 0 {
		return change{}, nil
	}
	// The step's upper directory becomes the unpacked layer, so the next
	// step does not unpack the blob (and the directory is not deleted
	// either).
	if k, ok := m.(snapshot.LayerKeeper); ok {
		diffID, err := b.hashLayer(entries, p.clamp)
		if err != nil {
			return change{}, err
		}
		_ = root.Close() // nothing may hold the mount while it is undone
		kept, err := k.KeepAsLayer(ctx, diffID, entries, snapshot.MTimes{Epoch: b.set.Epoch, Clamp: p.clamp})
		if err != nil {
			return change{}, fmt.Errorf("keeping the step's layer unpacked: %w", err)
		}
		if kept {
			lc := &layerCommit{diffID: diffID, entries: entries, clamp: p.clamp, done: make(chan struct{})}
			return change{diffID: diffID, later: lc}, nil
		}
	}
	desc, diffID, err := b.writeLayer(entries, p.clamp, s.rep, s.current)
	if err != nil {
		return change{}, err
	}
	return change{diffID: diffID, layer: &desc}, nil
}

// chain is the stage's layers as the snapshotter wants them: those
// stored, then those still being stored, whose blob a snapshotter that
// needs it waits for.
func (b *build) chain(s *stage) ([]snapshot.Layer, error) {
	stored := len(s.layers)
	chain, err := b.chainOf(s.layers, s.img.RootFS.DiffIDs[:stored])
	if err != nil {
		return nil, err
	}
	for i, u := range s.unstored {
		id := s.img.RootFS.DiffIDs[stored+i]
		more, err := snapshot.Chain([]ocispec.Descriptor{{}}, []digest.Digest{id}, u.lc.open(b.tools.Store.OpenDescriptor), b.set.MaxUnpackBytes)
		if err != nil {
			return nil, err
		}
		chain = append(chain, more...)
	}
	return chain, nil
}

// chainOf pairs layer blobs with their diffIDs for the snapshotter; each
// blob is verified against its descriptor as it is read.
func (b *build) chainOf(layers []ocispec.Descriptor, diffIDs []digest.Digest) ([]snapshot.Layer, error) {
	return snapshot.Chain(layers, diffIDs, b.tools.Store.OpenDescriptor, b.set.MaxUnpackBytes)
}

// commit writes the stage's image config and manifest into the store.
func (b *build) commit(s *stage) (*Result, error) {
	img := s.img
	epoch := b.set.Epoch.UTC()
	img.Created = &epoch
	img.Platform = s.platform
	if img.RootFS.DiffIDs == nil {
		img.RootFS.DiffIDs = []digest.Digest{}
	}
	cfg, err := b.tools.Store.WriteJSON(ocispec.MediaTypeImageConfig, img)
	if err != nil {
		return nil, fmt.Errorf("writing image config: %w", err)
	}
	layers := append([]ocispec.Descriptor{}, s.layers...)
	for i, l := range layers {
		// A pulled Docker v2 base keeps its bytes; an OCI manifest names
		// them with the OCI media type of the same format.
		if mt, ok := dockerLayerTypes[l.MediaType]; ok {
			layers[i].MediaType = mt
		}
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfg,
		Layers:    layers,
	}
	md, err := b.tools.Store.WriteJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		return nil, fmt.Errorf("writing manifest: %w", err)
	}
	p := s.platform
	md.Platform = &p
	return &Result{Manifest: md, Config: cfg, Image: img}, nil
}

// progressWriter reports compressed bytes written, at most every 4 MiB.
type progressWriter struct {
	w           io.Writer
	r           Reporter
	index       int
	total       int64 // uncompressed content bytes, for a rough scale
	done, shown int64
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.done-p.shown >= 4<<20 {
		p.shown = p.done
		p.r.Report(StepProgress{Index: p.index, Action: "compressing", Done: p.done, Total: p.total})
	}
	return n, err
}

// dockerLayerTypes maps Docker v2 layer media types to their OCI equals.
var dockerLayerTypes = map[string]string{
	"application/vnd.docker.image.rootfs.diff.tar.gzip": ocispec.MediaTypeImageLayerGzip,
	"application/vnd.docker.image.rootfs.diff.tar.zstd": ocispec.MediaTypeImageLayerZstd,
	"application/vnd.docker.image.rootfs.diff.tar":      ocispec.MediaTypeImageLayer,
}
