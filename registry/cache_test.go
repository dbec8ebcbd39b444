package registry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/storetest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// cacheRecords stores two layers and returns records for them plus a
// metadata-only step.
func cacheRecords(t *testing.T, s interface {
	WriteBlob(string, []byte) (ocispec.Descriptor, error)
}) []CacheRecord {
	t.Helper()
	var out []CacheRecord
	for _, content := range []string{"first", "second"} {
		data, diffID := storetest.Layer(t, "f", content)
		desc, err := s.WriteBlob(ocispec.MediaTypeImageLayerGzip, data)
		if err != nil {
			t.Fatal(err)
		}
		e := cache.Entry{Key: digest.FromString("key" + content), Layer: &desc, DiffID: diffID, CreatedBy: "COPY " + content}
		out = append(out, RecordOf(e))
	}
	return append(out, CacheRecord{Key: digest.FromString("env"), CreatedBy: "ENV A=1"})
}

// TestCacheRoundTrip: entries exported to a registry or a directory are
// all found after import, and a layer is downloaded only when the store
// reads it.
func TestCacheRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	c := newTestClient(t, Options{})
	for _, loc := range []CacheLocation{
		{Ref: reg + "/cache/app:main"},
		{Dir: filepath.Join(t.TempDir(), "cachedir")},
	} {
		t.Run(loc.String(), func(t *testing.T) {
			a := openStore(t)
			records := cacheRecords(t, a)
			first, err := c.ExportCache(ctx, a, records, nil, loc, nil)
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.ExportCache(ctx, a, append(records[1:], records[0]), nil, loc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if first.Digest != again.Digest {
				t.Errorf("exporting the same entries gave %s then %s", first.Digest, again.Digest)
			}

			b := openStore(t)
			src, err := c.ImportCache(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			if src.Len() != 3 || src.Dropped() != 0 {
				t.Fatalf("imported %d entries (%d dropped), want 3", src.Len(), src.Dropped())
			}
			var rec recorder
			rc := NewRemoteCache(ctx, rec.fn(), src)
			b.SetFetcher(rc, rc.Descriptor)
			for _, r := range records {
				e, ok := rc.Lookup(ctx, r.Key)
				if !ok || e.CreatedBy != r.CreatedBy || e.DiffID != r.DiffID {
					t.Fatalf("Lookup(%s) = %+v, %v", r.Key, e, ok)
				}
				if r.Layer != nil && (e.Layer == nil || e.Layer.Digest != r.Layer.Digest || !b.CanGet(r.Layer.Digest) || b.HasBlob(r.Layer.Digest)) {
					t.Errorf("layer of %s: %+v, CanGet %v, HasBlob %v", r.Key, e.Layer, b.CanGet(r.Layer.Digest), b.HasBlob(r.Layer.Digest))
				}
			}
			if _, ok := rc.Lookup(ctx, digest.FromString("other")); ok {
				t.Error("Lookup of an unknown key hit")
			}
			if len(rec.got) != 0 {
				t.Errorf("downloads before any read: %s", &rec)
			}
			want := records[0].Layer
			if _, err := b.ReadBlob(want.Digest); err != nil {
				t.Fatal(err)
			}
			if !b.HasBlob(want.Digest) || b.HasBlob(records[1].Layer.Digest) || rec.count("layer downloaded") != 1 {
				t.Errorf("after reading one layer: stored %v/%v, reports %s", b.HasBlob(want.Digest), b.HasBlob(records[1].Layer.Digest), &rec)
			}
		})
	}
}

// TestCacheImportRefusals: something that is not a cache artifact, or a
// missing one, is an error naming the location.
func TestCacheImportRefusals(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	c := newTestClient(t, Options{})
	s := openStore(t)
	img := writeImage(t, s, "amd64", []string{"a"}, map[string]string{"a": "x"})
	if _, err := c.Push(ctx, s, img.manifest, reg+"/not/cache:1", nil); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		loc  CacheLocation
		want string
	}{
		{CacheLocation{Ref: reg + "/not/cache:1"}, "not a minibuild cache"},
		{CacheLocation{Ref: reg + "/no/such:1"}, "not found"},
		{CacheLocation{Dir: empty}, "not found"},
		{CacheLocation{Dir: filepath.Join(empty, "missing")}, "no such file"},
		{CacheLocation{}, "registry reference or a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.loc.String(), func(t *testing.T) {
			_, err := c.ImportCache(ctx, tt.loc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportCache: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestEncodeCacheEmpty: a cache without layers carries the empty JSON
// descriptor as its one layer, as OCI artifacts without content do.
func TestEncodeCacheEmpty(t *testing.T) {
	art, err := encodeCache([]CacheRecord{{Key: digest.FromString("k"), CreatedBy: "ENV A=1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeCacheManifest(art.mem[art.manifest.Digest])
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != CacheArtifactType || len(m.Layers) != 1 || m.Layers[0].Digest != ocispec.DescriptorEmptyJSON.Digest {
		t.Errorf("manifest %+v", m)
	}
	if _, err := encodeCache([]CacheRecord{{Key: "sha256:bad"}}, nil); err == nil {
		t.Error("an invalid key was encoded")
	}
}
