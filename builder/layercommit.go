package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A step's layer is stored in two parts. On the step loop, its change is
// written as an uncompressed tar into a spool file, which gives its diffID:
// all the next step needs, since the step's upper directory becomes the
// unpacked layer under that diffID. On the stage's inOrder queue, while
// the next steps run, the spool is compressed into the layer's blob, and
// then the step's cache entry is put, the step published done and its
// StepDone reported, in step order. Compression, most of the cost of a
// layer, overlaps the next step's command.

// maxUnstored bounds the layers of a stage still being stored: the step
// loop waits for the oldest before it spools one more.
const maxUnstored = 2

// layerCommit is a layer whose tar is spooled and whose blob is still to
// be stored.
type layerCommit struct {
	diffID digest.Digest
	size   int64    // of the tar
	spool  *os.File // the tar, until stored
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

// spoolLayer writes entries as the layer's uncompressed tar into a spool
// file of the store and returns the layer to be stored.
func (b *build) spoolLayer(entries []tarutil.Entry, clamp bool) (*layerCommit, error) {
	f, err := b.tools.Store.NewSpool()
	if err != nil {
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	opts := b.layerOptions(clamp)
	diffID, size, err := tarutil.WriteTar(f, entries, opts)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	return &layerCommit{diffID: diffID, size: size, spool: f, done: make(chan struct{})}, nil
}

// layerOptions are the build's layer options with the step's clamp.
func (b *build) layerOptions(clamp bool) tarutil.LayerOptions {
	opts := b.set.Layer
	opts.Epoch, opts.Clamp = b.set.Epoch, clamp
	return opts
}

// discard drops a layer that will not be stored; nil does nothing.
func (lc *layerCommit) discard() {
	if lc != nil && lc.spool != nil {
		_ = lc.spool.Close()
		lc.spool = nil
	}
}

// store compresses the spooled tar into the layer's blob, checking that
// the stream is the one hashed into the diffID, and closes the spool.
// Progress goes to r as step index's.
func (b *build) store(ctx context.Context, lc *layerCommit, clamp bool, r Reporter, index int) (ocispec.Descriptor, error) {
	defer lc.discard()
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	if _, err := lc.spool.Seek(0, io.SeekStart); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("writing layer: %w", err)
	}
	opts := b.layerOptions(clamp)
	mediaType, err := opts.Compression.MediaType()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	w, err := b.tools.Store.NewBlobWriter(mediaType)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	pw := &progressWriter{w: w, r: r, index: index, total: lc.size}
	l, err := tarutil.CompressLayer(pw, &ctxReader{ctx: ctx, r: lc.spool}, opts)
	if err == nil && (l.DiffID != lc.diffID || l.UncompressedSize != lc.size) {
		err = fmt.Errorf("the spooled tar changed: %s, %d bytes, was %s, %d bytes", l.DiffID, l.UncompressedSize, lc.diffID, lc.size)
	}
	if err != nil {
		_ = w.Cancel()
		return ocispec.Descriptor{}, fmt.Errorf("writing layer: %w", err)
	}
	desc, err := w.Commit(l.Digest, l.Size)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("storing layer: %w", err)
	}
	desc.MediaType = l.MediaType
	// The diffID came from the same bytes: no need to decompress on reuse.
	_ = b.tools.Store.MarkLayerVerified(desc, l.DiffID)
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
// the step done and reports StepDone, all in step order. Before it spools
// another layer beyond maxUnstored, the step loop waits (settle reports a
// failure).
func (b *build) finishStored(ctx context.Context, s *stage, r StepResult, began time.Time, entry cache.Entry, lc *layerCommit, clamp bool) {
	s.steps = append(s.steps, r)
	s.unstored = append(s.unstored, unstored{lc: lc, step: len(s.steps) - 1})
	pos, node, rep := s.position, s.node, b.tools.Reporter
	s.order.Go(func() {
		defer close(lc.done)
		desc, err := b.store(ctx, lc, clamp, rep, r.Index)
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

// finishNow finishes step r, which made no layer to store, in step order.
func (b *build) finishNow(s *stage, r StepResult, began time.Time) {
	s.steps = append(s.steps, r)
	pos, node, rep := s.position, s.node, b.tools.Reporter
	s.order.Do(func() {
		node.publishDone(pos)
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

// ctxReader reads r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
