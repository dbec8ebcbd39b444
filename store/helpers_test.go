package store

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
	"time"

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
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "hello.txt", Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gzBuf bytes.Buffer
	zw := gzip.NewWriter(&gzBuf)
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var img testImage
	var err error
	img.diffID = digest.FromBytes(tarBuf.Bytes())
	if img.layer, err = s.WriteBlob(ocispec.MediaTypeImageLayerGzip, gzBuf.Bytes()); err != nil {
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
