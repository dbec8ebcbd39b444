package registry

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The cache artifact: an OCI image manifest whose artifactType is
// CacheArtifactType, whose config (media type CacheConfigMediaType) is a
// CacheConfig, and whose layers are the layer blobs the entries and the
// cache mounts name, sorted by digest, each once (the empty JSON
// descriptor when there are none).
const (
	// CacheArtifactType is the artifactType of a cache manifest.
	CacheArtifactType = "application/vnd.minibuild.cache.v1+json"
	// CacheConfigMediaType is the media type of its config blob.
	CacheConfigMediaType = "application/vnd.minibuild.cache.config.v1+json"
	// cacheSchemaVersion is the CacheConfig version this code writes and reads.
	cacheSchemaVersion = 1
)

// CacheRecord is one cached step: cache.Entry without local bookkeeping.
type CacheRecord struct {
	// Key is the step's cache key.
	Key digest.Digest `json:"key"`
	// Layer is the layer the step added; nil for metadata-only steps.
	Layer *ocispec.Descriptor `json:"layer,omitempty"`
	// DiffID is the digest of the uncompressed layer; set with Layer.
	DiffID digest.Digest `json:"diffID,omitempty"`
	// CreatedBy is the step's history text.
	CreatedBy string `json:"createdBy"`
	// Inputs records what went into Key, so another machine's miss can be
	// explained against this entry; absent in older artifacts.
	Inputs *cache.Inputs `json:"inputs,omitempty"`
}

// CacheConfig is the config blob of a cache artifact. Mounts is left
// out when empty, so an artifact without cache mounts is what it was
// before they existed, and readers that do not know them ignore them.
type CacheConfig struct {
	SchemaVersion int                `json:"schemaVersion"`
	Entries       []CacheRecord      `json:"entries"`
	Mounts        []CacheMountRecord `json:"mounts,omitempty"`
}

// RecordOf returns the record of a local cache entry.
func RecordOf(e cache.Entry) CacheRecord {
	r := CacheRecord{Key: e.Key, DiffID: e.DiffID, CreatedBy: e.CreatedBy, Inputs: e.Inputs}
	if e.Layer != nil {
		l := plain(*e.Layer)
		r.Layer = &l
	}
	return r
}

// entry returns the local cache entry of r.
func (r CacheRecord) entry() cache.Entry {
	e := cache.Entry{Key: r.Key, DiffID: r.DiffID, CreatedBy: r.CreatedBy, Inputs: r.Inputs}
	if r.Layer != nil {
		l := *r.Layer
		e.Layer = &l
	}
	return e
}

// validate checks the digests and the layer descriptor of r.
func (r CacheRecord) validate() error {
	if err := digestcheck.Validate(r.Key); err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if err := r.Inputs.Check(); err != nil {
		return fmt.Errorf("entry %s: %w", r.Key, err)
	}
	if r.Layer == nil {
		if r.DiffID != "" {
			return fmt.Errorf("entry %s: diffID without a layer", r.Key)
		}
		return nil
	}
	if err := digestcheck.Validate(r.Layer.Digest); err != nil {
		return fmt.Errorf("entry %s: layer: %w", r.Key, err)
	}
	if r.Layer.Size < 0 || r.Layer.MediaType == "" {
		return fmt.Errorf("entry %s: layer %s: invalid size or media type", r.Key, r.Layer.Digest)
	}
	if err := digestcheck.Validate(r.DiffID); err != nil {
		return fmt.Errorf("entry %s: diffID: %w", r.Key, err)
	}
	return nil
}

// plain keeps a descriptor's media type, digest and size only.
func plain(d ocispec.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}
}

// cacheArtifact is an encoded cache artifact: its manifest and the blobs
// that are not in the store (manifest, config, empty JSON).
type cacheArtifact struct {
	manifest ocispec.Descriptor
	mem      map[digest.Digest][]byte
}

