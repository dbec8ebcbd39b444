package storetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestLayer(t *testing.T) {
	blob, diffID := Layer(t, "hello.txt", "hi")
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if got := digest.FromBytes(raw); got != diffID {
		t.Errorf("diffID %s, the tar hashes to %s", diffID, got)
	}
	hdr, err := tar.NewReader(bytes.NewReader(raw)).Next()
	if err != nil || hdr.Name != "hello.txt" || hdr.Size != 2 {
		t.Errorf("first entry %+v, %v", hdr, err)
	}
}

func TestWriteFileAndFlipBit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b")
	WriteFile(t, path, "abcd")
	FlipBit(t, path)
	if got, _ := os.ReadFile(path); string(got) != "absd" {
		t.Errorf("after FlipBit: %q", got)
	}
}

// memBlobs is an ImageWriter that keeps blobs in memory.
type memBlobs map[digest.Digest][]byte

var _ ImageWriter = memBlobs{}

func (m memBlobs) WriteBlob(mediaType string, data []byte) (ocispec.Descriptor, error) {
	d := digest.FromBytes(data)
	m[d] = data
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

func (m memBlobs) WriteJSON(mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return m.WriteBlob(mediaType, data)
}

func TestPutImage(t *testing.T) {
	blobs := memBlobs{}
	p := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	desc := PutImage(t, blobs, p, map[string]string{"b": "two", "a": "one"})
	var m ocispec.Manifest
	if err := json.Unmarshal(blobs[desc.Digest], &m); err != nil || desc.Platform != nil {
		t.Fatalf("manifest %s: %v (platform %v)", blobs[desc.Digest], err, desc.Platform)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(blobs[m.Config.Digest], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Platform.OS != "linux" || cfg.Architecture != "arm" || cfg.Variant != "v7" {
		t.Errorf("config platform %+v", cfg.Platform)
	}
	_, diffA := Layer(t, "a", "one")
	if len(m.Layers) != 2 || len(cfg.RootFS.DiffIDs) != 2 || cfg.RootFS.DiffIDs[0] != diffA {
		t.Errorf("layers %v, diffIDs %v: want a's layer first", m.Layers, cfg.RootFS.DiffIDs)
	}
	for _, l := range m.Layers {
		if _, ok := blobs[l.Digest]; !ok {
			t.Errorf("layer %s not written", l.Digest)
		}
	}
}
