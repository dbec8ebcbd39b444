package store

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/internal/digestcheck"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImportLayout copies one image from the OCI image layout directory dir
// into the store and returns its manifest descriptor. Every blob is
// verified against its digest and size as it is copied, so a damaged or
// forged layout puts nothing under a final name. tag picks the index.json
// entry whose org.opencontainers.image.ref.name it equals; "" takes the
// only entry. An image index is resolved for platform.
func (s *Store) ImportLayout(dir, tag string, platform ocispec.Platform) (ocispec.Descriptor, error) {
	l := OpenLayout(dir)
	desc, err := l.Resolve(tag, platform)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m, err := l.Manifest(desc)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, b := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if err := s.copyIn(dir, b); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", dir, err)
		}
	}
	if err := s.copyIn(dir, desc); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", dir, err)
	}
	return desc, nil
}

// pickEntry chooses the index entry named tag, or the only one.
func pickEntry(ms []ocispec.Descriptor, tag string) (ocispec.Descriptor, error) {
	if tag == "" {
		if len(ms) != 1 {
			return ocispec.Descriptor{}, fmt.Errorf("%d images in index.json: name one with :TAG", len(ms))
		}
		return ms[0], nil
	}
	for _, m := range ms {
		if m.Annotations[ocispec.AnnotationRefName] == tag {
			return m, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("no image tagged %q: %w", tag, ErrNotFound)
}

// readLayoutJSON reads a small JSON blob of the layout at dir, verified.
func readLayoutJSON(dir string, desc ocispec.Descriptor, v any) error {
	if desc.Size > maxJSONBlob {
		return fmt.Errorf("blob %s: %d bytes is too large for JSON", desc.Digest, desc.Size)
	}
	rc, err := openVerified(dir, desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return nil
}

// copyIn copies blob desc from the layout at dir into the store, unless
// the store has it already.
func (s *Store) copyIn(dir string, desc ocispec.Descriptor) error {
	if err := digestcheck.Validate(desc.Digest); err != nil {
		return err
	}
	if s.HasBlob(desc.Digest) {
		return nil
	}
	rc, err := openVerified(dir, desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := s.NewBlobWriter(desc.MediaType)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, rc); err != nil {
		_ = w.Cancel()
		return err
	}
	if _, err := w.Commit(desc.Digest, desc.Size); err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return nil
}
