package views

import (
	"fmt"

	"github.com/minibuild/minibuild/manifest"
	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/results"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Stored is an image read from a store, with the store's other images
// (for the layers they share).
type Stored struct {
	Descriptor ocispec.Descriptor
	Manifest   ocispec.Manifest
	Config     ocispec.Image
	Images     []Image
	// Unreadable says why some of the store's other images were left out.
	Unreadable []error
}

// Load reads the image ref names in s (a tag or a digest); an image
// index is read for the host's platform (see LoadPlatform).
func Load(s *store.Store, ref string) (*Stored, error) {
	return LoadPlatform(s, ref, nil)
}

// LoadPlatform reads the image ref names in s for platform want, as
// manifest.Resolve picks it: an index's manifest for want (nil: the
// host's), an image only if it is of want.
func LoadPlatform(s *store.Store, ref string, want *ocispec.Platform) (*Stored, error) {
	desc, err := manifest.Resolve(s, ref, want)
	if err != nil {
		return nil, err
	}
	st := &Stored{Descriptor: desc}
	if st.Manifest, st.Config, err = s.Manifest(desc); err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	if st.Images, st.Unreadable, err = Images(s); err != nil {
		return nil, err
	}
	return st, nil
}

// History is the image's history, newest first (see History).
func (st *Stored) History() []HistoryRow {
	return History(st.Manifest, st.Config, st.Images, st.Descriptor.Digest)
}

// Report is what the report draws of the image, titled title, with the
// cache results saved of its build (see ReportBuild).
func (st *Stored) Report(title string, saved results.Build) report.Build {
	return ReportBuild(title, st.Descriptor.Digest, st.Manifest, st.Config, st.Images, saved)
}
