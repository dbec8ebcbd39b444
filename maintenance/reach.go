package maintenance

import (
	"fmt"

	"github.com/minibuild/minibuild/store"
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

func newReach() *reach {
	return &reach{
		blobs:   map[digest.Digest]ocispec.Descriptor{},
		layers:  map[digest.Digest]digest.Digest{},
		diffIDs: map[digest.Digest]bool{},
		chains:  map[digest.Digest]bool{},
		history: map[string]bool{},
	}
}

// reachImages walks every entry of index.json, reading and verifying each
// manifest, index and config (not the layers). An entry that cannot be
// walked keeps its error and what it reached up to then; only an
// unreadable index.json is an error.
func reachImages(s *store.Store) (*reach, error) {
	entries, err := s.IndexEntries()
	if err != nil {
		return nil, err
	}
	r := newReach()
	for _, desc := range entries {
		e := reachedEntry{desc: desc}
		blob := func(d ocispec.Descriptor) {
			r.blobs[d.Digest] = d
			e.blobs = append(e.blobs, d.Digest)
		}
		e.err = s.WalkImage(desc, blob, r.addImage)
		r.entries = append(r.entries, e)
	}
	return r, nil
}

// addImage adds the layers, chains and empty-layer steps of the image
// manifest desc (m, with config img) to r.
func (r *reach) addImage(desc ocispec.Descriptor, m ocispec.Manifest, img ocispec.Image) error {
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
