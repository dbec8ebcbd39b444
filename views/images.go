package views

import (
	"fmt"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is one manifest (or index) that index.json tags, with all its
// names.
type Image struct {
	Names      []string
	Descriptor ocispec.Descriptor
	// Manifest and Config are read for an image; an index has neither.
	Manifest ocispec.Manifest
	Config   ocispec.Image
	IsIndex  bool
	// Children are an index's images, in its order, each with its
	// index entry as Descriptor (and no names).
	Children []Image
}

// Platforms lists os/arch[/variant] of an index's images, in its order
// ("" for an entry that names no platform); nil for an image.
func (img Image) Platforms() []string {
	var out []string
	for _, c := range img.Children {
		p := ""
		if c.Descriptor.Platform != nil {
			p = platform.Format(*c.Descriptor.Platform)
		}
		out = append(out, p)
	}
	return out
}

// Images reads every tagged image, grouping the names of one manifest;
// an index is read with its images. An image that cannot be read whole
// is left out; unreadable says why, one error per image.
func Images(s *store.Store) (imgs []Image, unreadable []error, err error) {
	tagged, err := s.Images()
	if err != nil {
		return nil, nil, err
	}
	at := map[digest.Digest]int{}
	for _, t := range tagged {
		if i, ok := at[t.Descriptor.Digest]; ok {
			imgs[i].Names = append(imgs[i].Names, t.Name)
			continue
		}
		img, err := readImage(s, t.Descriptor)
		if err != nil {
			unreadable = append(unreadable, fmt.Errorf("image %s: %w", t.Name, err))
			continue
		}
		img.Names = []string{t.Name}
		at[t.Descriptor.Digest] = len(imgs)
		imgs = append(imgs, img)
	}
	return imgs, unreadable, nil
}

// readImage reads the image manifest desc, or the index desc and its
// images (a nested index is kept without its own).
func readImage(s *store.Store, desc ocispec.Descriptor) (Image, error) {
	img := Image{Descriptor: desc}
	if !store.IsIndexType(desc.MediaType) {
		var err error
		img.Manifest, img.Config, err = s.Manifest(desc)
		return img, err
	}
	img.IsIndex = true
	idx, err := s.Index(desc)
	if err != nil {
		return img, err
	}
	for _, m := range idx.Manifests {
		child := Image{Descriptor: m, IsIndex: store.IsIndexType(m.MediaType)}
		if !child.IsIndex {
			if child.Manifest, child.Config, err = s.Manifest(m); err != nil {
				return img, err
			}
		}
		img.Children = append(img.Children, child)
	}
	return img, nil
}

// LayerUsers maps each layer blob to the images (indexes into imgs) that
// use it, leaving out the image whose manifest is self; an index uses
// the layers of its images but self's.
func LayerUsers(imgs []Image, self digest.Digest) map[digest.Digest][]int {
	users := map[digest.Digest][]int{}
	for i, img := range imgs {
		if img.Descriptor.Digest == self {
			continue
		}
		seen := map[digest.Digest]bool{}
		for _, l := range img.layers(self) {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				users[l.Digest] = append(users[l.Digest], i)
			}
		}
	}
	return users
}

// layers are an image's layers, or those of an index's images but self.
func (img Image) layers(self digest.Digest) []ocispec.Descriptor {
	if !img.IsIndex {
		return img.Manifest.Layers
	}
	var out []ocispec.Descriptor
	for _, c := range img.Children {
		if c.Descriptor.Digest != self {
			out = append(out, c.layers(self)...)
		}
	}
	return out
}
