package storetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layer returns a gzip layer blob holding one regular file, name, with
// content (mode 0644, mtime 0), and its diffID.
func Layer(t testing.TB, name, content string) (blob []byte, diffID digest.Digest) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return gz.Bytes(), digest.FromBytes(raw.Bytes())
}

// BlobWriter is the part of a *store.Store that PutLayer needs.
type BlobWriter interface {
	WriteBlob(mediaType string, data []byte) (ocispec.Descriptor, error)
}

// PutLayer stores the gzip layer Layer makes in w and returns its
// descriptor and diffID.
func PutLayer(t testing.TB, w BlobWriter, name, content string) (ocispec.Descriptor, digest.Digest) {
	t.Helper()
	blob, diffID := Layer(t, name, content)
	desc, err := w.WriteBlob(ocispec.MediaTypeImageLayerGzip, blob)
	if err != nil {
		t.Fatal(err)
	}
	return desc, diffID
}

// ImageWriter is the part of a *store.Store that PutImage needs.
type ImageWriter interface {
	BlobWriter
	WriteJSON(mediaType string, v any) (ocispec.Descriptor, error)
}

// PutImage stores an image for platform p with one layer per file (name
// -> content, in the order of the names) and returns its manifest's
// descriptor, which names no platform.
func PutImage(t testing.TB, w ImageWriter, p ocispec.Platform, files map[string]string) ocispec.Descriptor {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	cfg := ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Layers: []ocispec.Descriptor{}}
	for _, n := range names {
		desc, diffID := PutLayer(t, w, n, files[n])
		m.Layers = append(m.Layers, desc)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		cfg.History = append(cfg.History, ocispec.History{CreatedBy: "COPY " + n + " /"})
	}
	var err error
	if m.Config, err = w.WriteJSON(ocispec.MediaTypeImageConfig, cfg); err != nil {
		t.Fatal(err)
	}
	desc, err := w.WriteJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// FlipBit flips one bit in the middle of the file at path.
func FlipBit(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteFile writes content to path (0644), creating its directory.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
