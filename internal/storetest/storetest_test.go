package storetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
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
