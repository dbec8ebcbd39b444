package views

import (
	"fmt"

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
}

// Images reads every tagged image, grouping the names of one manifest.
// An image that cannot be read is left out; unreadable says why, one
// error per image.
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
		img := Image{Names: []string{t.Name}, Descriptor: t.Descriptor}
		if isIndex(t.Descriptor.MediaType) {
			img.IsIndex = true
		} else if img.Manifest, img.Config, err = s.Manifest(t.Descriptor); err != nil {
			unreadable = append(unreadable, fmt.Errorf("image %s: %w", t.Name, err))
			continue
		}
		at[t.Descriptor.Digest] = len(imgs)
		imgs = append(imgs, img)
	}
	return imgs, unreadable, nil
}

func isIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == "application/vnd.docker.distribution.manifest.list.v2+json"
}

// LayerUsers maps each layer blob to the images (indexes into imgs) that
// use it, leaving out the image whose manifest is self.
func LayerUsers(imgs []Image, self digest.Digest) map[digest.Digest][]int {
	users := map[digest.Digest][]int{}
	for i, img := range imgs {
		if img.Descriptor.Digest == self || img.IsIndex {
			continue
		}
		seen := map[digest.Digest]bool{}
		for _, l := range img.Manifest.Layers {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				users[l.Digest] = append(users[l.Digest], i)
			}
		}
	}
	return users
}
