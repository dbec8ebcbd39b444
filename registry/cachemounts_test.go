package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// mountRecord stores a layer of one file and returns a cache mount
// record of it for id.
func mountRecord(t *testing.T, s interface {
	WriteBlob(string, []byte) (ocispec.Descriptor, error)
}, id, content string) CacheMountRecord {
	t.Helper()
	data, diffID := storetest.Layer(t, "f", content)
	desc, err := s.WriteBlob(ocispec.MediaTypeImageLayerGzip, data)
	if err != nil {
		t.Fatal(err)
	}
	return CacheMountRecord{ID: id, Layer: desc, DiffID: diffID}
}

// TestCacheMountsRoundTrip: cache mount records exported to a registry or
// a directory come back from Mount after import, their layers listed and
// fetchable through the remote cache but downloaded only when read.
func TestCacheMountsRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	c := newTestClient(t, Options{})
	for _, loc := range []CacheLocation{
		{Ref: reg + "/cache/mounts:main"},
		{Dir: filepath.Join(t.TempDir(), "cachedir")},
	} {
		t.Run(loc.String(), func(t *testing.T) {
			a := openStore(t)
			records := cacheRecords(t, a)
			mounts := []CacheMountRecord{mountRecord(t, a, "/root/.cache/go-build", "go"), mountRecord(t, a, "apt", "debs")}
			first, err := c.ExportCache(ctx, a, records, mounts, loc, nil)
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.ExportCache(ctx, a, records, []CacheMountRecord{mounts[1], mounts[0]}, loc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if first.Digest != again.Digest {
				t.Errorf("exporting the same mounts gave %s then %s", first.Digest, again.Digest)
			}
			src, err := c.ImportCache(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			if src.Len() != 3 || src.Mounts() != 2 || src.Dropped() != 0 {
				t.Fatalf("imported %d entries, %d mounts (%d dropped), want 3 and 2", src.Len(), src.Mounts(), src.Dropped())
			}
			b := openStore(t)
			var rec recorder
			rc := NewRemoteCache(ctx, rec.fn(), src)
			b.SetFetcher(rc, rc.Descriptor)
			for _, want := range mounts {
				got, ok := rc.Mount(want.ID)
				if !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("Mount(%q) = %+v, %v; want %+v", want.ID, got, ok, want)
				}
				if !b.CanGet(want.Layer.Digest) || b.HasBlob(want.Layer.Digest) {
					t.Errorf("mount %q: CanGet %v, HasBlob %v before any read", want.ID, b.CanGet(want.Layer.Digest), b.HasBlob(want.Layer.Digest))
				}
			}
			if _, ok := rc.Mount("other"); ok {
				t.Error("Mount of an unknown id hit")
			}
			if len(rec.got) != 0 {
				t.Errorf("downloads before any read: %s", &rec)
			}
			r, err := rc.Fetch(ctx, mounts[1].Layer)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(r)
			r.Close()
			if err != nil || digest.FromBytes(data) != mounts[1].Layer.Digest || rec.count("layer downloaded") != 1 {
				t.Errorf("fetching the mount's layer: %v, digest %s, reports %s", err, digest.FromBytes(data), &rec)
			}
		})
	}
}

