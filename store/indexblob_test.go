package store

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestIndex(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "x")
	child := img.manifest
	child.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	idx, err := s.WriteIndex([]ocispec.Descriptor{child})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := s.WriteJSON(ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 1}})
	if err != nil {
		t.Fatal(err)
	}
	wrongInside, err := s.WriteJSON(ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest})
	if err != nil {
		t.Fatal(err)
	}
	short := idx
	short.Size--
	for _, c := range []struct {
		name string
		desc ocispec.Descriptor
		err  string
	}{
		{"index", idx, ""},
		{"a manifest", img.manifest, "is not an image index"},
		{"schema version 1", v1, "schema version 1"},
		{"a manifest's media type inside", wrongInside, "is not an image index"},
		{"wrong size", short, "content is longer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Index(c.desc)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Index: %v, want an error with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Manifests) != 1 || got.Manifests[0].Digest != child.Digest || got.Manifests[0].Platform.Architecture != "amd64" {
				t.Errorf("Index = %+v", got)
			}
		})
	}
}
