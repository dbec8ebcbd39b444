package imagediff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SourceKind says where an image operand is read from.
type SourceKind int

const (
	// FromStore is NAME[:TAG], NAME@DIGEST or a manifest digest: the
	// store's image, else (not for a bare digest) the registry's.
	FromStore SourceKind = iota
	// FromLayout is oci:DIR[:TAG] or oci-layout://DIR[:TAG]: an image of
	// an OCI image layout, read in place.
	FromLayout
	// FromRegistry is docker://REF: the registry's image, never the
	// store's.
	FromRegistry
)

// Source is a parsed image operand.
type Source struct {
	Kind SourceKind
	// Ref is the image reference of FromStore and FromRegistry.
	Ref string
	// Dir and Tag name the image of FromLayout; Tag is "" when the
	// layout holds one image.
	Dir, Tag string
}

// Layout operand prefixes: skopeo's and --build-context's.
const (
	prefixOCI       = "oci:"
	prefixOCILayout = "oci-layout://"
	prefixDocker    = "docker://"
)

// ParseSource parses an image operand: oci:DIR[:TAG] or
// oci-layout://DIR[:TAG] (a layout), docker://REF (a registry), anything
// else a name or digest for the store.
func ParseSource(s string) (Source, error) {
	for _, p := range []string{prefixOCILayout, prefixOCI} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			dir, tag := store.SplitLayoutRef(rest)
			if dir == "" {
				return Source{}, fmt.Errorf("image %q: no layout directory", s)
			}
			return Source{Kind: FromLayout, Dir: dir, Tag: tag}, nil
		}
	}
	if rest, ok := strings.CutPrefix(s, prefixDocker); ok {
		if _, err := registry.ParseRef(rest); err != nil {
			return Source{}, fmt.Errorf("image %q: %w", s, err)
		}
		return Source{Kind: FromRegistry, Ref: rest}, nil
	}
	if s == "" {
		return Source{}, errors.New("empty image name")
	}
	return Source{Kind: FromStore, Ref: s}, nil
}

// Opener opens the images Sources name.
type Opener struct {
	// Store is the local store, nil when there is none to read.
	Store *store.Store
	// Registry returns the client of registry reads; it is called once,
	// for the first image read from a registry. Nil: no registry reads.
	Registry func() (*registry.Client, error)
	// Platform picks the manifest of an image index.
	Platform ocispec.Platform
	// Note, when set, is told when an image the store does not have is
	// read from its registry instead.
	Note func(string)

	client *registry.Client
}

// Open reads the manifest and config of the image src names; name is how
// the user named it. Nothing is written: not to the store, not to a
// layout.
func (o *Opener) Open(ctx context.Context, name string, src Source) (Image, error) {
	switch src.Kind {
	case FromLayout:
		return o.openLayout(name, src)
	case FromRegistry:
		return o.openRemote(ctx, name, src.Ref)
	}
	if o.Store == nil {
		return Image{}, fmt.Errorf("image %s: no store to read it from", name)
	}
	desc, err := o.Store.ResolvePlatform(src.Ref, o.Platform)
	if errors.Is(err, store.ErrNotFound) && o.Registry != nil && !strings.HasPrefix(src.Ref, string(digest.SHA256)+":") {
		if o.Note != nil {
			o.Note(fmt.Sprintf("%s is not in the store: reading it from its registry", src.Ref))
		}
		return o.openRemote(ctx, name, src.Ref)
	}
	if err != nil {
		return Image{}, err
	}
	m, _, err := o.Store.Manifest(desc)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", name, err)
	}
	raw, err := o.Store.ReadBlob(m.Config.Digest)
	if err != nil {
		return Image{}, fmt.Errorf("image %s config: %w", name, err)
	}
	blobs := BlobsFunc(func(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) { return o.Store.OpenDescriptor(d) })
	return newImage(name, desc, m, raw, blobs)
}

func (o *Opener) openLayout(name string, src Source) (Image, error) {
	l := store.OpenLayout(src.Dir)
	desc, err := l.Resolve(src.Tag, o.Platform)
	if err != nil {
		return Image{}, err
	}
	m, err := l.Manifest(desc)
	if err != nil {
		return Image{}, err
	}
	raw, err := l.ReadBlob(m.Config)
	if err != nil {
		return Image{}, fmt.Errorf("image %s config: %w", name, err)
	}
	blobs := BlobsFunc(func(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) { return l.OpenDescriptor(d) })
	return newImage(name, desc, m, raw, blobs)
}

func (o *Opener) openRemote(ctx context.Context, name, ref string) (Image, error) {
	if o.Registry == nil {
		return Image{}, fmt.Errorf("image %s: no registry access", name)
	}
	if o.client == nil {
		c, err := o.Registry()
		if err != nil {
			return Image{}, err
		}
		o.client = c
	}
	r, err := o.client.Open(ctx, ref, o.Platform)
	if err != nil {
		return Image{}, err
	}
	raw, err := r.ReadBlob(ctx, r.Manifest.Config)
	if err != nil {
		return Image{}, fmt.Errorf("image %s config: %w", name, err)
	}
	return newImage(name, r.Descriptor, r.Manifest, raw, BlobsFunc(r.OpenDescriptor))
}

// newImage decodes the config raw of manifest m.
func newImage(name string, desc ocispec.Descriptor, m ocispec.Manifest, raw []byte, blobs Blobs) (Image, error) {
	var cfg builder.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return Image{}, fmt.Errorf("image %s config: %w", name, err)
	}
	return Image{Name: name, Descriptor: desc, Manifest: m, Config: cfg, RawConfig: raw, Blobs: blobs}, nil
}