// TestEncodeCacheMounts: the encoding is deterministic and sorted, one
// record per id and each layer listed once; without mounts the config has
// no "mounts" key at all, as before they existed.
func TestEncodeCacheMounts(t *testing.T) {
	s := openStore(t)
	records := cacheRecords(t, s)
	go1, apt := mountRecord(t, s, "go", "go"), mountRecord(t, s, "apt", "debs")
	// A mount whose tree is an entry's layer: listed once.
	shared := CacheMountRecord{ID: "same", Layer: *records[0].Layer, DiffID: records[0].DiffID}
	art, err := encodeCache(records, []CacheMountRecord{go1, apt, shared, go1})
	if err != nil {
		t.Fatal(err)
	}
	again, err := encodeCache(records, []CacheMountRecord{shared, apt, go1})
	if err != nil {
		t.Fatal(err)
	}
	if art.manifest.Digest != again.manifest.Digest {
		t.Errorf("the same mounts in another order gave %s and %s", art.manifest.Digest, again.manifest.Digest)
	}
	m, err := decodeCacheManifest(art.mem[art.manifest.Digest])
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, l := range m.Layers {
		digests = append(digests, l.Digest.String())
	}
	if len(digests) != 4 || !sortedUnique(digests) {
		t.Errorf("manifest layers %v: want the 4 distinct layers, sorted", digests)
	}
	var cfg CacheConfig
	if err := json.Unmarshal(art.mem[m.Config.Digest], &cfg); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, mr := range cfg.Mounts {
		ids = append(ids, mr.ID)
	}
	if !reflect.DeepEqual(ids, []string{"apt", "go", "same"}) {
		t.Errorf("mount ids %v, want apt, go, same", ids)
	}
	_, mounts, dropped, err := decodeCacheConfig(art.mem[m.Config.Digest], m)
	if err != nil || dropped != 0 || !reflect.DeepEqual(mounts, cfg.Mounts) {
		t.Errorf("decoding: %v, %d dropped, %+v", err, dropped, mounts)
	}

	plainArt, err := encodeCache(records, nil)
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := decodeCacheManifest(plainArt.mem[plainArt.manifest.Digest])
	if bytes.Contains(plainArt.mem[pm.Config.Digest], []byte(`"mounts"`)) {
		t.Errorf("a config without mounts names them: %s", plainArt.mem[pm.Config.Digest])
	}
}

func sortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

// TestCacheMountRefusals: encoding refuses an invalid mount record;
// decoding a hostile config drops each invalid one and keeps the rest.
func TestCacheMountRefusals(t *testing.T) {
	s := openStore(t)
	good := mountRecord(t, s, "good", "x")
	other := mountRecord(t, s, "other", "y")
	tests := []struct {
		name string
		edit func(*CacheMountRecord)
		want string
	}{
		{"empty id", func(m *CacheMountRecord) { m.ID = "" }, "empty id"},
		{"long id", func(m *CacheMountRecord) { m.ID = strings.Repeat("a", maxMountIDBytes+1) }, "too long"},
		{"not UTF-8", func(m *CacheMountRecord) { m.ID = "a\xffb" }, "not valid UTF-8"},
		{"NUL", func(m *CacheMountRecord) { m.ID = "a\x00b" }, "not valid UTF-8"},
		{"bad layer digest", func(m *CacheMountRecord) { m.Layer.Digest = "sha256:../../etc" }, "layer: invalid digest"},
		{"sha512 layer", func(m *CacheMountRecord) { m.Layer.Digest = digest.SHA512.FromString("x") }, "only sha256"},
		{"negative size", func(m *CacheMountRecord) { m.Layer.Size = -1 }, "invalid size"},
		{"no media type", func(m *CacheMountRecord) { m.Layer.MediaType = "" }, "invalid size or media type"},
		{"bad diffID", func(m *CacheMountRecord) { m.DiffID = "md5:x" }, "diffID"},
		{"no diffID", func(m *CacheMountRecord) { m.DiffID = "" }, "diffID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := good
			tt.edit(&bad)
			_, err := encodeCache(nil, []CacheMountRecord{other, bad})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("encodeCache: %v, want an error containing %q", err, tt.want)
			}
		})
	}

	// A hand-made config: the manifest lists good's and other's layers.
	art, err := encodeCache(nil, []CacheMountRecord{good, other})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := decodeCacheManifest(art.mem[art.manifest.Digest])
	unlisted := mountRecord(t, s, "unlisted", "z")
	resized := other
	resized.ID, resized.Layer.Size = "resized", other.Layer.Size+1
	cfg := CacheConfig{SchemaVersion: cacheSchemaVersion, Entries: []CacheRecord{}, Mounts: []CacheMountRecord{good}}
	for _, tt := range tests {
		if tt.name == "not UTF-8" {
			continue // JSON cannot carry it: it decodes as U+FFFD
		}
		bad := other
		bad.ID = "bad " + tt.name
		tt.edit(&bad)
		cfg.Mounts = append(cfg.Mounts, bad)
	}
	dup := other
	dup.ID = "good"
	cfg.Mounts = append(cfg.Mounts, unlisted, resized, dup)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, mounts, dropped, err := decodeCacheConfig(data, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 || !reflect.DeepEqual(mounts[0], good) || dropped != len(cfg.Mounts)-1 {
		t.Errorf("kept %+v, dropped %d of %d: want only the first %q", mounts, dropped, len(cfg.Mounts), good.ID)
	}
}
