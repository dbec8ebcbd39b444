package session

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// errNoRegistry is what an operation that needs a registry client
// returns without one.
var errNoRegistry = errors.New("no registry client: the remote cache, pulls and pushes are off")

// importCaches reads the CacheFrom artifacts (their entries, not their
// layers) and makes them the build's remote cache and the store's
// fetcher. A cache that is not there yet (the first CI run) is a warning,
// not a failure.
func (s *session) importCaches(ctx context.Context) error {
	if len(s.set.CacheFrom) == 0 {
		return nil
	}
	if s.tools.Registry == nil {
		return errNoRegistry
	}
	var sources []*registry.CacheSource
	for _, loc := range s.set.CacheFrom {
		src, err := s.tools.Registry.ImportCache(ctx, loc)
		if err != nil {
			s.note(OpCache, loc.String(), "warning: %v", err)
			continue
		}
		mounts := ""
		if n := src.Mounts(); n > 0 {
			mounts = fmt.Sprintf(" and %d cache mounts", n)
		}
		s.note(OpCache, loc.String(), "cache: %d entries%s from %s (layers are downloaded only when needed)", src.Len(), mounts, loc)
		sources = append(sources, src)
	}
	if len(sources) == 0 {
		return nil
	}
	s.remote = registry.NewRemoteCache(ctx, func(p registry.Progress) { s.tools.Reporter.Report(CacheDownload{p}) }, sources...)
	s.tools.Store.SetFetcher(s.remote, s.remote.Descriptor)
	return nil
}

// exportCaches writes the CacheTo artifacts; those with Mounts carry the
// build's cache mounts too, snapshotted once for all of them.
func (s *session) exportCaches(ctx context.Context, res *builder.Result) error {
	if len(s.set.CacheTo) > 0 && s.tools.Registry == nil {
		return errNoRegistry
	}
	var mounts []registry.CacheMountRecord
	snapshotted := false
	for _, to := range s.set.CacheTo {
		mode := to.Mode
		if mode == "" {
			mode = CacheMin
		}
		records := s.cacheRecords(res, mode)
		var withMounts []registry.CacheMountRecord
		if to.Mounts {
			if !snapshotted {
				var err error
				if mounts, err = s.mountRecords(ctx, res); err != nil {
					return err
				}
				snapshotted = true
			}
			withMounts = mounts
		}
		desc, err := s.tools.Registry.ExportCache(ctx, s.tools.Store, records, withMounts, to.Location, s.transfers(OpCache, to.Location.String()))
		if err != nil {
			return err
		}
		text := fmt.Sprintf("cache: exported %d entries (mode=%s)", len(records), mode)
		if to.Mounts {
			text += fmt.Sprintf(" and %d cache mounts", len(withMounts))
		}
		s.note(OpCache, to.Location.String(), "%s to %s: %s", text, to.Location, desc.Digest)
	}
	return nil
}

// cacheRecords lists the cache entries an export in mode holds: with
// CacheMax those of every step built or reused; with CacheMin those of
// the stages the image's layers come from (Result.ImageStages). Entries
// whose layer is neither stored nor fetchable are left out.
func (s *session) cacheRecords(res *builder.Result, mode CacheMode) []registry.CacheRecord {
	inImage := map[string]bool{}
	for _, st := range res.ImageStages {
		inImage[st] = true
	}
	var out []registry.CacheRecord
	for _, st := range res.Steps {
		if st.Key == "" || (st.Cache != builder.CacheHit && st.Cache != builder.CacheMiss) {
			continue
		}
		if mode != CacheMax && !inImage[st.Stage] {
			continue
		}
		e, ok, err := s.tools.Cache.Get(st.Key)
		if err != nil || !ok || (e.Layer != nil && !s.tools.Store.CanGet(e.Layer.Digest)) {
			continue
		}
		out = append(out, registry.RecordOf(e))
	}
	return out
}

// materialize makes every blob of the image desc local, downloading
// through the store's fetcher what only it has, verified; for an image
// index, the blobs of each of its images.
func (s *session) materialize(desc ocispec.Descriptor) error {
	st := s.tools.Store
	return st.WalkImage(desc, func(ocispec.Descriptor) {}, func(_ ocispec.Descriptor, m ocispec.Manifest, _ ocispec.Image) error {
		for _, l := range m.Layers {
			if st.HasBlob(l.Digest) {
				continue
			}
			rc, err := st.OpenDescriptor(l)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("layer %s: %w", l.Digest, err)
			}
		}
		return nil
	})
}

// dropUnfetched removes the local cache entries this build took from an
// imported cache whose layers it never needed: without the layer here
// they would only make "cache verify" complain, and a later build with
// CacheFrom finds them again.
func (s *session) dropUnfetched(res *builder.Result) {
	if s.remote == nil {
		return
	}
	for _, st := range res.Steps {
		if st.Cache == builder.CacheHit && st.Layer != nil && !s.tools.Store.HasBlob(st.Layer.Digest) {
			_ = s.tools.Cache.Delete(st.Key)
		}
	}
}
