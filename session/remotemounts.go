package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/tarutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The remote cache carries cache mounts (--cache-to mounts=true) as
// layer blobs of their trees, and --cache-from seeds a cache id's
// directory from one when the directory is made new, so CI machines that
// start empty keep their package caches. Only unseeded caches take part:
// a cache with from= or source= is another directory per seed (the
// builder folds the seed into the id it leases), seeded by the build.

// cacheMountsFor is the builder's CacheMounts: Tools.CacheMounts, whose
// new directories an imported cache seeds when it holds their id.
func (s *session) cacheMountsFor() builder.CacheMounts {
	if s.tools.CacheMounts == nil || s.remote == nil {
		return s.tools.CacheMounts
	}
	return remoteSeeded{CacheMounts: s.tools.CacheMounts, s: s}
}

// remoteSeeded gives a cache mount request without a seed of its own the
// seed an imported cache holds for its id. The seed runs only when the
// directory is made new, so the blob is downloaded only then.
type remoteSeeded struct {
	builder.CacheMounts
	s *session
}

var _ builder.CacheMounts = remoteSeeded{}

// Acquire leases the directory r asks for, seeded from an imported cache
// if it is new.
func (m remoteSeeded) Acquire(ctx context.Context, r builder.CacheMountRequest) (string, func() error, error) {
	if r.Seed == nil {
		if rec, ok := m.s.remote.Mount(r.ID); ok {
			r.Seed = func(ctx context.Context, dir string) error { return m.s.seedMount(ctx, rec, dir) }
		}
	}
	return m.CacheMounts.Acquire(ctx, r)
}

// seedMount extracts the tree rec holds into dir, a new cache directory,
// confined to it. The blob comes from the store when it is there, else
// from the imported cache (not kept in the store: the directory is its
// copy); its digest, size and diffID are checked to the end, and a
// mismatch fails the seed, so that the new directory is thrown away.
func (s *session) seedMount(ctx context.Context, rec registry.CacheMountRecord, dir string) error {
	var rc io.ReadCloser
	var err error
	if s.tools.Store.HasBlob(rec.Layer.Digest) {
		rc, err = s.tools.Store.OpenDescriptor(rec.Layer)
	} else {
		s.note(OpCache, rec.ID, "cache: seeding cache mount %s from the imported cache (%d bytes)", rec.ID, rec.Layer.Size)
		rc, err = s.remote.Fetch(ctx, rec.Layer)
	}
	if err != nil {
		return fmt.Errorf("seeding from the imported cache: %w", err)
	}
	defer rc.Close()
	if err := applyVerified(ctx, rc, rec, dir, s.set.Build.MaxUnpackBytes); err != nil {
		return fmt.Errorf("seeding from the imported cache: %w", err)
	}
	return nil
}

// applyVerified extracts the layer blob r into dir and checks the blob
// against rec's layer descriptor and its tar against rec's diffID.
func applyVerified(ctx context.Context, r io.Reader, rec registry.CacheMountRecord, dir string, maxBytes int64) error {
	blob := rec.Layer.Digest.Verifier()
	counted := &countingReader{r: io.TeeReader(io.LimitReader(r, rec.Layer.Size+1), blob)}
	dr, err := tarutil.Decompress(counted)
	if err != nil {
		return err
	}
	defer dr.Close()
	diff := rec.DiffID.Verifier()
	tr := io.TeeReader(dr, diff)
	opts := tarutil.ApplyOptions{LayerName: "cache mount " + rec.ID, NoChown: os.Geteuid() != 0, MaxBytes: maxBytes}
	if _, err := tarutil.Apply(ctx, dir, tr, opts); err != nil {
		return err
	}
	// The tar's end (padding) and the compressor's, past what Apply read.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return err
	}
	if counted.n != rec.Layer.Size || !blob.Verified() {
		return fmt.Errorf("layer %s: content does not match its digest and size", rec.Layer.Digest)
	}
	if !diff.Verified() {
		return fmt.Errorf("layer %s: uncompressed content does not match diffID %s", rec.Layer.Digest, rec.DiffID)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// cacheMountIDs returns the ids of the unseeded cache mounts of the
// build's steps, sorted, each once.
func cacheMountIDs(res *builder.Result) []string {
	seen := map[string]bool{}
	var ids []string
	for _, st := range res.Steps {
		for _, m := range st.Mounts {
			if m.Type != dockerfile.MountCache || m.From != "" || m.Source != "" || m.ID == "" || seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			ids = append(ids, m.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// mountRecords snapshots the directory of each unseeded cache id the
// build's steps mount into a layer blob in the store. An id without a
// directory here (its steps hit the cache, or another build holds it
// alone) keeps the record of an imported cache when there is one.
func (s *session) mountRecords(ctx context.Context, res *builder.Result) ([]registry.CacheMountRecord, error) {
	ids := cacheMountIDs(res)
	if len(ids) == 0 {
		return nil, nil
	}
	reader, ok := s.tools.CacheMounts.(cacheMountReader)
	if !ok && s.tools.CacheMounts != nil {
		return nil, errors.New("exporting cache mounts: the cache mount store cannot be read")
	}
	var out []registry.CacheMountRecord
	for _, id := range ids {
		var rec registry.CacheMountRecord
		found := false
		if reader != nil {
			var err error
			found, err = reader.ReadCacheMount(ctx, id, func(dir string) error {
				var err error
				rec, err = s.snapshotMount(id, dir)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("exporting cache mount %s: %w", id, err)
			}
		}
		if !found && s.remote != nil {
			if rec, found = s.remote.Mount(id); found && !s.tools.Store.CanGet(rec.Layer.Digest) {
				found = false
			}
		}
		if !found {
			s.note(OpCache, id, "cache: cache mount %s has no directory here (or another build holds it alone): not exported", id)
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

// snapshotMount writes the tree of dir, the directory of cache id, as a
// layer blob into the store, as layers are written: entries sorted,
// owners, modes and xattrs kept, mtimes clamped to the build's epoch, so
// the same tree gives the same blob. dir itself is not an entry: a seeded
// directory keeps the mode and owner its mount asks for.
func (s *session) snapshotMount(id, dir string) (registry.CacheMountRecord, error) {
	entries, err := tarutil.DirEntries(dir, "")
	if err != nil {
		return registry.CacheMountRecord{}, err
	}
	opts := s.set.Build.Layer
	opts.Epoch, opts.Clamp = s.set.Build.Epoch, true
	mediaType, err := opts.Compression.MediaType()
	if err != nil {
		return registry.CacheMountRecord{}, err
	}
	w, err := s.tools.Store.NewBlobWriter(mediaType)
	if err != nil {
		return registry.CacheMountRecord{}, err
	}
	l, err := tarutil.WriteLayer(w, entries, opts)
	if err != nil {
		_ = w.Cancel()
		return registry.CacheMountRecord{}, fmt.Errorf("writing layer: %w", err)
	}
	desc, err := w.Commit(l.Digest, l.Size)
	if err != nil {
		return registry.CacheMountRecord{}, fmt.Errorf("storing layer: %w", err)
	}
	desc = ocispec.Descriptor{MediaType: l.MediaType, Digest: desc.Digest, Size: desc.Size}
	_ = s.tools.Store.MarkLayerVerified(desc, l.DiffID)
	return registry.CacheMountRecord{ID: id, Layer: desc, DiffID: l.DiffID}, nil
}
