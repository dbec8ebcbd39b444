package store

import (
	"fmt"

	"github.com/minibuild/minibuild/internal/digestcheck"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IndexEntries returns the entries of index.json as recorded, tagged or
// not. Only an unreadable index.json is an error.
func (s *Store) IndexEntries() ([]ocispec.Descriptor, error) {
	idx, err := readIndex(s.layout.Index())
	if err != nil {
		return nil, err
	}
	return idx.Manifests, nil
}

// WalkImage reads the image manifest or index desc and what it references,
// each read verified against its digest, for the root's maintenance. It
// calls blob with every descriptor it reaches once it checked it (a sha256
// digest, no negative size): desc, the children of indexes (depth-first,
// at most maxIndexDepth deep), and each manifest's config and layers. It
// calls image with every image manifest, after its config has been read
// and checked to list one valid diffID per layer. Layers are not read. It
// stops at the first error; what blob was called with up to then is what
// could be walked.
func (s *Store) WalkImage(desc ocispec.Descriptor, blob func(ocispec.Descriptor), image func(manifest ocispec.Descriptor, m ocispec.Manifest, config ocispec.Image) error) error {
	return s.walkImage(desc, 0, blob, image)
}

func (s *Store) walkImage(desc ocispec.Descriptor, depth int, blob func(ocispec.Descriptor), image func(ocispec.Descriptor, ocispec.Manifest, ocispec.Image) error) error {
	if err := digestcheck.Validate(desc.Digest); err != nil {
		return err
	}
	if desc.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d", desc.Digest, desc.Size)
	}
	blob(desc)
	switch {
	case isIndexType(desc.MediaType):
		children, err := s.indexChildren(desc, depth)
		if err != nil {
			return err
		}
		for _, m := range children {
			if err := s.walkImage(m, depth+1, blob, image); err != nil {
				return err
			}
		}
		return nil
	case isManifestType(desc.MediaType):
		return s.walkManifest(desc, blob, image)
	default:
		return fmt.Errorf("blob %s: media type %q is not an image manifest or index", desc.Digest, desc.MediaType)
	}
}

// walkManifest checks the image manifest desc and its config.
func (s *Store) walkManifest(desc ocispec.Descriptor, blob func(ocispec.Descriptor), image func(ocispec.Descriptor, ocispec.Manifest, ocispec.Image) error) error {
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
		blob(d)
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
	return image(desc, m, img)
}

// indexChildren reads the image index desc, nested depth indexes deep,
// and returns its entries; it refuses nesting past maxIndexDepth.
func (s *Store) indexChildren(desc ocispec.Descriptor, depth int) ([]ocispec.Descriptor, error) {
	if depth >= maxIndexDepth {
		return nil, fmt.Errorf("index %s: nested more than %d deep", desc.Digest, maxIndexDepth)
	}
	var idx ocispec.Index
	if err := s.readJSONBlob(desc, &idx); err != nil {
		return nil, err
	}
	return idx.Manifests, nil
}
