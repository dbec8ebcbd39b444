package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// memFetcher serves blobs from memory and counts the fetches; serve
// overrides what a digest's fetch returns.
type memFetcher struct {
	mu    sync.Mutex
	blobs map[digest.Digest][]byte
	serve map[digest.Digest][]byte
	calls map[digest.Digest]int
}

func newMemFetcher() *memFetcher {
	return &memFetcher{blobs: map[digest.Digest][]byte{}, serve: map[digest.Digest][]byte{}, calls: map[digest.Digest]int{}}
}

func (m *memFetcher) add(data []byte) ocispec.Descriptor {
	d := digest.FromBytes(data)
	m.blobs[d] = data
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: int64(len(data))}
}

func (m *memFetcher) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[desc.Digest]++
	if data, ok := m.serve[desc.Digest]; ok {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	data, ok := m.blobs[desc.Digest]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (m *memFetcher) lookup(d digest.Digest) (ocispec.Descriptor, bool) {
	data, ok := m.blobs[d]
	if !ok {
		return ocispec.Descriptor{}, false
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: int64(len(data))}, true
}

func TestFetcherDownloadsOnFirstRead(t *testing.T) {
	s := openTestStore(t)
	f := newMemFetcher()
	desc := f.add([]byte("remote layer"))
	if s.CanGet(desc.Digest) {
		t.Fatal("CanGet before SetFetcher")
	}
	s.SetFetcher(f, f.lookup)
	if !s.CanGet(desc.Digest) || s.HasBlob(desc.Digest) {
		t.Fatalf("CanGet %v HasBlob %v, want true false", s.CanGet(desc.Digest), s.HasBlob(desc.Digest))
	}
	for _, read := range []struct {
		name string
		fn   func() ([]byte, error)
	}{
		{"ReadBlob", func() ([]byte, error) { return s.ReadBlob(desc.Digest) }},
		{"OpenDescriptor", func() ([]byte, error) {
			rc, err := s.OpenDescriptor(desc)
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(rc)
		}},
	} {
		t.Run(read.name, func(t *testing.T) {
			got, err := read.fn()
			if err != nil || string(got) != "remote layer" {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
	if !s.HasBlob(desc.Digest) {
		t.Error("the fetched blob was not committed")
	}
	if n := f.calls[desc.Digest]; n != 1 {
		t.Errorf("fetched %d times, want 1", n)
	}
}

func TestFetcherRefusesBadContent(t *testing.T) {
	tests := []struct {
		name  string
		serve func(good []byte) []byte
		want  string
	}{
		{"wrong digest", func(g []byte) []byte { b := bytes.Clone(g); b[0] ^= 1; return b }, "content has digest"},
		{"too long", func(g []byte) []byte { return append(bytes.Clone(g), 'x') }, "committing blob"},
		{"too short", func(g []byte) []byte { return g[:len(g)-1] }, "committing blob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			f := newMemFetcher()
			good := []byte("the real content")
			desc := f.add(good)
			f.serve[desc.Digest] = tt.serve(good)
			s.SetFetcher(f, f.lookup)
			_, err := s.ReadBlob(desc.Digest)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadBlob error %v, want one about %s", err, tt.want)
			}
			if s.HasBlob(desc.Digest) {
				t.Error("a refused blob landed in the store")
			}
			if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
				t.Errorf("temporary files left: %v", ents)
			}
		})
	}
}

func TestFetcherUnknownAndRemoved(t *testing.T) {
	s := openTestStore(t)
	f := newMemFetcher()
	desc := f.add([]byte("x"))
	s.SetFetcher(f, f.lookup)
	other := digest.FromString("unknown")
	if s.CanGet(other) {
		t.Error("CanGet of a blob nobody has")
	}
	if _, err := s.ReadBlob(other); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadBlob of an unknown blob: %v, want ErrNotFound", err)
	}
	// A lookup that answers with another digest is not trusted.
	s.SetFetcher(f, func(digest.Digest) (ocispec.Descriptor, bool) { return desc, true })
	if s.CanGet(other) {
		t.Error("CanGet trusted a descriptor of another digest")
	}
	s.SetFetcher(nil, nil)
	if s.CanGet(desc.Digest) {
		t.Error("CanGet after the fetcher was removed")
	}
	if len(f.calls) != 0 {
		t.Errorf("fetches: %v", f.calls)
	}
}

// TestExportFetchesMissingLayers: an image whose layer is only fetchable
// exports, and the layer is then stored.
func TestExportFetchesMissingLayers(t *testing.T) {
	src := openTestStore(t)
	img := writeTestImage(t, src, "lazy")
	layer, err := src.ReadBlob(img.layer.Digest)
	if err != nil {
		t.Fatal(err)
	}
	s := openTestStore(t)
	for _, d := range []ocispec.Descriptor{img.config, img.manifest} {
		data, err := src.ReadBlob(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriteBlob(d.MediaType, data); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "out")
	if err := s.ExportLayout(dest, []ExportImage{{Name: "app:dev", Descriptor: img.manifest}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export without the layer: %v, want ErrNotFound", err)
	}
	f := newMemFetcher()
	f.add(layer)
	s.SetFetcher(f, f.lookup)
	if err := s.ExportLayout(dest, []ExportImage{{Name: "app:dev", Descriptor: img.manifest}}); err != nil {
		t.Fatal(err)
	}
	if err := verifyBlob(dest, img.layer); err != nil {
		t.Errorf("exported layer: %v", err)
	}
	if !s.HasBlob(img.layer.Digest) || f.calls[img.layer.Digest] != 1 {
		t.Errorf("layer stored %v, fetched %d times", s.HasBlob(img.layer.Digest), f.calls[img.layer.Digest])
	}
}
