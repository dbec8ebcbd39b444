package imagediff

import (
	"context"
	"io"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is one side of a comparison: an image manifest, its config and
// where its layer blobs are read from.
type Image struct {
	// Name is how the image was named, e.g. "app:dev" or "oci:out:dev".
	Name string
	// Descriptor is the image manifest's descriptor.
	Descriptor ocispec.Descriptor
	// Manifest is the image manifest.
	Manifest ocispec.Manifest
	// Config is the config document, Docker's extensions included;
	// RawConfig its bytes, for the fields Config does not know.
	Config    builder.Image
	RawConfig []byte
	// Blobs opens the layers.
	Blobs Blobs
}

// Blobs opens the blobs of an image.
type Blobs interface {
	// Open returns the content of desc. The reader fails, at the latest at
	// EOF, when the content does not match desc's digest and size.
	Open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// BlobsFunc makes a function a Blobs.
type BlobsFunc func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)

var _ Blobs = BlobsFunc(nil)

// Open calls f.
func (f BlobsFunc) Open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return f(ctx, desc)
}
