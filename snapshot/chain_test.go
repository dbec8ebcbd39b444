package snapshot

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestChain(t *testing.T) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	if err := tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("hi"))
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	blobs := map[digest.Digest][]byte{digest.FromBytes(gz.Bytes()): gz.Bytes(), digest.FromBytes(raw.Bytes()): raw.Bytes()}
	closed := 0
	open := func(d ocispec.Descriptor) (io.ReadCloser, error) {
		b, ok := blobs[d.Digest]
		if !ok {
			return nil, errors.New("no such blob")
		}
		return closer{bytes.NewReader(b), &closed}, nil
	}
	layers := []ocispec.Descriptor{{Digest: digest.FromBytes(gz.Bytes())}, {Digest: digest.FromBytes(raw.Bytes())}}
	diffIDs := []digest.Digest{digest.FromBytes(raw.Bytes()), digest.FromBytes(raw.Bytes())}
	chain, err := Chain(layers, diffIDs, open, 123)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range chain {
		if l.DiffID != diffIDs[i] || l.MaxBytes != 123 {
			t.Errorf("layer %d: %+v", i, l)
		}
		rc, err := l.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, raw.Bytes()) {
			t.Errorf("layer %d: read %d bytes, %v; want the uncompressed tar", i, len(got), err)
		}
		if err := rc.Close(); err != nil {
			t.Error(err)
		}
	}
	if closed != 2 {
		t.Errorf("%d blobs closed, want 2", closed)
	}
	if _, err := Chain(layers, diffIDs[:1], open, 0); err == nil {
		t.Error("a chain with fewer diffIDs than layers was accepted")
	}
	missing, _ := Chain([]ocispec.Descriptor{{Digest: digest.FromString("x")}}, diffIDs[:1], open, 0)
	if _, err := missing[0].Open(); err == nil {
		t.Error("opening a missing blob succeeded")
	}
}

type closer struct {
	io.Reader
	n *int
}

func (c closer) Close() error { *c.n++; return nil }
