package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A step's layer is stored in two parts. On the step loop, its change is
// hashed as the layer's uncompressed tar (tarutil.WriteTar to no writer),
// which gives its diffID: all the next step needs, since the step's upper
// directory then becomes the unpacked layer under that diffID. On the
// stage's inOrder queue, while the next steps run, the layer's blob is
// written from the files of that unpacked layer, which no build changes,
// and then the step's cache entry is put, the step published done and its
// StepDone reported, in step order. Compression, most of the cost of a
// layer, overlaps the next step's command; nothing is copied to be
// compressed later (a spool of the tar cost a first-touched page cache as
// much as compressing it on these machines).

// maxUnstored bounds the layers of a stage still being stored: the step
// loop waits for the oldest before it keeps one more.
const maxUnstored = 2

// layerCommit is a layer whose diffID is known and whose blob is still
// to be written, from entries.
type layerCommit struct {
	diffID  digest.Digest
	entries []tarutil.Entry
	clamp   bool
	// done is closed once the blob is stored and the entry put, or
	// either failed; then desc, or err, is set.
	done chan struct{}
	desc ocispec.Descriptor
	err  error
}

// unstored is a step of the stage whose layer is being stored, or a
// stored layer that follows one (step -1).
type unstored struct {
	lc   *layerCommit
	step int // its index in stage.steps
}

// addLayer appends a stored layer to the stage's layers: behind the
// layers still being stored, if there are any, to keep their order.
func (s *stage) addLayer(desc ocispec.Descriptor) {
	if len(s.unstored) == 0 {
		s.layers = append(s.layers, desc)
		return
	}
	lc := &layerCommit{desc: desc, done: make(chan struct{})}
	close(lc.done)
	s.unstored = append(s.unstored, unstored{lc: lc, step: -1})
}

// layerOptions are the build's layer options with the step's clamp.
func (b *build) layerOptions(clamp bool) tarutil.LayerOptions {
	opts := b.set.Layer
	opts.Epoch, opts.Clamp = b.set.Epoch, clamp
	return opts
}

// hashLayer returns the diffID of the layer of entries.
func (b *build) hashLayer(entries []tarutil.Entry, clamp bool) (digest.Digest, error) {
	diffID, _, err := tarutil.WriteTar(io.Discard, entries, b.layerOptions(clamp))
	if err != nil {
		return "", fmt.Errorf("writing layer: %w", err)
	}
	return diffID, nil
}

// writeLayer writes entries as a compressed layer blob into the store;
// progress goes to r as step index's.
func (b *build) writeLayer(entries []tarutil.Entry, clamp bool, r Reporter, index int) (ocispec.Descriptor, digest.Digest, error) {
	opts := b.layerOptions(clamp)
	mediaType, err := opts.Compression.MediaType()
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	w, err := b.tools.Store.NewBlobWriter(mediaType)
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	pw := &progressWriter{w: w, r: r, index: index, total: total}
	l, err := tarutil.WriteLayer(pw, entries, opts)
	if err != nil {
		_ = w.Cancel()
		return ocispec.Descriptor{}, "", fmt.Errorf("writing layer: %w", err)
	}
	desc, err := w.Commit(l.Digest, l.Size)
	if err != nil {
		return ocispec.Descriptor{}, "", fmt.Errorf("storing layer: %w", err)
	}
	desc.MediaType = l.MediaType
	// The diffID came from the same bytes: no need to decompress on reuse.
	_ = b.tools.Store.MarkLayerVerified(desc, l.DiffID)
	return desc, l.DiffID, nil
}

// store writes the layer's blob, checking that it is the layer hashed
// before.
func (b *build) store(ctx context.Context, lc *layerCommit, r Reporter, index int) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, diffID, err := b.writeLayer(lc.entries, lc.clamp, r, index)
	lc.entries = nil
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if diffID != lc.diffID {
		return ocispec.Descriptor{}, fmt.Errorf("writing layer: the kept layer %s changed: its files now make %s", lc.diffID, diffID)
	}
	return desc, nil
}

// open returns the blob opener of the layer for snapshot.Chain: it waits
// until the blob is stored and opens it with open.
func (lc *layerCommit) open(open snapshot.BlobOpener) snapshot.BlobOpener {
	return func(ocispec.Descriptor) (io.ReadCloser, error) {
		<-lc.done
		if lc.err != nil {
			return nil, lc.err
		}
		return open(lc.desc)
	}
}

// finishStored finishes step r, whose layer lc is still to be stored: on
// the stage's queue, it stores the blob, puts entry with it, publishes
// the step done and reports StepDone, all in step order. The step loop
// waits before a step beyond maxUnstored layers, and fails on a layer
// that failed (stage.failed, settle).
func (b *build) finishStored(ctx context.Context, s *stage, r StepResult, began time.Time, entry cache.Entry, lc *layerCommit) {
	s.steps = append(s.steps, r)
	s.unstored = append(s.unstored, unstored{lc: lc, step: len(s.steps) - 1})
	pos, node, rep := s.position, s.node, b.tools.Reporter
	s.order.Go(func() {
		defer close(lc.done)
		desc, err := b.store(ctx, lc, rep, r.Index)
		if err != nil {
			lc.err = err
			return
		}
		entry.Layer = &desc
		if err := b.tools.Cache.Put(entry); err != nil {
			lc.err = fmt.Errorf("recording cache entry: %w", err)
			return
		}
		lc.desc = desc
		node.publishDone(pos)
		r.Layer = &desc
		rep.Report(StepDone{Step: r, Duration: time.Since(began)})
	})
}

// settle waits until every layer of the stage is stored and moves them to
// stage.layers; it returns the first failure.
func (b *build) settle(s *stage) error {
	s.order.Wait()
	var errs []error
	for _, u := range s.unstored {
		if u.lc.err != nil {
			errs = append(errs, u.lc.err)
			continue
		}
		desc := u.lc.desc
		s.layers = append(s.layers, desc)
		if u.step >= 0 {
			s.steps[u.step].Layer = &desc
		}
	}
	s.unstored = nil
	return errors.Join(errs...)
}

// failed returns the failure of a layer of the stage already stored or
// given up, and waits for the oldest when maxUnstored are being stored.
func (s *stage) failed() error {
	if n := len(s.unstored); n >= maxUnstored {
		<-s.unstored[n-maxUnstored].lc.done
	}
	for _, u := range s.unstored {
		select {
		case <-u.lc.done:
			if u.lc.err != nil {
				return u.lc.err
			}
		default:
		}
	}
	return nil
}
