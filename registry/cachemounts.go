package registry

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxMountIDBytes bounds a cache mount id in an artifact, as PATH_MAX
// bounds the target it defaults to.
const maxMountIDBytes = 4096

// CacheMountRecord is the content of one RUN --mount=type=cache directory
// (--cache-to mounts=true): a layer blob of its tree, listed among the
// artifact's layers, that seeds the id's directory on a machine that has
// none.
type CacheMountRecord struct {
	// ID is the cache id as the Dockerfile resolves it (id=, by default
	// the target). Only unseeded caches (no from=, no source=) are kept.
	ID string `json:"id"`
	// Layer is the blob of the directory's tree.
	Layer ocispec.Descriptor `json:"layer"`
	// DiffID is the digest of the uncompressed tar.
	DiffID digest.Digest `json:"diffID"`
}

// validate checks the id, the digests and the layer descriptor of m.
func (m CacheMountRecord) validate() error {
	switch {
	case m.ID == "":
		return errors.New("cache mount: empty id")
	case len(m.ID) > maxMountIDBytes:
		return fmt.Errorf("cache mount: id of %d bytes is too long", len(m.ID))
	case !utf8.ValidString(m.ID) || strings.ContainsRune(m.ID, 0):
		return fmt.Errorf("cache mount %q: the id is not valid UTF-8 text", m.ID)
	}
	if err := digestcheck.Validate(m.Layer.Digest); err != nil {
		return fmt.Errorf("cache mount %q: layer: %w", m.ID, err)
	}
	if m.Layer.Size < 0 || m.Layer.MediaType == "" {
		return fmt.Errorf("cache mount %q: layer %s: invalid size or media type", m.ID, m.Layer.Digest)
	}
	if err := digestcheck.Validate(m.DiffID); err != nil {
		return fmt.Errorf("cache mount %q: diffID: %w", m.ID, err)
	}
	return nil
}

// sortedMounts validates mounts and returns them sorted by id, one per
// id (the last one given wins), their layers plain; nil when there are
// none, so that an artifact without mounts encodes as before.
func sortedMounts(mounts []CacheMountRecord) ([]CacheMountRecord, error) {
	byID := map[string]CacheMountRecord{}
	for _, m := range mounts {
		if err := m.validate(); err != nil {
			return nil, err
		}
		m.Layer = plain(m.Layer)
		byID[m.ID] = m
	}
	var out []CacheMountRecord
	for _, m := range byID {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// decodeMounts keeps the mount records that are valid, the first of each
// id, and whose layer the manifest lists with the same size; it returns
// how many it dropped.
func decodeMounts(mounts []CacheMountRecord, listed map[digest.Digest]ocispec.Descriptor) ([]CacheMountRecord, int) {
	var out []CacheMountRecord
	seen := map[string]bool{}
	dropped := 0
	for _, m := range mounts {
		l, ok := listed[m.Layer.Digest]
		if m.validate() != nil || seen[m.ID] || !ok || l.Size != m.Layer.Size {
			dropped++
			continue
		}
		seen[m.ID] = true
		m.Layer = plain(m.Layer)
		out = append(out, m)
	}
	return out, dropped
}

// Mount returns the record of the cache mount id, when the source holds
// one.
func (cs *CacheSource) Mount(id string) (CacheMountRecord, bool) {
	m, ok := cs.mounts[id]
	return m, ok
}

// Mounts returns how many cache mount records the source holds.
func (cs *CacheSource) Mounts() int { return len(cs.mounts) }

// Mount returns the record of the cache mount id from the first source
// that holds one.
func (rc *RemoteCache) Mount(id string) (CacheMountRecord, bool) {
	for _, s := range rc.sources {
		if m, ok := s.Mount(id); ok {
			return m, true
		}
	}
	return CacheMountRecord{}, false
}
