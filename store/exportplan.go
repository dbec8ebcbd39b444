package store

import (
	"fmt"
	"maps"
	"sort"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationContainerdImageName is the annotation containerd (and nerdctl,
// BuildKit's OCI exporter) read for an image's fully qualified name.
const AnnotationContainerdImageName = "io.containerd.image.name"

// maxIndexDepth bounds the nesting of image indexes followed on export.
const maxIndexDepth = 8

// ExportImage names one image to export: Name is the full name as the user
// gave it (e.g. "app:dev"), Descriptor its manifest or index. An empty
// Name exports the image without name annotations.
type ExportImage struct {
	Name       string
	Descriptor ocispec.Descriptor
}

// exportPlan is what an export writes: the index.json entries and every
// blob they reach, sorted by digest.
type exportPlan struct {
	entries []ocispec.Descriptor
	blobs   []ocispec.Descriptor
}

// planExport validates the images, builds their index entries and walks
// their manifests (read and verified) to collect the blobs to copy.
func (s *Store) planExport(images []ExportImage) (exportPlan, error) {
	var plan exportPlan
	byTag := map[string]ocispec.Descriptor{}
	seen := map[digest.Digest]ocispec.Descriptor{}
	unnamed := map[digest.Digest]bool{}
	for _, img := range images {
		desc := img.Descriptor
		if err := digestcheck.Validate(desc.Digest); err != nil {
			return plan, fmt.Errorf("exporting %q: %w", img.Name, err)
		}
		if !isManifestType(desc.MediaType) && !isIndexType(desc.MediaType) {
			return plan, fmt.Errorf("exporting %q: media type %q is not an image manifest or index", img.Name, desc.MediaType)
		}
		entry := desc
		entry.Annotations = maps.Clone(desc.Annotations)
		if img.Name == "" {
			if unnamed[desc.Digest] {
				continue
			}
			unnamed[desc.Digest] = true
			delete(entry.Annotations, ocispec.AnnotationRefName)
			delete(entry.Annotations, AnnotationContainerdImageName)
		} else {
			ref, err := parseReference(img.Name)
			if err != nil {
				return plan, err
			}
			if ref.digest != "" {
				return plan, fmt.Errorf("exporting %q: a digest reference cannot name an exported image", img.Name)
			}
			tag := tagOrDefault(ref.tag)
			full, err := dockerFullName(ref)
			if err != nil {
				return plan, fmt.Errorf("exporting %q: %w", img.Name, err)
			}
			if prev, ok := byTag[tag]; ok {
				if prev.Annotations[AnnotationContainerdImageName] == full && prev.Digest == desc.Digest {
					continue
				}
				return plan, fmt.Errorf("exporting %q: another image is also tagged %q, and an OCI layout names images by tag alone", img.Name, tag)
			}
			if entry.Annotations == nil {
				entry.Annotations = map[string]string{}
			}
			entry.Annotations[ocispec.AnnotationRefName] = tag
			entry.Annotations[AnnotationContainerdImageName] = full
			byTag[tag] = entry
		}
		if len(entry.Annotations) == 0 {
			entry.Annotations = nil
		}
		plan.entries = append(plan.entries, entry)
		if err := s.walk(desc, seen, 0); err != nil {
			return plan, fmt.Errorf("exporting %q: %w", img.Name, err)
		}
	}
	for _, d := range seen {
		plan.blobs = append(plan.blobs, d)
	}
	sort.Slice(plan.blobs, func(i, j int) bool { return plan.blobs[i].Digest < plan.blobs[j].Digest })
	sortDescriptors(plan.entries)
	return plan, nil
}

// walk adds desc and, for manifests and indexes, every blob it reaches to
// seen, checking that each is present in the store or fetchable (CanGet).
func (s *Store) walk(desc ocispec.Descriptor, seen map[digest.Digest]ocispec.Descriptor, depth int) error {
	if err := digestcheck.Validate(desc.Digest); err != nil {
		return err
	}
	if desc.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d", desc.Digest, desc.Size)
	}
	if prev, ok := seen[desc.Digest]; ok {
		if prev.Size != desc.Size {
			return fmt.Errorf("blob %s: referenced with sizes %d and %d", desc.Digest, prev.Size, desc.Size)
		}
		return nil
	}
	if !s.CanGet(desc.Digest) {
		return fmt.Errorf("blob %s: %w", desc.Digest, ErrNotFound)
	}
	seen[desc.Digest] = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	switch {
	case isIndexType(desc.MediaType):
		children, err := s.indexChildren(desc, depth)
		if err != nil {
			return err
		}
		for _, m := range children {
			if err := s.walk(m, seen, depth+1); err != nil {
				return err
			}
		}
	case isManifestType(desc.MediaType):
		var m ocispec.Manifest
		if err := s.readJSONBlob(desc, &m); err != nil {
			return err
		}
		for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			if err := s.walk(d, seen, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
