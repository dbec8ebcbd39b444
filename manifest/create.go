package manifest

import (
	"fmt"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxDepth bounds the nesting of the indexes Entries flattens.
const maxDepth = 4

// Entry returns the descriptor an image index lists for the image
// manifest desc of s, exactly as a multi-platform build writes it: the
// manifest's media type, digest and size, and the platform its config
// names (os, architecture and variant, normalized as --platform is), no
// annotations. The manifest and its config are read and verified.
func Entry(s *store.Store, desc ocispec.Descriptor) (ocispec.Descriptor, error) {
	_, img, err := s.Manifest(desc)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if img.OS == "" || img.Architecture == "" {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s: its config names no os and architecture", desc.Digest)
	}
	p := platform.Normalize(ocispec.Platform{OS: img.OS, Architecture: img.Architecture, Variant: img.Variant})
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, Platform: &p}, nil
}

// Entries resolves each of refs in s and returns the entries of the
// index that merges them, in the order given: an image manifest gives
// its Entry; an image index gives an Entry for each of its manifests (a
// nested index is flattened), leaving out the entries that say their
// platform is unknown/unknown (BuildKit's attestations). Two entries of
// one platform are an error naming both.
func Entries(s *store.Store, refs []string) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	from := map[string]string{} // platform -> the ref it came from
	for _, ref := range refs {
		desc, err := s.Resolve(ref)
		if err != nil {
			return nil, err
		}
		entries, err := entriesOf(s, desc, 0)
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", ref, err)
		}
		for _, e := range entries {
			p := platform.Format(*e.Platform)
			if prev, ok := from[p]; ok {
				return nil, fmt.Errorf("images %q and %q are both %s: an index holds one manifest per platform", prev, ref, p)
			}
			from[p] = ref
			out = append(out, e)
		}
	}
	return out, nil
}

// entriesOf returns the entries desc gives, depth indexes deep.
func entriesOf(s *store.Store, desc ocispec.Descriptor, depth int) ([]ocispec.Descriptor, error) {
	switch {
	case store.IsManifestType(desc.MediaType):
		e, err := Entry(s, desc)
		if err != nil {
			return nil, err
		}
		return []ocispec.Descriptor{e}, nil
	case !store.IsIndexType(desc.MediaType):
		return nil, fmt.Errorf("blob %s: media type %q is not an image manifest or index", desc.Digest, desc.MediaType)
	case depth >= maxDepth:
		return nil, fmt.Errorf("index %s: nested more than %d deep", desc.Digest, maxDepth)
	}
	idx, err := s.Index(desc)
	if err != nil {
		return nil, err
	}
	var out []ocispec.Descriptor
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.OS == "unknown" && m.Platform.Architecture == "unknown" {
			continue
		}
		es, err := entriesOf(s, m, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// Create writes the image index that merges refs (see Entries) into s
// and tags it name, replacing what name tagged before. It returns the
// index's descriptor.
func Create(s *store.Store, name string, refs []string) (ocispec.Descriptor, error) {
	if _, err := store.NormalizeName(name); err != nil {
		return ocispec.Descriptor{}, err
	}
	if len(refs) == 0 {
		return ocispec.Descriptor{}, fmt.Errorf("creating %s: no images to merge", name)
	}
	entries, err := Entries(s, refs)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("creating %s: %w", name, err)
	}
	desc, err := s.WriteIndex(entries)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("creating %s: %w", name, err)
	}
	if err := s.Tag(name, desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}
