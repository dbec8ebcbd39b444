package store

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/internal/platform"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layout is an OCI image layout directory read in place: its images are
// resolved and their blobs read, verified, without copying anything into
// a store and without writing to the directory.
type Layout struct {
	dir string
}

// OpenLayout returns the layout at dir. Nothing is read until Resolve.
func OpenLayout(dir string) *Layout { return &Layout{dir: dir} }

// Dir is the layout's directory, as given to OpenLayout.
func (l *Layout) Dir() string { return l.dir }

// Resolve returns the manifest descriptor of one image of the layout: tag
// picks the index.json entry whose org.opencontainers.image.ref.name it
// equals, "" the only entry; an image index (nested at most a few deep)
// is resolved for want. Errors name the directory.
func (l *Layout) Resolve(tag string, want ocispec.Platform) (ocispec.Descriptor, error) {
	idx, err := readIndex(filepath.Join(l.dir, ocispec.ImageIndexFile))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", l.dir, err)
	}
	desc, err := pickEntry(idx.Manifests, tag)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", l.dir, err)
	}
	for depth := 0; isIndexType(desc.MediaType); depth++ {
		if depth > 4 {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s: image indexes nested too deep", l.dir)
		}
		var sub ocispec.Index
		if err := readLayoutJSON(l.dir, desc, &sub); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", l.dir, err)
		}
		if desc, err = platform.Pick(sub.Manifests, want); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", l.dir, err)
		}
	}
	if !isManifestType(desc.MediaType) {
		return ocispec.Descriptor{}, fmt.Errorf("layout %s: entry %s has media type %q, not an image manifest", l.dir, desc.Digest, desc.MediaType)
	}
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, nil
}

// Manifest reads the image manifest desc of the layout, verified.
func (l *Layout) Manifest(desc ocispec.Descriptor) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := readLayoutJSON(l.dir, desc, &m); err != nil {
		return ocispec.Manifest{}, fmt.Errorf("layout %s: reading manifest: %w", l.dir, err)
	}
	if m.SchemaVersion != 2 {
		return ocispec.Manifest{}, fmt.Errorf("layout %s: manifest %s: schema version %d, want 2", l.dir, desc.Digest, m.SchemaVersion)
	}
	return m, nil
}

// OpenDescriptor opens blob desc of the layout. Like Store.OpenDescriptor
// the reader fails, at the latest at EOF, if the content does not match
// desc's digest and size.
func (l *Layout) OpenDescriptor(desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Size < 0 {
		return nil, fmt.Errorf("blob %s: negative size %d", desc.Digest, desc.Size)
	}
	rc, err := openVerified(l.dir, desc.Digest, desc.Size)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", l.dir, err)
	}
	return rc, nil
}

// ReadBlob reads the whole of the small blob desc (a config), verified.
func (l *Layout) ReadBlob(desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxJSONBlob {
		return nil, fmt.Errorf("layout %s: blob %s: %d bytes is too large", l.dir, desc.Digest, desc.Size)
	}
	rc, err := l.OpenDescriptor(desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", l.dir, err)
	}
	return data, nil
}

// SplitLayoutRef splits the text form DIR[:TAG] of an image in a layout
// (as in oci:DIR[:TAG] and oci-layout://DIR[:TAG]) at its last colon,
// unless a slash follows it: "out:dev" is out and dev, "./a:b/c" the
// directory "./a:b/c" alone.
func SplitLayoutRef(s string) (dir, tag string) {
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i+1:], "/") {
		return s[:i], s[i+1:]
	}
	return s, ""
}