// encodeCache builds the artifact of records, sorted by key, one per key,
// and of mounts, sorted by id, one per id. The encoding is deterministic:
// the same records and mounts give the same digest.
func encodeCache(records []CacheRecord, mounts []CacheMountRecord) (cacheArtifact, error) {
	byKey := map[digest.Digest]CacheRecord{}
	for _, r := range records {
		if err := r.validate(); err != nil {
			return cacheArtifact{}, err
		}
		byKey[r.Key] = r
	}
	sorted, err := sortedMounts(mounts)
	if err != nil {
		return cacheArtifact{}, err
	}
	cfg := CacheConfig{SchemaVersion: cacheSchemaVersion, Entries: []CacheRecord{}, Mounts: sorted}
	layers := map[digest.Digest]ocispec.Descriptor{}
	for _, r := range byKey {
		cfg.Entries = append(cfg.Entries, r)
		if r.Layer != nil {
			layers[r.Layer.Digest] = plain(*r.Layer)
		}
	}
	for _, m := range cfg.Mounts {
		layers[m.Layer.Digest] = m.Layer
	}
	sort.Slice(cfg.Entries, func(i, j int) bool { return cfg.Entries[i].Key < cfg.Entries[j].Key })
	art := cacheArtifact{mem: map[digest.Digest][]byte{}}
	cfgData, err := json.Marshal(cfg)
	if err != nil {
		return cacheArtifact{}, fmt.Errorf("encoding cache entries: %w", err)
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: CacheArtifactType,
		Config:       ocispec.Descriptor{MediaType: CacheConfigMediaType, Digest: digest.FromBytes(cfgData), Size: int64(len(cfgData))},
		Layers:       []ocispec.Descriptor{},
	}
	art.mem[m.Config.Digest] = cfgData
	for _, l := range layers {
		m.Layers = append(m.Layers, l)
	}
	sort.Slice(m.Layers, func(i, j int) bool { return m.Layers[i].Digest < m.Layers[j].Digest })
	if len(m.Layers) == 0 {
		m.Layers = append(m.Layers, ocispec.DescriptorEmptyJSON)
		art.mem[ocispec.DescriptorEmptyJSON.Digest] = ocispec.DescriptorEmptyJSON.Data
	}
	mData, err := json.Marshal(m)
	if err != nil {
		return cacheArtifact{}, fmt.Errorf("encoding cache manifest: %w", err)
	}
	art.manifest = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: CacheArtifactType,
		Digest: digest.FromBytes(mData), Size: int64(len(mData))}
	art.mem[art.manifest.Digest] = mData
	return art, nil
}

// decodeCacheManifest checks that data is a cache artifact's manifest and
// returns it.
func decodeCacheManifest(data []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decoding cache manifest: %w", err)
	}
	if m.SchemaVersion != 2 || m.Config.MediaType != CacheConfigMediaType {
		return m, fmt.Errorf("not a minibuild cache (artifact type %q, config media type %q)", m.ArtifactType, m.Config.MediaType)
	}
	if m.Config.Size > maxManifestBytes*4 {
		return m, fmt.Errorf("cache config of %d bytes is too large", m.Config.Size)
	}
	return m, nil
}

// decodeCacheConfig decodes the config blob and keeps the records and
// the cache mounts that are valid and whose layer the manifest lists (so
// the registry holds it); it returns how many it dropped.
func decodeCacheConfig(data []byte, m ocispec.Manifest) ([]CacheRecord, []CacheMountRecord, int, error) {
	var cfg CacheConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, nil, 0, fmt.Errorf("decoding cache entries: %w", err)
	}
	if cfg.SchemaVersion != cacheSchemaVersion {
		return nil, nil, 0, fmt.Errorf("cache schema version %d, want %d", cfg.SchemaVersion, cacheSchemaVersion)
	}
	listed := map[digest.Digest]ocispec.Descriptor{}
	for _, l := range m.Layers {
		listed[l.Digest] = plain(l)
	}
	var out []CacheRecord
	dropped := 0
	for _, r := range cfg.Entries {
		if r.validate() != nil {
			dropped++
			continue
		}
		if r.Layer != nil {
			if l, ok := listed[r.Layer.Digest]; !ok || l.Size != r.Layer.Size {
				dropped++
				continue
			}
			l := plain(*r.Layer)
			r.Layer = &l
		}
		out = append(out, r)
	}
	mounts, n := decodeMounts(cfg.Mounts, listed)
	return out, mounts, dropped + n, nil
}
