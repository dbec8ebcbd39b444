package store

import (
	"fmt"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// reach is what the images of index.json need, as garbage collection and
// verification see it.
type reach struct {
	// blobs holds every blob some entry reaches: manifests, indexes,
	// configs, layers.
	blobs map[digest.Digest]ocispec.Descriptor
	// layers maps each layer blob to the diffID its image's config gives.
	layers map[digest.Digest]digest.Digest
	// diffIDs and chains are the layers' diffIDs and the chain IDs of
	// every prefix of every image's layers (native bases).
	diffIDs map[digest.Digest]bool
	chains  map[digest.Digest]bool
	// history holds the created-by text of the images' empty-layer steps.
	history map[string]bool
	// entries lists index.json's entries with what is wrong with each.
	entries []reachedEntry
}

// reachedEntry is one index.json entry and, if it cannot be walked, why.
type reachedEntry struct {
	desc ocispec.Descriptor
	// blobs are the blobs this entry reaches (as far as it could be walked).
	blobs []digest.Digest
	err   error
}

// name is the entry's ref name, or its digest when it has none.
func (e reachedEntry) name() string {
	if n := e.desc.Annotations[ocispec.AnnotationRefName]; n != "" {
		return n
	}
	return string(e.desc.Digest)
}

// reachImages walks every entry of index.json, reading and verifying each
// manifest, index and config (not the layers). An entry that cannot be
// walked keeps its error and what it reached up to then; only an
// unreadable index.json is an error.
func (s *Store) reachImages() (*reach, error) {
	idx, err := readIndex(s.layout.Index())
	if err != nil {
		return nil, err
	}
	r := &reach{
		blobs:   map[digest.Digest]ocispec.Descriptor{},
		layers:  map[digest.Digest]digest.Digest{},
		diffIDs: map[digest.Digest]bool{},
		chains:  map[digest.Digest]bool{},
		history: map[string]bool{},
	}
	for _, desc := range idx.Manifests {
		e := reachedEntry{desc: desc}
		e.err = s.reachDescriptor(r, &e, desc, 0)
		r.entries = append(r.entries, e)
	}
	return r, nil
}

// reachDescriptor adds desc and what it references to r and e.
func (s *Store) reachDescriptor(r *reach, e *reachedEntry, desc ocispec.Descriptor, depth int) error {
	if err := digestcheck.Validate(desc.Digest); err != nil {
		return err
	}
	if desc.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d", desc.Digest, desc.Size)
	}
	r.blobs[desc.Digest] = desc
	e.blobs = append(e.blobs, desc.Digest)
	switch {
	case isIndexType(desc.MediaType):
		if depth >= maxIndexDepth {
			return fmt.Errorf("index %s: nested more than %d deep", desc.Digest, maxIndexDepth)
		}
		var idx ocispec.Index
		if err := s.readJSONBlob(desc, &idx); err != nil {
			return err
		}
		for _, m := range idx.Manifests {
			if err := s.reachDescriptor(r, e, m, depth+1); err != nil {
				return err
			}
		}
		return nil
	case isManifestType(desc.MediaType):
		return s.reachManifest(r, e, desc)
	default:
		return fmt.Errorf("blob %s: media type %q is not an image manifest or index", desc.Digest, desc.MediaType)
	}
}

// reachManifest adds an image manifest's config and layers to r and e.
func (s *Store) reachManifest(r *reach, e *reachedEntry, desc ocispec.Descriptor) error {
	var m ocispec.Manifest
	if err := s.readJSONBlob(desc, &m); err != nil {
		return err
	}
	if m.SchemaVersion != 2 {
		return fmt.Errorf("manifest %s: schema version %d, want 2", desc.Digest, m.SchemaVersion)
	}
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if err := digestcheck.Validate(d.Digest); err != nil {
			return fmt.Errorf("manifest %s: %w", desc.Digest, err)
		}
		if d.Size < 0 {
			return fmt.Errorf("manifest %s: blob %s has negative size %d", desc.Digest, d.Digest, d.Size)
		}
		r.blobs[d.Digest] = d
		e.blobs = append(e.blobs, d.Digest)
	}
	var img ocispec.Image
	if err := s.readJSONBlob(m.Config, &img); err != nil {
		return fmt.Errorf("config of manifest %s: %w", desc.Digest, err)
	}
	if len(img.RootFS.DiffIDs) != len(m.Layers) {
		return fmt.Errorf("manifest %s: %d layers but its config lists %d diff_ids", desc.Digest, len(m.Layers), len(img.RootFS.DiffIDs))
	}
	for i, d := range img.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("config %s: diff_id %d: %w", m.Config.Digest, i, err)
		}
	}
	for i, l := range m.Layers {
		if prev, ok := r.layers[l.Digest]; ok && prev != img.RootFS.DiffIDs[i] {
			return fmt.Errorf("manifest %s: layer %s has diff_id %s here and %s in another image", desc.Digest, l.Digest, img.RootFS.DiffIDs[i], prev)
		}
		r.layers[l.Digest] = img.RootFS.DiffIDs[i]
		r.diffIDs[img.RootFS.DiffIDs[i]] = true
	}
	for _, c := range identity.ChainIDs(append([]digest.Digest(nil), img.RootFS.DiffIDs...)) {
		r.chains[c] = true
	}
	for _, h := range img.History {
		if h.EmptyLayer {
			r.history[h.CreatedBy] = true
		}
	}
	return nil
}
