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
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// execute runs a step that missed the cache and records it in the cache.
// A step that fails records nothing, so the next build retries it.
//
// With r.Key unset, the plan's key is completed after the change
// (stepPlan.keyLater) and the entry carries it.
func (b *build) execute(ctx context.Context, s *stage, p *stepPlan, r StepResult) (cache.Entry, error) {
	now := time.Now().UTC()
	e := cache.Entry{Key: r.Key, Parent: p.key.Parent, CreatedBy: p.createdBy, Created: now, LastUsed: now}
	if p.runs && b.tools.CanRun != nil {
		// Fail before preparing anything: another architecture's RUN
		// needs an emulator the kernel knows of.
		if err := b.tools.CanRun(s.platform); err != nil {
			return cache.Entry{}, fmt.Errorf("RUN for %s: %w", platform.Format(s.platform), err)
		}
	}
	if p.change != nil {
		layer, diffID, err := b.runChange(ctx, s, p)
		if err != nil {
			return cache.Entry{}, err
		}
		e.Layer, e.DiffID = layer, diffID
	}
	if e.Key == "" {
		if err := p.keyLater(ctx); err != nil {
			return cache.Entry{}, err
		}
		e.Key = p.key.Key()
	}
	if p.inputs != nil {
		e.Inputs = p.inputs()
	}
	if err := b.tools.Cache.Put(e); err != nil {
		return cache.Entry{}, fmt.Errorf("recording cache entry: %w", err)
	}
	return e, nil
}

// runChange prepares a rootfs of the stage's layers, makes the step's
// change in it and writes what changed as a layer (nil when nothing did).
func (b *build) runChange(ctx context.Context, s *stage, p *stepPlan) (_ *ocispec.Descriptor, _ digest.Digest, err error) {
	chain, err := b.chain(s)
	if err != nil {
		return nil, "", err
	}
	m, err := b.tools.Snapshotter.Prepare(ctx, chain)
	if err != nil {
		return nil, "", fmt.Errorf("preparing rootfs: %w", err)
	}
	defer func() {
		if rerr := m.Release(); rerr != nil && err == nil {
			err = fmt.Errorf("releasing rootfs: %w", rerr)
		}
	}()
	root, err := rootfs.Open(m.Root())
	if err != nil {
		return nil, "", err
	}
	defer root.Close()
	if err := p.change(ctx, root); err != nil {
		return nil, "", err
	}
	entries, err := m.Diff(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("computing the step's change: %w", err)
	}
	if len(entries) == 0 {
		return nil, "", nil
	}
	desc, diffID, err := b.writeLayer(entries, p.clamp, s.current)
	if err != nil {
		return nil, "", err
	}
	// The step's upper directory becomes the unpacked layer, so the next
	// step does not unpack the blob just written (and the directory is not
	// deleted either).
	if k, ok := m.(snapshot.LayerKeeper); ok {
		_ = root.Close() // nothing may hold the mount while it is undone
		if _, err := k.KeepAsLayer(ctx, diffID, entries, snapshot.MTimes{Epoch: b.set.Epoch, Clamp: p.clamp}); err != nil {
			return nil, "", fmt.Errorf("keeping the step's layer unpacked: %w", err)
		}
	}
	return desc, diffID, nil
}

// writeLayer writes entries as a compressed layer blob into the store.
func (b *build) writeLayer(entries []tarutil.Entry, clamp bool, index int) (*ocispec.Descriptor, digest.Digest, error) {
	w, err := b.tools.Store.NewBlobWriter(ocispec.MediaTypeImageLayerGzip)
	if err != nil {
		return nil, "", err
	}
	opts := b.set.Layer
	opts.Epoch, opts.Clamp = b.set.Epoch, clamp
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	pw := &progressWriter{w: w, r: b.tools.Reporter, index: index, total: total}
	l, err := tarutil.WriteLayer(pw, entries, opts)
	if err != nil {
		_ = w.Cancel()
		return nil, "", fmt.Errorf("writing layer: %w", err)
	}
	desc, err := w.Commit(l.Digest, l.Size)
	if err != nil {
		return nil, "", fmt.Errorf("storing layer: %w", err)
	}
	desc.MediaType = l.MediaType
	// The diffID came from the same bytes: no need to decompress on reuse.
	_ = b.tools.Store.MarkLayerVerified(desc, l.DiffID)
	return &desc, l.DiffID, nil
}

// chain is the stage's layers as the snapshotter wants them.
func (b *build) chain(s *stage) ([]snapshot.Layer, error) {
	return b.chainOf(s.layers, s.img.RootFS.DiffIDs)
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
