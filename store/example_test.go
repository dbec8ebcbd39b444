package store_test

import (
	"fmt"
	"log"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibuild/minibuild/store"
)

func Example() {
	root, err := os.MkdirTemp("", "store-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	s, err := store.Open(root)
	if err != nil {
		log.Fatal(err)
	}
	cfg, _ := s.WriteJSON(ocispec.MediaTypeImageConfig, ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}})
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}}
	m.SchemaVersion = 2
	desc, err := s.WriteJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Tag("app", desc); err != nil {
		log.Fatal(err)
	}
	got, err := s.Resolve("app:latest")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Digest == desc.Digest, got.Annotations[ocispec.AnnotationRefName])
	// Output: true app:latest
}

func ExampleNormalizeName() {
	for _, n := range []string{"app", "localhost:5000/x/app:dev"} {
		full, _ := store.NormalizeName(n)
		fmt.Println(full)
	}
	// Output:
	// app:latest
	// localhost:5000/x/app:dev
}
