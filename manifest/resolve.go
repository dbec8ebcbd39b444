package manifest

import (
	"fmt"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolve returns the image manifest name refers to in s, for want: an
// image index is resolved to its manifest for want (nil: the host's
// platform), failing with an error that names the platform asked for
// and those the index has; an image manifest is returned as it is when
// want is nil, and must be of platform want (by its config) otherwise.
func Resolve(s *store.Store, name string, want *ocispec.Platform) (ocispec.Descriptor, error) {
	desc, err := s.Resolve(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if store.IsIndexType(desc.MediaType) {
		p := platform.Host()
		if want != nil {
			p = *want
		}
		return s.ResolvePlatform(name, p)
	}
	if want == nil {
		return desc, nil
	}
	e, err := Entry(s, desc)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image %q: %w", name, err)
	}
	if !platform.Match(e.Platform, *want) {
		return ocispec.Descriptor{}, fmt.Errorf("image %q is %s, not %s", name, platform.Format(*e.Platform), platform.Format(*want))
	}
	return desc, nil
}

// Child is one manifest of an image index, as Children reads it.
type Child struct {
	// Descriptor is the index's entry for the manifest.
	Descriptor ocispec.Descriptor
	// Platform is os/arch[/variant] of the entry, "" when it names none.
	Platform string
}

// Children reads the image index desc of s and lists its manifests in
// the index's order.
func Children(s *store.Store, desc ocispec.Descriptor) ([]Child, error) {
	idx, err := s.Index(desc)
	if err != nil {
		return nil, err
	}
	out := make([]Child, 0, len(idx.Manifests))
	for _, m := range idx.Manifests {
		c := Child{Descriptor: m}
		if m.Platform != nil {
			c.Platform = platform.Format(*m.Platform)
		}
		out = append(out, c)
	}
	return out, nil
}
