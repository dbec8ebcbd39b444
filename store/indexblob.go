package store

import (
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IsIndexType reports whether mediaType is that of an image index (OCI,
// or Docker's manifest list, which shares its JSON shape).
func IsIndexType(mediaType string) bool { return isIndexType(mediaType) }

// IsManifestType reports whether mediaType is that of an image manifest
// (OCI, or Docker's schema 2, which shares its JSON shape).
func IsManifestType(mediaType string) bool { return isManifestType(mediaType) }

// Index reads and verifies the image index desc.
func (s *Store) Index(desc ocispec.Descriptor) (ocispec.Index, error) {
	if !isIndexType(desc.MediaType) {
		return ocispec.Index{}, fmt.Errorf("blob %s: media type %q is not an image index", desc.Digest, desc.MediaType)
	}
	var idx ocispec.Index
	if err := s.readJSONBlob(desc, &idx); err != nil {
		return ocispec.Index{}, fmt.Errorf("reading index: %w", err)
	}
	if idx.SchemaVersion != 2 {
		return ocispec.Index{}, fmt.Errorf("reading index %s: schema version %d, want 2", desc.Digest, idx.SchemaVersion)
	}
	if idx.MediaType != "" && !isIndexType(idx.MediaType) {
		return ocispec.Index{}, fmt.Errorf("reading index %s: media type %q is not an image index", desc.Digest, idx.MediaType)
	}
	return idx, nil
}
