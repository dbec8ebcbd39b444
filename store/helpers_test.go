package store

import (
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// openTestStore opens a store in a fresh temporary directory.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// testImage is a tiny valid image written into a store by hand.
type testImage struct {
	manifest ocispec.Descriptor
	config   ocispec.Descriptor
	layer    ocispec.Descriptor
	diffID   digest.Digest
}

// writeTestImage builds one gzip layer holding the file "hello.txt" with
// content, a config and a manifest, and stores all three.
func writeTestImage(t *testing.T, s *Store, content string) testImage {
	t.Helper()
	gz, diffID := storetest.Layer(t, "hello.txt", content)
	img := testImage{diffID: diffID}
	var err error
	if img.layer, err = s.WriteBlob(ocispec.MediaTypeImageLayerGzip, gz); err != nil {
		t.Fatal(err)
	}
	cfg := ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config:   ocispec.ImageConfig{Cmd: []string{"/hello"}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{img.diffID}},
	}
	if img.config, err = s.WriteJSON(ocispec.MediaTypeImageConfig, cfg); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    img.config,
		Layers:    []ocispec.Descriptor{img.layer},
	}
	m.SchemaVersion = 2
	if img.manifest, err = s.WriteJSON(ocispec.MediaTypeImageManifest, m); err != nil {
		t.Fatal(err)
	}
	return img
}

// testLayer is a gzip layer blob stored in a test store.
type testLayer struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
}

// putLayer stores a gzip layer holding one file name with content.
func putLayer(t *testing.T, s *Store, name, content string) testLayer {
	t.Helper()
	desc, diffID := storetest.PutLayer(t, s, name, content)
	return testLayer{desc: desc, diffID: diffID}
}

// blobFile is the path of blob d in s.
func blobFile(t *testing.T, s *Store, d digest.Digest) string {
	t.Helper()
	p, err := s.BlobPath(d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
