package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// Docker's media types, which share the OCI JSON shapes.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
)

// maxManifestBytes bounds the manifests and indexes read into memory.
const maxManifestBytes = 4 << 20

func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerManifestList
}

// storeSink is the store as the destination of a pull: every blob pushed
// into it is verified against its descriptor before it is committed.
// Manifests always count as missing, so a pull re-checks every blob of
// an image whose manifest is stored but whose layers were removed.
type storeSink struct{ s *store.Store }

var _ content.Storage = storeSink{}

func (k storeSink) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return k.s.OpenDescriptor(desc)
}

func (k storeSink) Exists(_ context.Context, desc ocispec.Descriptor) (bool, error) {
	if isManifest(desc.MediaType) || isIndex(desc.MediaType) {
		return false, nil
	}
	return k.s.HasBlob(desc.Digest), nil
}

func (k storeSink) Push(_ context.Context, expected ocispec.Descriptor, r io.Reader) error {
	return commitBlob(k.s, expected, r)
}

// commitBlob streams r into the store as blob expected, refusing content
// of another digest or size.
func commitBlob(s *store.Store, expected ocispec.Descriptor, r io.Reader) error {
	if expected.Size < 0 {
		return fmt.Errorf("blob %s: negative size", expected.Digest)
	}
	w, err := s.NewBlobWriter(expected.MediaType)
	if err != nil {
		return err
	}
	// One byte more than expected is enough for Commit to refuse it.
	if _, err := io.Copy(w, io.LimitReader(r, expected.Size+1)); err != nil {
		_ = w.Cancel()
		return fmt.Errorf("downloading %s: %w", expected.Digest, err)
	}
	if _, err := w.Commit(expected.Digest, expected.Size); err != nil {
		return fmt.Errorf("refusing blob %s from the registry: %w", expected.Digest, err)
	}
	return nil
}

// storeSource is the store as the source of a push or a cache export:
// root resolves by its digest, blobs come from the store (fetched first
// when only the store's fetcher has them) or from mem.
type storeSource struct {
	s    *store.Store
	root ocispec.Descriptor
	mem  map[digest.Digest][]byte
}

var _ oras.ReadOnlyTarget = storeSource{}

func (r storeSource) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if data, ok := r.mem[desc.Digest]; ok {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return r.s.OpenDescriptor(desc)
}

func (r storeSource) Exists(_ context.Context, desc ocispec.Descriptor) (bool, error) {
	if _, ok := r.mem[desc.Digest]; ok {
		return true, nil
	}
	return r.s.CanGet(desc.Digest), nil
}

func (r storeSource) Resolve(_ context.Context, ref string) (ocispec.Descriptor, error) {
	if ref != r.root.Digest.String() {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ref, errdef.ErrNotFound)
	}
	return r.root, nil
}
